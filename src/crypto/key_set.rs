//! Signing keys and the JWK Set (RFC 7517, RFC 7518 §6), `kid` = RFC 7638
//! thumbprint. RS256 is the default; ES256 (P-256) is available, and EdDSA
//! with Ed25519 as an `OKP` key (RFC 8037).
//!
//! Keys are generated, signed with (the key parsed once at load time) and
//! exported through aws-lc-rs. The `rsa` crate is not used at all: its
//! private-key operations carry an unpatched timing advisory
//! (RUSTSEC-2023-0071), and aws-lc generates an RSA-2048 key in about a third
//! of the time (24–167 ms against 112–330 ms on this project's test machine),
//! which is most of a first start.

use super::b64url;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Why a key could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Key generation failed.
    #[error("cannot generate a signing key: {0}")]
    Generate(String),
    /// A stored key could not be parsed.
    #[error("stored signing key {kid} is unusable: {reason}")]
    Unusable {
        /// Which key.
        kid: String,
        /// Why.
        reason: String,
    },
    /// Signing failed.
    #[error("signing failed")]
    Sign,
}

/// A freshly generated key, ready to be stored.
pub struct GeneratedKey {
    /// RFC 7638 thumbprint.
    pub kid: String,
    /// PKCS#8 DER, base64 (standard alphabet).
    pub private_key: String,
    /// Public JWK.
    pub public_jwk: Value,
}

/// Generates an RSA-2048 key pair.
pub fn generate_rsa() -> Result<GeneratedKey, KeyError> {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::KeyPair as _;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let der = pair
        .as_der()
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let public = pair.public_key();
    let n = b64url(public.modulus().big_endian_without_leading_zero());
    let e = b64url(public.exponent().big_endian_without_leading_zero());
    let kid = rsa_thumbprint(&n, &e);
    let public_jwk = json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e,
    });
    Ok(GeneratedKey {
        kid,
        private_key: STANDARD.encode(der.as_ref()),
        public_jwk,
    })
}

/// Generates a P-256 key pair for ES256.
pub fn generate_p256() -> Result<GeneratedKey, KeyError> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    // Uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
    let point = pair.public_key().as_ref();
    if point.len() != 65 || point[0] != 4 {
        return Err(KeyError::Generate(
            "unexpected P-256 public key encoding".into(),
        ));
    }
    let (x, y) = (b64url(&point[1..33]), b64url(&point[33..65]));
    let kid = ec_thumbprint(&x, &y);
    let public_jwk = json!({
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid, "x": x, "y": y,
    });
    Ok(GeneratedKey {
        kid,
        private_key: STANDARD.encode(pkcs8.as_ref()),
        public_jwk,
    })
}

/// Generates an Ed25519 key pair for EdDSA (RFC 8037 §2: an `OKP` JWK with
/// `crv` `Ed25519` and the 32-byte public key as `x`).
pub fn generate_ed25519() -> Result<GeneratedKey, KeyError> {
    let rng = SystemRandom::new();
    let pkcs8 =
        Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| KeyError::Generate(e.to_string()))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    let x = b64url(pair.public_key().as_ref());
    let kid = okp_thumbprint(&x);
    let public_jwk = json!({
        "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid, "x": x,
    });
    Ok(GeneratedKey {
        kid,
        private_key: STANDARD.encode(pkcs8.as_ref()),
        public_jwk,
    })
}

/// Generates a key for `alg` (`RS256`, `ES256` or `EdDSA`).
pub fn generate(alg: &str) -> Result<GeneratedKey, KeyError> {
    match alg {
        "RS256" => generate_rsa(),
        "ES256" => generate_p256(),
        "EdDSA" => generate_ed25519(),
        other => Err(KeyError::Generate(format!("unsupported algorithm {other}"))),
    }
}

/// RFC 7638 §3.2 for an EC key: `crv`, `kty`, `x`, `y` in that order.
pub fn ec_thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    b64url(&Sha256::digest(canonical.as_bytes()))
}

/// RFC 7638 §3.2 for an Ed25519 key (RFC 8037 §2): `crv`, `kty`, `x`.
pub fn okp_thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    b64url(&Sha256::digest(canonical.as_bytes()))
}

/// RFC 7638 §3: SHA-256 over the required members in lexicographic order.
pub fn rsa_thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    b64url(&Sha256::digest(canonical.as_bytes()))
}

/// A key ready to sign: parsed once, used for every token.
pub struct SigningKey {
    /// Key id placed in JWT headers.
    pub kid: String,
    /// JWS algorithm.
    pub alg: &'static str,
    pair: Pair,
    rng: SystemRandom,
}

enum Pair {
    Rsa(RsaKeyPair),
    P256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses a stored PKCS#8 key for `alg` (`RS256`, `ES256` or `EdDSA`).
    pub fn from_pkcs8_base64(
        kid: &str,
        alg: &str,
        private_key: &str,
    ) -> Result<SigningKey, KeyError> {
        let unusable = |reason: String| KeyError::Unusable {
            kid: kid.to_string(),
            reason,
        };
        let der = STANDARD
            .decode(private_key)
            .map_err(|e| unusable(e.to_string()))?;
        let (alg, pair) = match alg {
            "RS256" => (
                "RS256",
                Pair::Rsa(RsaKeyPair::from_pkcs8(&der).map_err(|e| unusable(e.to_string()))?),
            ),
            "ES256" => (
                "ES256",
                Pair::P256(
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                        .map_err(|e| unusable(e.to_string()))?,
                ),
            ),
            "EdDSA" => (
                "EdDSA",
                Pair::Ed25519(
                    Ed25519KeyPair::from_pkcs8(&der).map_err(|e| unusable(e.to_string()))?,
                ),
            ),
            other => return Err(unusable(format!("unsupported algorithm {other}"))),
        };
        Ok(SigningKey {
            kid: kid.to_string(),
            alg,
            pair,
            rng: SystemRandom::new(),
        })
    }

    /// The JWS signature over `message`: RSASSA-PKCS1-v1_5 with SHA-256 for
    /// RS256, ECDSA P-256 with SHA-256 as R || S (RFC 7518 §3.4) for ES256,
    /// or the 64-byte Ed25519 signature (RFC 8037 §3.1) for EdDSA.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
                    .map_err(|_| KeyError::Sign)?;
                Ok(signature)
            }
            Pair::P256(pair) => pair
                .sign(&self.rng, message)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| KeyError::Sign),
            Pair::Ed25519(pair) => pair
                .try_sign(message)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| KeyError::Sign),
        }
    }
}

/// A public key that tokens may be verified with.
#[derive(Clone)]
pub struct VerifyingKey {
    /// Key id.
    pub kid: String,
    /// The algorithm the key signs with.
    pub algorithm: jsonwebtoken::Algorithm,
    /// For jsonwebtoken's validation.
    pub decoding: jsonwebtoken::DecodingKey,
    /// As published in the JWKS.
    pub jwk: Value,
}

/// The keys in force: the current key of each algorithm signs, every
/// published key verifies.
#[derive(Clone)]
pub struct KeySet {
    /// The key that signs by default: the current key of the primary
    /// algorithm (ID tokens, and access tokens without an API audience).
    pub signing: Arc<SigningKey>,
    /// Every published key (current, next and retired), for verification.
    pub verifying: Vec<VerifyingKey>,
    /// The JWKS document, serialised once.
    pub jwks_json: Arc<String>,
    /// The current key of each algorithm, `signing` first.
    signers: Vec<Arc<SigningKey>>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let signers: Vec<&str> = self.signers.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("KeySet")
            .field("signing", &self.signing.kid)
            .field("signers", &signers)
            .field("published", &self.verifying.len())
            // The signing keys' private halves are never printed.
            .finish_non_exhaustive()
    }
}

impl KeySet {
    /// Builds the set from the one key that signs and every published
    /// public JWK.
    pub fn new(signing: SigningKey, published: &[Value]) -> Result<KeySet, KeyError> {
        KeySet::with_signers(signing, Vec::new(), published)
    }

    /// Builds the set from the key that signs by default, the current keys
    /// of the other algorithms (one each; a key whose algorithm already has
    /// one is left out) and every published public JWK.
    pub fn with_signers(
        signing: SigningKey,
        others: Vec<SigningKey>,
        published: &[Value],
    ) -> Result<KeySet, KeyError> {
        let mut verifying = Vec::with_capacity(published.len());
        for jwk in published {
            verifying.push(verifying_key(jwk)?);
        }
        let jwks_json = json!({ "keys": published }).to_string();
        let signing = Arc::new(signing);
        let mut signers = vec![signing.clone()];
        for key in others {
            if signers.iter().all(|k| k.alg != key.alg) {
                signers.push(Arc::new(key));
            }
        }
        Ok(KeySet {
            signing,
            verifying,
            jwks_json: Arc::new(jwks_json),
            signers,
        })
    }

    /// The current key of `alg`, if one is loaded.
    pub fn signer(&self, alg: &str) -> Option<Arc<SigningKey>> {
        self.signers.iter().find(|k| k.alg == alg).cloned()
    }

    /// The current key of each algorithm, the default one first.
    pub fn signers(&self) -> &[Arc<SigningKey>] {
        &self.signers
    }

    /// Finds a verifying key by `kid`.
    pub fn verifying_key(&self, kid: &str) -> Option<&VerifyingKey> {
        self.verifying.iter().find(|k| k.kid == kid)
    }
}

/// Reads a published JWK: RSA for RS256, EC P-256 for ES256, OKP Ed25519
/// for EdDSA (RFC 8037 §2).
fn verifying_key(jwk: &Value) -> Result<VerifyingKey, KeyError> {
    let kid = jwk["kid"].as_str().unwrap_or_default().to_string();
    let unusable = |reason: String| KeyError::Unusable {
        kid: kid.clone(),
        reason,
    };
    let member = |name: &str| {
        jwk[name]
            .as_str()
            .ok_or_else(|| unusable(format!("JWK lacks {name}")))
    };
    let (algorithm, decoding) = match jwk["kty"].as_str() {
        Some("RSA") => (
            jsonwebtoken::Algorithm::RS256,
            jsonwebtoken::DecodingKey::from_rsa_components(member("n")?, member("e")?)
                .map_err(|e| unusable(e.to_string()))?,
        ),
        Some("EC") => (
            jsonwebtoken::Algorithm::ES256,
            jsonwebtoken::DecodingKey::from_ec_components(member("x")?, member("y")?)
                .map_err(|e| unusable(e.to_string()))?,
        ),
        Some("OKP") if jwk["crv"] == "Ed25519" => (
            jsonwebtoken::Algorithm::EdDSA,
            jsonwebtoken::DecodingKey::from_ed_components(member("x")?)
                .map_err(|e| unusable(e.to_string()))?,
        ),
        _ => return Err(unusable("unsupported key type".into())),
    };
    Ok(VerifyingKey {
        kid: kid.clone(),
        algorithm,
        decoding,
        jwk: jwk.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        // The example key of RFC 7638 §3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            rsa_thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn rfc8037_example_thumbprint() {
        // The example Ed25519 key of RFC 8037 Appendix A.3.
        assert_eq!(
            okp_thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn generated_key_signs_and_verifies() {
        let generated = generate_rsa().unwrap();
        let key =
            SigningKey::from_pkcs8_base64(&generated.kid, "RS256", &generated.private_key).unwrap();
        let set = KeySet::new(key, std::slice::from_ref(&generated.public_jwk)).unwrap();
        let sig = set.signing.sign(b"hello").unwrap();
        assert_eq!(sig.len(), 256);
        assert_eq!(
            set.verifying_key(&generated.kid).unwrap().kid,
            generated.kid
        );
        assert_eq!(generated.public_jwk["kid"], generated.kid);
    }

    #[test]
    fn p256_keys_sign_with_64_byte_signatures() {
        let generated = generate("ES256").unwrap();
        assert_eq!(generated.public_jwk["crv"], "P-256");
        let key =
            SigningKey::from_pkcs8_base64(&generated.kid, "ES256", &generated.private_key).unwrap();
        assert_eq!(key.alg, "ES256");
        assert_eq!(key.sign(b"hello").unwrap().len(), 64);
        let set = KeySet::new(key, &[generated.public_jwk]).unwrap();
        assert_eq!(
            set.verifying_key(&generated.kid).unwrap().algorithm,
            jsonwebtoken::Algorithm::ES256
        );
    }

    #[test]
    fn ed25519_keys_are_okp_jwks_and_sign_with_64_byte_signatures() {
        let generated = generate("EdDSA").unwrap();
        let jwk = &generated.public_jwk;
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["alg"], "EdDSA");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], generated.kid);
        let x = jwk["x"].as_str().unwrap();
        assert_eq!(x.len(), 43, "32 bytes, base64url without padding");
        assert_eq!(generated.kid, okp_thumbprint(x));
        assert!(
            jwk.get("d").is_none(),
            "the private half is never published"
        );

        let key =
            SigningKey::from_pkcs8_base64(&generated.kid, "EdDSA", &generated.private_key).unwrap();
        assert_eq!(key.alg, "EdDSA");
        assert_eq!(key.sign(b"hello").unwrap().len(), 64);
        let set = KeySet::new(key, std::slice::from_ref(jwk)).unwrap();
        assert_eq!(
            set.verifying_key(&generated.kid).unwrap().algorithm,
            jsonwebtoken::Algorithm::EdDSA
        );
    }

    #[test]
    fn a_key_does_not_load_as_another_algorithm() {
        let generated = generate("EdDSA").unwrap();
        for alg in ["RS256", "ES256"] {
            assert!(
                SigningKey::from_pkcs8_base64(&generated.kid, alg, &generated.private_key).is_err()
            );
        }
        let p256 = generate("ES256").unwrap();
        assert!(SigningKey::from_pkcs8_base64(&p256.kid, "EdDSA", &p256.private_key).is_err());
    }

    #[test]
    fn each_algorithm_has_its_signer_and_the_default_comes_first() {
        let load = |alg: &str| {
            let g = generate(alg).unwrap();
            let key = SigningKey::from_pkcs8_base64(&g.kid, alg, &g.private_key).unwrap();
            (key, g.public_jwk)
        };
        let (rsa, rsa_jwk) = load("RS256");
        let (p256, p256_jwk) = load("ES256");
        let (ed25519, ed25519_jwk) = load("EdDSA");
        let (other_p256, _) = load("ES256");
        let kids = [rsa.kid.clone(), p256.kid.clone(), ed25519.kid.clone()];
        let set = KeySet::with_signers(
            rsa,
            vec![p256, ed25519, other_p256],
            &[rsa_jwk, p256_jwk, ed25519_jwk],
        )
        .unwrap();
        assert_eq!(set.signing.kid, kids[0]);
        let signers: Vec<&str> = set.signers().iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(signers, kids, "one per algorithm, the first of each kept");
        assert_eq!(set.signer("RS256").unwrap().kid, kids[0]);
        assert_eq!(set.signer("ES256").unwrap().kid, kids[1]);
        assert_eq!(set.signer("EdDSA").unwrap().kid, kids[2]);
        assert!(set.signer("PS256").is_none());
        let algorithms: Vec<_> = set.verifying.iter().map(|k| k.algorithm).collect();
        assert_eq!(
            algorithms,
            [
                jsonwebtoken::Algorithm::RS256,
                jsonwebtoken::Algorithm::ES256,
                jsonwebtoken::Algorithm::EdDSA
            ]
        );
    }
}
