//! Signing in again in the same browser (Back-Channel Logout 1.0 §2.7): a
//! re-authentication of the same user (`prompt=login`) keeps the session's
//! `sid` — no client is told, and the new ID token names the same session
//! with the new `auth_time` — while signing in as someone else ends the
//! first user's session and tells its clients.

use crate::backchannel_logout::{queued_for, register_rp, rp_request, tokens_in_session};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

/// A client `rp-a` with a receiver, and alice's tokens for it.
async fn signed_in() -> (TestApp, LogoutReceiver, Value) {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let receiver = LogoutReceiver::start().await;
    register_rp(&app, &admin, "rp-a", &receiver.url(), true).await;
    let claims = tokens_in_session(&app, "rp-a").await;
    (app, receiver, claims)
}

/// Runs `prompt=login` for `rp-a` in the app's browser as `username` and
/// returns the new ID token's claims.
async fn again_as(app: &TestApp, username: &str, password: &str) -> Value {
    let request = rp_request("rp-a").with("prompt", "login");
    let to_login = app.authorize(&request).await;
    assert_eq!(to_login.status(), StatusCode::FOUND);
    assert!(
        location(&to_login).contains("/login"),
        "asked to sign in again"
    );
    let signed = app.sign_in(&to_login, username, password).await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let back = app.follow(&signed).await;
    let to = location(&back);
    assert!(
        to.starts_with(&request.redirect_uri),
        "back at the client: {to}"
    );
    let code = param(&location_params(&back), "code").expect("a code");
    let response = app.redeem(&request, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    verify_with_jwks(app, tokens["id_token"].as_str().unwrap(), "rp-a").await
}

#[tokio::test]
async fn re_authenticating_keeps_the_sid_and_tells_no_client() {
    let (app, receiver, first) = signed_in().await;
    app.clock.advance(60);
    let again = again_as(&app, "alice", ALICE_PASSWORD).await;
    assert_eq!(again["sid"], first["sid"], "the same session");
    assert_eq!(again["sub"], first["sub"]);
    assert_eq!(
        again["auth_time"].as_i64().unwrap(),
        first["auth_time"].as_i64().unwrap() + 60,
        "a fresh authentication"
    );
    assert_eq!(
        queued_for(&app, &receiver.url()).await,
        0,
        "no logout token queued"
    );
    assert!(receiver.posts().is_empty());
    // The account page lists one session, this one.
    let page = app.get("/account").await;
    assert_eq!(page.status(), StatusCode::OK);
    let admin = app.admin_token().await;
    let (status, sessions) = app
        .api_json(
            reqwest::Method::GET,
            &format!("/users/{}/sessions", first["sub"].as_str().unwrap()),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sessions}");
    let items = sessions["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{sessions}");
    assert_eq!(items[0]["sid"], first["sid"]);
    assert_eq!(
        items[0]["auth_time"].as_i64(),
        again["auth_time"].as_i64(),
        "the session's auth_time is the new one"
    );
}

#[tokio::test]
async fn signing_in_as_someone_else_tells_the_clients_of_the_first_users_session() {
    let (app, receiver, first) = signed_in().await;
    let bobs = again_as(&app, "bob", BOB_PASSWORD).await;
    assert_ne!(bobs["sid"], first["sid"], "a new session");
    let posts = receiver.wait_for(1).await;
    let claims = validated_logout(&app, &posts[0], "rp-a").await;
    assert_eq!(claims["sid"], first["sid"], "alice's session");
    assert_eq!(claims["sub"], first["sub"]);
    assert_eq!(queued_for(&app, &receiver.url()).await, 1);
}
