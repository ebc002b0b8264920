//! The read cache never outlives a change: every answer userinfo,
//! introspection and client authentication take from memory is dropped by
//! the write that makes it wrong, before that write's request returns; a
//! remembered signature check never stands in for another token, or for an
//! expired one.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn admin_api(app: &TestApp, method: reqwest::Method, path: &str, body: Value) -> StatusCode {
    let token = app.admin_token().await;
    app.api
        .request(method, app.url(&format!("/admin/api/v1{path}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

async fn userinfo_json(app: &TestApp, access: &str) -> (StatusCode, Value) {
    let response = app.userinfo(access).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Userinfo refuses `access` and introspection calls it inactive.
async fn assert_refused(app: &TestApp, access: &str) {
    let userinfo = app.userinfo(access).await.status();
    assert_eq!(userinfo, StatusCode::UNAUTHORIZED);
    assert_eq!(app.introspect(access, WEBAPP).await["active"], json!(false));
}

#[tokio::test]
async fn a_revoked_access_token_stops_working_after_it_was_cached() {
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let access = tokens["access_token"].as_str().unwrap();
    // Twice each: the second answers come from the cache.
    let before = app.provider.store.read_cache_stats();
    assert!(before.active);
    for _ in 0..2 {
        assert_eq!(app.userinfo(access).await.status(), StatusCode::OK);
        assert_eq!(app.introspect(access, WEBAPP).await["active"], json!(true));
    }
    let after = app.provider.store.read_cache_stats();
    assert!(
        after.hits >= before.hits + 4,
        "token, user and client answers were reused: {before:?} → {after:?}"
    );
    let revoked = app
        .back_channel("/revoke", &[("token", access)], WEBAPP)
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_refused(&app, access).await;
}

#[tokio::test]
async fn revoking_the_grant_ends_cached_access_tokens() {
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(app.userinfo(access).await.status(), StatusCode::OK);
    let revoked = app
        .back_channel("/revoke", &[("token", refresh)], WEBAPP)
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_refused(&app, access).await;
}

#[tokio::test]
async fn user_changes_show_at_once_in_cached_claims() {
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, before) = userinfo_json(&app, access).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(before["name"], "Alice Renamed");

    let patched = admin_api(
        &app,
        reqwest::Method::PATCH,
        "/users/alice",
        json!({ "name": "Alice Renamed" }),
    )
    .await;
    assert_eq!(patched, StatusCode::OK);
    let (status, after) = userinfo_json(&app, access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["name"], "Alice Renamed");

    let disabled = admin_api(
        &app,
        reqwest::Method::POST,
        "/users/alice/disable",
        json!({}),
    )
    .await;
    assert!(disabled.is_success(), "{disabled}");
    assert_eq!(
        app.userinfo(access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_rotated_client_secret_is_refused_after_it_was_cached() {
    let app = spawn_app().await;
    let service = (SERVICE, SERVICE_SECRET);
    for _ in 0..2 {
        assert_eq!(
            app.client_token(service, "api:read").await.status(),
            StatusCode::OK
        );
    }
    let token = app.admin_token().await;
    let rotated: Value = app
        .api
        .post(app.url(&format!("/admin/api/v1/clients/{SERVICE}/rotate-secret")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_eq!(
        app.client_token(service, "api:read").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.client_token((SERVICE, new_secret), "api:read")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_the_cache_every_check_reads_the_database() {
    let app = spawn_app_with(|config| config.cache_sync_ms = 0).await;
    assert!(!app.provider.store.read_cache_stats().active);
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.userinfo(access).await.status(), StatusCode::OK);
    let revoked = app
        .back_channel("/revoke", &[("token", access)], WEBAPP)
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        app.userinfo(access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.provider.store.read_cache_stats().hits, 0);
}

#[tokio::test]
async fn a_verified_token_is_still_checked_for_tampering_and_expiry() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let access = tokens["access_token"].as_str().unwrap();
    // Verified once: the signature check is remembered for these bytes.
    assert_eq!(app.userinfo(access).await.status(), StatusCode::OK);
    assert_eq!(app.userinfo(access).await.status(), StatusCode::OK);

    // The remembered signature does not carry over to another payload.
    let parts: Vec<&str> = access.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["scope"] = json!("openid profile email offline_access api:read");
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 86_400);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    assert_refused(&app, &forged).await;

    // Nor does it outlive the token.
    app.clock.advance(3_600);
    assert_refused(&app, access).await;
}
