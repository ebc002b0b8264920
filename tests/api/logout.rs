//! RP-Initiated Logout 1.0 at the end_session endpoint.

use crate::helpers::*;
use reqwest::StatusCode;

const AFTER_LOGOUT: &str = "http://127.0.0.1:9999/";

async fn signed_in_with_id_token(app: &TestApp) -> String {
    let tokens = app
        .tokens_for(&AuthRequest::confidential(), "alice", ALICE_PASSWORD)
        .await;
    tokens["id_token"].as_str().unwrap().to_string()
}

async fn is_signed_in(app: &TestApp) -> bool {
    let silent = app
        .authorize(&AuthRequest::confidential().with("prompt", "none"))
        .await;
    param(&location_params(&silent), "code").is_some()
}

#[tokio::test]
async fn a_hint_for_this_session_signs_out_and_redirects() {
    let app = spawn_app().await;
    let id_token = signed_in_with_id_token(&app).await;
    assert!(is_signed_in(&app).await);
    let response = app
        .browser
        .get(app.url("/end_session"))
        .query(&[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "bye"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), format!("{AFTER_LOGOUT}?state=bye"));
    assert!(!is_signed_in(&app).await);
}

#[tokio::test]
async fn an_expired_hint_is_accepted_by_post() {
    let app = spawn_app().await;
    let id_token = signed_in_with_id_token(&app).await;
    app.clock.advance(7200);
    let response = app
        .browser
        .post(app.url("/end_session"))
        .form(&[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), AFTER_LOGOUT);
    assert!(!is_signed_in(&app).await);
}

#[tokio::test]
async fn a_forged_hint_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let id_token = signed_in_with_id_token(&app).await;
    let mut parts: Vec<String> = id_token.split('.').map(str::to_string).collect();
    parts[2] = parts[2].chars().rev().collect();
    let forged = parts.join(".");
    let response = app
        .browser
        .get(app.url("/end_session"))
        .query(&[
            ("id_token_hint", forged.as_str()),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    assert!(is_signed_in(&app).await);

    let mismatch = app
        .browser
        .get(app.url("/end_session"))
        .query(&[
            ("id_token_hint", id_token.as_str()),
            ("client_id", NO_CONSENT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        mismatch.status(),
        StatusCode::BAD_REQUEST,
        "client_id must match the hint"
    );
}

#[tokio::test]
async fn without_a_hint_the_user_confirms() {
    let app = spawn_app().await;
    signed_in_with_id_token(&app).await;
    let page = app
        .browser
        .get(app.url("/end_session"))
        .query(&[
            ("client_id", CONFIDENTIAL),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign out?"));
    assert!(
        is_signed_in(&app).await,
        "nothing happens before the user confirms"
    );

    let page = app
        .browser
        .get(app.url("/end_session"))
        .send()
        .await
        .unwrap();
    let stay = app
        .submit_form(page, "/end_session/confirm", &[("decision", "stay")])
        .await;
    assert_eq!(stay.status(), StatusCode::OK);
    assert!(is_signed_in(&app).await);

    let page = app
        .browser
        .get(app.url("/end_session"))
        .query(&[
            ("client_id", CONFIDENTIAL),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf").unwrap();
    let confirmed = app
        .browser
        .post(app.url("/end_session/confirm"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("client_id", CONFIDENTIAL),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "s"),
            ("decision", "logout"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&confirmed), format!("{AFTER_LOGOUT}?state=s"));
    assert!(!is_signed_in(&app).await);
}

#[tokio::test]
async fn unregistered_or_unverified_redirects_are_not_followed() {
    let app = spawn_app().await;
    let id_token = signed_in_with_id_token(&app).await;
    let response = app
        .browser
        .get(app.url("/end_session"))
        .query(&[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("You are signed out"));
    assert!(!is_signed_in(&app).await);

    // No session, no client: a registered-looking URI is still not followed.
    let response = app
        .browser
        .get(app.url("/end_session"))
        .query(&[("post_logout_redirect_uri", AFTER_LOGOUT)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("location").is_none());
    let unknown = app
        .browser
        .get(app.url("/end_session"))
        .query(&[("client_id", "nobody")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_hint_signed_by_a_key_no_longer_published_asks_the_user() {
    let app = spawn_app().await;
    signed_in_with_id_token(&app).await;
    // An ID token in this issuer's name, signed by a key that is not (or no
    // longer) in the JWKS: it cannot be checked, so it proves nothing.
    let generated = gatehouse::crypto::key_set::generate_rsa().unwrap();
    let key = gatehouse::crypto::key_set::SigningKey::from_pkcs8_base64(
        &generated.kid,
        "RS256",
        &generated.private_key,
    )
    .unwrap();
    let claims = serde_json::json!({
        "iss": app.address, "sub": "someone", "aud": CONFIDENTIAL, "exp": 1, "iat": 0,
    });
    let hint = gatehouse::crypto::jwt::sign(&key, "JWT", &claims).unwrap();
    let response = app
        .browser
        .get(app.url("/end_session"))
        .query(&[
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Sign out?"));
    assert!(is_signed_in(&app).await);
}

/// A hint in a key the JWKS does not hold, built like the certification
/// suite's forged one (oidcc-rp-initiated-logout-bad-id-token-hint).
fn hint_signed_by_an_unknown_key(claims: serde_json::Value) -> String {
    let generated = gatehouse::crypto::key_set::generate_rsa().unwrap();
    let key = gatehouse::crypto::key_set::SigningKey::from_pkcs8_base64(
        &generated.kid,
        "RS256",
        &generated.private_key,
    )
    .unwrap();
    gatehouse::crypto::jwt::sign(&key, "JWT", &claims).unwrap()
}

#[tokio::test]
async fn a_hint_under_an_unknown_key_that_no_rotation_explains_is_refused() {
    let app = spawn_app().await;
    signed_in_with_id_token(&app).await;
    // Keys stay published until every token they signed has expired, so an
    // unexpired token under an unknown key is forged; so is one in another
    // issuer's name, expired or not.
    let forged = [
        serde_json::json!({
            "iss": app.address, "sub": "someone", "aud": CONFIDENTIAL,
            "exp": 4_000_000_000_i64, "iat": 0,
        }),
        serde_json::json!({
            "iss": CONFIDENTIAL, "sub": "SubjectID", "aud": app.address, "exp": 1, "iat": 0,
        }),
    ];
    for claims in forged {
        let hint = hint_signed_by_an_unknown_key(claims);
        let response = app
            .browser
            .get(app.url("/end_session"))
            .query(&[
                ("id_token_hint", hint.as_str()),
                ("post_logout_redirect_uri", AFTER_LOGOUT),
                ("state", "s1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get("location").is_none());
        let html = response.text().await.unwrap();
        assert!(
            html.contains("carries a token this service did not issue"),
            "{html}"
        );
        assert!(
            is_signed_in(&app).await,
            "a refused request signs no one out"
        );
    }
}
