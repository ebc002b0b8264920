//! JWT verification, as access tokens (`at+jwt`, at userinfo, introspection
//! and revocation) and as `id_token_hint`s (expired ones accepted), on
//! arbitrary text and on mutations of a genuine token: never a panic, and
//! nothing but the genuine token verifies.

#![no_main]

use gatehouse::crypto::jwt::{self, Expect};
use gatehouse::crypto::key_set::{self, KeySet, SigningKey};
use gatehouse::model::{AccessClaims, IdClaims};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const ISSUER: &str = "https://id.example.com";

struct Fixture {
    keys: KeySet,
    genuine: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let generated = key_set::generate_p256().unwrap();
        let signing =
            SigningKey::from_pkcs8_base64(&generated.kid, "ES256", &generated.private_key).unwrap();
        let claims = AccessClaims {
            iss: ISSUER.into(),
            sub: "user".into(),
            aud: "app".into(),
            exp: 2_000_000_000,
            iat: 1_700_000_000,
            jti: "jti".into(),
            client_id: "app".into(),
            scope: "openid".into(),
            auth_time: None,
            grant_id: None,
            groups: Some(vec!["staff".into()]),
            roles: None,
        };
        let genuine = jwt::sign(&signing, "at+jwt", &claims).unwrap();
        let keys = KeySet::new(signing, &[generated.public_jwk]).unwrap();
        Fixture { keys, genuine }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let access = Expect {
        typ: "at+jwt",
        issuer: ISSUER,
        audience: None,
        allow_expired: false,
        now: 1_800_000_000,
    };
    let hint = Expect {
        typ: "JWT",
        issuer: ISSUER,
        audience: None,
        allow_expired: true,
        now: 1_800_000_000,
    };
    let text = String::from_utf8_lossy(data);
    let _ = jwt::verify::<AccessClaims>(&f.keys, &text, &access);
    let _ = jwt::verify::<IdClaims>(&f.keys, &text, &hint);
    // The genuine token with the input spliced in somewhere: only the
    // unchanged token may verify.
    if !data.is_empty() {
        let mut mutated = f.genuine.clone().into_bytes();
        let at = data[0] as usize % mutated.len();
        mutated.splice(at..(at + 1).min(mutated.len()), data[1..].iter().copied());
        let mutated = String::from_utf8_lossy(&mutated).into_owned();
        if mutated != f.genuine {
            assert!(jwt::verify::<AccessClaims>(&f.keys, &mutated, &access).is_err());
        }
    }
});
