//! JWTs signed "almost right", and JWTs addressed to someone else, at
//! every endpoint that reads one: userinfo, introspection, revocation,
//! logout's `id_token_hint` and the admin API (see `admin`).

use super::*;
use base64::Engine;
use gatehouse::clock::Clock;
use serde_json::json;

/// JWTs that must all be refused: every one is signed "almost right".
fn hostile_tokens(app: &TestApp) -> Vec<(&'static str, String)> {
    let keys = app.provider.loaded_keys().expect("the keys are in");
    let now = app.clock.now();
    let good_claims = json!({
        "iss": app.address, "sub": "u", "aud": CONFIDENTIAL, "client_id": CONFIDENTIAL,
        "exp": now + 600, "iat": now, "jti": "j1", "scope": "openid",
    });
    let sign = |typ: &str, claims: &Value| {
        gatehouse::crypto::jwt::sign(&keys.signing, typ, claims).unwrap()
    };
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let mut expired = good_claims.clone();
    expired["exp"] = json!(now - 10);
    let mut wrong_iss = good_claims.clone();
    wrong_iss["iss"] = json!("https://evil.example");
    let valid = sign("at+jwt", &good_claims);
    let parts: Vec<&str> = valid.split('.').collect();
    let mut tampered_claims = good_claims.clone();
    tampered_claims["sub"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "at+jwt", "kid": keys.signing.kid})),
        b64(&good_claims)
    );
    // HS256 keyed with the public key's modulus, the classic confusion.
    let jwk = keys.verifying_key(&keys.signing.kid).unwrap().jwk.clone();
    let public = jwk["n"].as_str().unwrap().as_bytes().to_vec();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(keys.signing.kid.clone());
    let hs256 = jsonwebtoken::encode(
        &header,
        &good_claims,
        &jsonwebtoken::EncodingKey::from_secret(&public),
    )
    .unwrap();
    let other = gatehouse::crypto::key_set::generate("ES256").unwrap();
    let foreign_key = gatehouse::crypto::key_set::SigningKey::from_pkcs8_base64(
        &other.kid,
        "ES256",
        &other.private_key,
    )
    .unwrap();
    let unknown_kid = gatehouse::crypto::jwt::sign(&foreign_key, "at+jwt", &good_claims).unwrap();
    vec![
        ("expired", sign("at+jwt", &expired)),
        ("wrong issuer", sign("at+jwt", &wrong_iss)),
        ("wrong typ", sign("JWT", &good_claims)),
        ("tampered payload", tampered),
        ("alg none", none),
        ("HS256 with the public key", hs256),
        ("unknown kid", unknown_kid),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
        ("not base64", "@@@.###.$$$".to_string()),
    ]
}

/// An ID token for `aud`, signed by the server's own key.
fn id_token_for(app: &TestApp, aud: &str) -> String {
    let now = app.clock.now();
    let claims = json!({
        "iss": app.address, "sub": "someone", "aud": aud,
        "exp": now + 600, "iat": now,
    });
    gatehouse::crypto::jwt::sign(
        &app.provider.loaded_keys().expect("the keys are in").signing,
        "JWT",
        &claims,
    )
    .unwrap()
}

#[tokio::test]
async fn hostile_jwts_are_refused_at_every_endpoint_that_reads_one() {
    let app = spawn_app().await;
    for (name, token) in hostile_tokens(&app) {
        let info = app.userinfo(&token).await;
        assert_eq!(
            info.status(),
            reqwest::StatusCode::UNAUTHORIZED,
            "userinfo: {name}"
        );
        let body: Value = info.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token", "userinfo: {name}");
        let introspected = app.introspect(&token, WEBAPP).await;
        assert_eq!(
            introspected,
            json!({"active": false}),
            "introspection: {name}"
        );
        // RFC 7009 §2.2: an invalid token is no error to revoke.
        let revoked = app
            .back_channel("/revoke", &[("token", token.as_str())], WEBAPP)
            .await;
        assert_eq!(
            revoked.status(),
            reqwest::StatusCode::OK,
            "revocation: {name}"
        );
        let logout = app
            .api
            .get(app.url("/end_session"))
            .query(&[("id_token_hint", token.as_str())])
            .send()
            .await
            .unwrap();
        assert!(
            logout.headers().get("location").is_none(),
            "end_session redirected for {name}"
        );
        // An access token (`typ: at+jwt`) is no ID token, whatever else is
        // wrong with it. Signed as a plain JWT by our key, the one with the
        // wrong typ is a good hint for webapp, and nobody is signed in here.
        let (status, marker) = match name {
            "wrong typ" => (200, "You are signed out"),
            _ => (400, "This sign-out request cannot be trusted"),
        };
        assert_eq!(logout.status().as_u16(), status, "end_session: {name}");
        assert!(
            logout.text().await.unwrap().contains(marker),
            "end_session: {name}"
        );
    }
}

#[tokio::test]
async fn tokens_addressed_to_someone_else_are_refused() {
    let app = spawn_app().await;
    let back = "post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2F";
    let for_webapp = id_token_for(&app, CONFIDENTIAL);
    let for_nobody = id_token_for(&app, "nobody");
    #[rustfmt::skip]
    let cases = vec![
        get(format!("/end_session?id_token_hint={for_webapp}&client_id=spa")).named("hint for another client").then(Expect::Page(400, "names two different applications")),
        get(format!("/end_session?id_token_hint={for_nobody}")).named("hint for an unknown client").then(Expect::Page(400, "is not registered")),
        get(format!("/end_session?id_token_hint={for_nobody}&{back}")).named("hint for an unknown client, with a way back").then(Expect::Page(400, "is not registered")),
        // The same token, addressed right, is a good hint.
        get(format!("/end_session?id_token_hint={for_webapp}&{back}&state=s1")).named("hint for the client").then(Expect::Redirect(302, "http://127.0.0.1:9999/?state=s1")),
    ];
    run(&app, &anonymous(), None, cases).await;
    // Another client's access token: introspection by webapp says nothing.
    let spa_token = {
        let now = app.clock.now();
        let claims = json!({
            "iss": app.address, "sub": "spa", "aud": "spa", "client_id": "spa",
            "exp": now + 600, "iat": now, "jti": "other-client", "scope": "openid",
        });
        gatehouse::crypto::jwt::sign(
            &app.provider.loaded_keys().expect("the keys are in").signing,
            "at+jwt",
            &claims,
        )
        .unwrap()
    };
    assert_eq!(
        app.introspect(&spa_token, WEBAPP).await,
        json!({"active": false})
    );
}
