//! What an upstream provider sends back, as Gatehouse reads it: arbitrary
//! text as its discovery document (OpenID Connect Discovery 1.0 §4), as the
//! claims of an ID token or a userinfo answer checked against a trip
//! (OpenID Connect Core §3.1.3.7) and read by a claim mapping, and as the
//! header of an ID token. Never a panic; a document that does not name the
//! configured issuer never yields endpoints.

#![no_main]

use gatehouse::model::ClaimMapping;
use gatehouse::upstream_client::discovery;
use gatehouse::upstream_client::id_token::{check_claims, Expected};
use gatehouse::upstream_client::identity::identity;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const ISSUER: &str = "https://idp.example.com";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = jsonwebtoken::decode_header(text);
    let Ok(json) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if let Ok(endpoints) = discovery::parse(ISSUER, &json) {
        assert_eq!(json["issuer"], ISSUER, "endpoints only for the configured issuer");
        assert_eq!(endpoints.issuer.as_deref(), Some(ISSUER));
    }
    if let Value::Object(claims) = &json {
        let expected = Expected {
            client_id: "gatehouse",
            nonce: "n-0123456789",
            now: 1_700_000_000,
            auth_after: Some((1_699_999_000, true)),
        };
        if check_claims(claims, Some(ISSUER), &expected).is_ok() {
            assert_eq!(claims["nonce"], "n-0123456789");
            assert!(claims["auth_time"].is_i64(), "a fresh sign-in asked for shows its time");
        }
        let mapping = ClaimMapping {
            username: "user.login".into(),
            ..ClaimMapping::standard()
        };
        let _ = identity(claims, &mapping);
        let _ = identity(claims, &ClaimMapping::standard());
    }
});
