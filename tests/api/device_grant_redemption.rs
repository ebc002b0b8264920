//! Redeeming a device code (RFC 8628 §3.4–3.5): once only, whoever polls;
//! not by another client; the refresh token it gives rotates as usual; a
//! public client and an API (RFC 8707) work as in the code flow.

use crate::device_grant::*;
use crate::helpers::*;
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn concurrent_polls_after_approval_give_tokens_exactly_once() {
    let app = device_app().await;
    let started = app
        .start_device(Device::Confidential(TV), "openid offline_access")
        .await;
    app.approve_device(&started, "alice", ALICE_PASSWORD).await;
    let code = started["device_code"].as_str().unwrap();
    let answers = join_all((0..8).map(|_| app.poll(Device::Confidential(TV), code))).await;
    let winners: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    assert!(winners[0]["access_token"].is_string());
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_grant", "{body}");
    }
    assert_eq!(
        count(&app.database_url, "SELECT COUNT(*) AS n FROM grants").await,
        1
    );
    assert_eq!(
        count(
            &app.database_url,
            "SELECT COUNT(*) AS n FROM refresh_tokens"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_redeemed_code_is_refused_and_the_first_tokens_keep_working() {
    let app = device_app().await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    app.approve_device(&started, "alice", ALICE_PASSWORD).await;
    let code = started["device_code"].as_str().unwrap();
    let (status, tokens) = app.poll(Device::Confidential(TV), code).await;
    assert_eq!(status, StatusCode::OK);
    app.clock.advance(30);
    let (status, again) = app.poll(Device::Confidential(TV), code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant");
    let userinfo = app.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(
        userinfo.status(),
        StatusCode::OK,
        "the device asked twice; nothing was stolen"
    );
}

#[tokio::test]
async fn unknown_codes_and_another_clients_codes_are_invalid_grants() {
    let app = device_app().await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    app.approve_device(&started, "alice", ALICE_PASSWORD).await;
    let (status, body) = app
        .poll(
            Device::Public(CLI),
            started["device_code"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, body) = app
        .poll(Device::Confidential(TV), "not-a-device-code")
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let mut form = vec![("grant_type", DEVICE_GRANT)];
    let missing = app.token_form(&form, Some(TV)).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // The rightful client still gets its tokens after those attempts.
    form.push(("device_code", started["device_code"].as_str().unwrap()));
    assert_eq!(
        app.token_form(&form, Some(TV)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_refresh_token_of_a_device_rotates() {
    let app = device_app().await;
    let started = app
        .start_device(Device::Confidential(TV), "openid offline_access")
        .await;
    app.approve_device(&started, "alice", ALICE_PASSWORD).await;
    let (_, tokens) = app
        .poll(
            Device::Confidential(TV),
            started["device_code"].as_str().unwrap(),
        )
        .await;
    let first = tokens["refresh_token"].as_str().expect("a refresh token");
    let refreshed = app.refresh(first, TV).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    let second = refreshed["refresh_token"].as_str().unwrap();
    assert_ne!(second, first, "rotated");
    let claims = verify_with_jwks(&app, refreshed["id_token"].as_str().unwrap(), "tv").await;
    assert_eq!(
        claims["sid"],
        verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), "tv").await["sid"]
    );
    let reused = app.refresh(first, TV).await;
    assert_eq!(
        reused.status(),
        StatusCode::BAD_REQUEST,
        "a rotated-out token"
    );
}

#[tokio::test]
async fn a_public_client_uses_the_device_flow_without_a_secret() {
    let app = device_app().await;
    let started = app
        .start_device(Device::Public(CLI), "openid profile offline_access")
        .await;
    app.approve_device(&started, "alice", ALICE_PASSWORD).await;
    let (status, tokens) = app
        .poll(
            Device::Public(CLI),
            started["device_code"].as_str().unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(
        tokens["scope"], "openid profile",
        "offline_access only for a client that may refresh"
    );
    assert!(tokens.get("refresh_token").is_none());
    let claims = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), CLI).await;
    assert_eq!(claims["preferred_username"], "alice");
}

#[tokio::test]
async fn a_device_asks_for_an_api_as_the_code_flow_does() {
    let app = device_app().await;
    let (status, started) = app
        .device_authorization(
            Device::Confidential(TV),
            &[("scope", "openid read"), ("resource", EXAMPLE_API)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let page = app.confirm_page(&started, "dana", DANA_PASSWORD).await;
    let html = page.text().await.unwrap();
    assert!(html.contains("Example API: Read your projects"), "{html}");
    let page = app
        .get(&format!(
            "/device?user_code={}",
            started["user_code"].as_str().unwrap()
        ))
        .await;
    app.decide_device(page, &started, "allow").await;
    let (status, tokens) = app
        .poll(
            Device::Confidential(TV),
            started["device_code"].as_str().unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let header = jsonwebtoken::decode_header(tokens["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(
        header.alg,
        jsonwebtoken::Algorithm::ES256,
        "the API's algorithm"
    );
    let access =
        verify_with_jwks(&app, tokens["access_token"].as_str().unwrap(), EXAMPLE_API).await;
    assert_eq!(access["aud"], EXAMPLE_API);
}

#[tokio::test]
async fn a_user_disabled_after_allowing_gets_the_device_nothing() {
    let app = device_app().await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    app.approve_device(&started, "alice", ALICE_PASSWORD).await;
    let token = app.admin_token().await;
    let disabled = app
        .api(reqwest::Method::POST, "/users/alice/disable", &token, None)
        .await;
    assert!(disabled.status().is_success(), "{}", disabled.status());
    let (status, body) = app
        .poll(
            Device::Confidential(TV),
            started["device_code"].as_str().unwrap(),
        )
        .await;
    // Disabling ended the session the code was allowed in, and the
    // allowed code expired with it.
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "expired_token");
    assert_eq!(
        count(&app.database_url, "SELECT COUNT(*) AS n FROM grants").await,
        0
    );
}
