//! A software WebAuthn authenticator, as a browser and a platform
//! authenticator would answer together (W3C Web Authentication Level 3):
//! one ES256 (P-256) credential, `none` attestation, user presence and
//! verification always given, a signature counter that grows by one each
//! time, and the user handle it was registered with.
//!
//! The CBOR is written by hand, with the few shapes WebAuthn needs: the
//! attestation object (§6.5) and the credential's COSE_Key (RFC 9053 §7.1.1).
//! Everything binary goes out as base64url without padding, as browsers'
//! `toJSON()` sends it.

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

/// Authenticator data flags (§6.1).
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const BACKUP_ELIGIBLE: u8 = 0x08;
const ATTESTED_CREDENTIAL: u8 = 0x40;

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn from_b64url(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_else(|e| panic!("{text:?} is not base64url: {e}"))
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    digest(&SHA256, bytes).as_ref().to_vec()
}

/// A CBOR head: major type and argument (RFC 8949 §3), shortest form.
fn cbor_head(out: &mut Vec<u8>, major: u8, argument: usize) {
    let major = major << 5;
    match argument {
        0..=23 => out.push(major | argument as u8),
        24..=0xff => out.extend([major | 24, argument as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((argument as u16).to_be_bytes());
        }
        _ => {
            out.push(major | 26);
            out.extend((argument as u32).to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, value: i64) {
    if value >= 0 {
        cbor_head(out, 0, value as usize);
    } else {
        cbor_head(out, 1, (-1 - value) as usize);
    }
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, 2, bytes.len());
    out.extend_from_slice(bytes);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 3, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn cbor_map(out: &mut Vec<u8>, entries: usize) {
    cbor_head(out, 5, entries);
}

/// The COSE_Key of a P-256 public key given as an uncompressed point
/// (`04 || x || y`): kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
pub fn cose_key(point: &[u8]) -> Vec<u8> {
    assert_eq!(point.len(), 65, "an uncompressed P-256 point");
    assert_eq!(point[0], 0x04, "an uncompressed P-256 point");
    let mut out = Vec::new();
    cbor_map(&mut out, 5);
    cbor_int(&mut out, 1);
    cbor_int(&mut out, 2);
    cbor_int(&mut out, 3);
    cbor_int(&mut out, -7);
    cbor_int(&mut out, -1);
    cbor_int(&mut out, 1);
    cbor_int(&mut out, -2);
    cbor_bytes(&mut out, &point[1..33]);
    cbor_int(&mut out, -3);
    cbor_bytes(&mut out, &point[33..]);
    out
}

/// The attestation object of `none` attestation (§8.7):
/// `{"fmt": "none", "attStmt": {}, "authData": …}`.
pub fn none_attestation(auth_data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    cbor_map(&mut out, 3);
    cbor_text(&mut out, "fmt");
    cbor_text(&mut out, "none");
    cbor_text(&mut out, "attStmt");
    cbor_map(&mut out, 0);
    cbor_text(&mut out, "authData");
    cbor_bytes(&mut out, auth_data);
    out
}

/// One credential on a software authenticator.
pub struct Authenticator {
    /// The private key, PKCS#8: a copy of the authenticator (see
    /// [`Authenticator::copy`]) holds the same key.
    pkcs8: Vec<u8>,
    credential_id: Vec<u8>,
    /// The signature counter last used; the next answer uses one more.
    counter: u32,
    /// Whether the credential says it may be backed up (a synced passkey).
    backup_eligible: bool,
    /// The user handle the relying party gave at registration.
    user_handle: Option<Vec<u8>>,
    /// Whether the authenticator tests presence only, without verifying
    /// its user (flag UV clear): no PIN, no biometric.
    pub presence_only: bool,
    /// The origin the "browser" puts in clientDataJSON.
    pub origin: String,
    /// The RP ID whose hash the authenticator puts in authenticator data.
    pub rp_id: String,
}

impl Authenticator {
    /// A new credential for pages served from `origin`
    /// (`http://localhost:PORT`), whose host is the RP ID.
    pub fn new(origin: &str) -> Authenticator {
        let url = url::Url::parse(origin).expect("an origin");
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
                .expect("a P-256 key")
                .as_ref()
                .to_vec();
        Authenticator {
            pkcs8,
            credential_id: uuid::Uuid::new_v4().as_bytes().to_vec(),
            counter: 0,
            backup_eligible: false,
            user_handle: None,
            presence_only: false,
            origin: origin.trim_end_matches('/').to_string(),
            rp_id: url.host_str().expect("a host").to_string(),
        }
    }

    /// The same, with a credential that may be backed up (flag BE): a
    /// synced passkey.
    pub fn synced(origin: &str) -> Authenticator {
        Authenticator {
            backup_eligible: true,
            ..Authenticator::new(origin)
        }
    }

    /// A clone of the authenticator: the same key, id, user handle and
    /// counter, which from now on count apart.
    pub fn copy(&self) -> Authenticator {
        Authenticator {
            pkcs8: self.pkcs8.clone(),
            credential_id: self.credential_id.clone(),
            counter: self.counter,
            backup_eligible: self.backup_eligible,
            user_handle: self.user_handle.clone(),
            presence_only: self.presence_only,
            origin: self.origin.clone(),
            rp_id: self.rp_id.clone(),
        }
    }

    /// The credential id, base64url.
    pub fn credential_id(&self) -> String {
        b64url(&self.credential_id)
    }

    /// The signature counter last used.
    pub fn counter(&self) -> u32 {
        self.counter
    }

    /// Sets the counter last used (the next answer uses one more): back,
    /// to act as a copy that fell behind.
    pub fn set_counter(&mut self, counter: u32) {
        self.counter = counter;
    }

    /// The user handle given at registration, base64url.
    pub fn user_handle(&self) -> Option<String> {
        self.user_handle.as_deref().map(b64url)
    }

    fn key(&self) -> EcdsaKeyPair {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.pkcs8).expect("our own key")
    }

    fn flags(&self) -> u8 {
        let flags = if self.presence_only {
            USER_PRESENT
        } else {
            USER_PRESENT | USER_VERIFIED
        };
        if self.backup_eligible {
            flags | BACKUP_ELIGIBLE
        } else {
            flags
        }
    }

    /// rpIdHash, flags and the counter (§6.1).
    fn auth_data_head(&self, flags: u8) -> Vec<u8> {
        let mut data = sha256(self.rp_id.as_bytes());
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        data
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    /// The answer to `navigator.credentials.create(options)`, where
    /// `options` is the server's `{"publicKey": …}`: a
    /// RegisterPublicKeyCredential as JSON. Keeps the user handle.
    pub fn register(&mut self, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        let challenge = public_key["challenge"]
            .as_str()
            .unwrap_or_else(|| panic!("creation options with a challenge: {options}"));
        let handle = public_key["user"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("creation options with a user id: {options}"));
        self.user_handle = Some(from_b64url(handle));

        let mut auth_data = self.auth_data_head(self.flags() | ATTESTED_CREDENTIAL);
        auth_data.extend([0u8; 16]); // AAGUID: none to tell
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(cose_key(self.key().public_key().as_ref()));

        let client_data = self.client_data("webauthn.create", challenge);
        let id = self.credential_id();
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "attestationObject": b64url(&none_attestation(&auth_data)),
                "clientDataJSON": b64url(&client_data),
            },
            "extensions": {},
        })
    }

    /// The answer to `navigator.credentials.get(options)`, where `options`
    /// is the server's `{"publicKey": …}`: a PublicKeyCredential as JSON,
    /// signed with the next counter value.
    pub fn sign(&mut self, options: &Value) -> Value {
        let challenge = options["publicKey"]["challenge"]
            .as_str()
            .unwrap_or_else(|| panic!("request options with a challenge: {options}"));
        self.counter += 1;
        let auth_data = self.auth_data_head(self.flags());
        let client_data = self.client_data("webauthn.get", challenge);
        let mut signed = auth_data.clone();
        signed.extend(sha256(&client_data));
        let signature = self
            .key()
            .sign(&SystemRandom::new(), &signed)
            .expect("a signature");
        let id = self.credential_id();
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "authenticatorData": b64url(&auth_data),
                "clientDataJSON": b64url(&client_data),
                "signature": b64url(signature.as_ref()),
                "userHandle": self.user_handle(),
            },
            "extensions": {},
        })
    }
}
