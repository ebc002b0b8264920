//! The browser's answers to passkey ceremonies (WebAuthn Level 3 §7.1,
//! §7.2), as Gatehouse reads them from the sign-in and account forms:
//! arbitrary text as the answer's JSON, and arbitrary bytes as the CBOR
//! attestation object behind genuine client data for a live registration.
//! Never a panic, and nothing arbitrary registers.

#![no_main]

use gatehouse::crypto::b64url;
use gatehouse::crypto::passkey::relying_party;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use webauthn_rs::prelude::{
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid, Webauthn,
};

const ISSUER: &str = "https://id.example.com";

struct Fixture {
    rp: Webauthn,
    registration: PasskeyRegistration,
    client_data: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let rp = relying_party(ISSUER, "Fuzz").unwrap();
        let (options, registration) = rp
            .start_passkey_registration(Uuid::nil(), "fuzz", "Fuzz", None)
            .unwrap();
        let options = serde_json::to_value(options).unwrap();
        let client_data = serde_json::json!({
            "type": "webauthn.create",
            "challenge": options["publicKey"]["challenge"],
            "origin": ISSUER,
        })
        .to_string();
        Fixture {
            rp,
            registration,
            client_data: b64url(client_data.as_bytes()),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(answer) = serde_json::from_str::<RegisterPublicKeyCredential>(text) {
            assert!(f
                .rp
                .finish_passkey_registration(&answer, &f.registration)
                .is_err());
        }
        if let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(text) {
            let _ = f.rp.identify_discoverable_authentication(&answer);
        }
    }
    let answer = serde_json::json!({
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": { "attestationObject": b64url(data), "clientDataJSON": f.client_data },
    });
    let answer: RegisterPublicKeyCredential = serde_json::from_value(answer).unwrap();
    assert!(
        f.rp.finish_passkey_registration(&answer, &f.registration)
            .is_err(),
        "arbitrary bytes registered a passkey"
    );
});
