//! The refresh token grant: rotation, reuse detection, scope narrowing,
//! lifetimes, and races (RFC 6749 §6, RFC 9700 §4.14.2).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn error_code(response: reqwest::Response) -> String {
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    body["error"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn rotation_and_reuse_detection_revoke_the_family() {
    let app = spawn_app().await;
    let first = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let rt1 = first["refresh_token"].as_str().unwrap();

    let refreshed = app.refresh(rt1, WEBAPP).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let second: Value = refreshed.json().await.unwrap();
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2, "rotated on use");
    let at2 = second["access_token"].as_str().unwrap();
    assert_eq!(app.userinfo(at2).await.status(), StatusCode::OK);

    // The rotated-out token is refused, and presenting it kills the family.
    assert_eq!(
        error_code(app.refresh(rt1, WEBAPP).await).await,
        "invalid_grant"
    );
    assert_eq!(
        error_code(app.refresh(rt2, WEBAPP).await).await,
        "invalid_grant"
    );
    assert_eq!(app.userinfo(at2).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.userinfo(first["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.introspect(at2, WEBAPP).await,
        serde_json::json!({"active": false})
    );
}

#[tokio::test]
async fn refreshed_id_token_keeps_sub_and_auth_time() {
    let app = spawn_app().await;
    let first = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let id1 = verify_with_jwks(&app, first["id_token"].as_str().unwrap(), CONFIDENTIAL).await;
    app.clock.advance(300);
    let second: Value = app
        .refresh(first["refresh_token"].as_str().unwrap(), WEBAPP)
        .await
        .json()
        .await
        .unwrap();
    let id2 = verify_with_jwks(&app, second["id_token"].as_str().unwrap(), CONFIDENTIAL).await;
    assert_eq!(id1["sub"], id2["sub"]);
    assert_eq!(id1["auth_time"], id2["auth_time"]);
    assert!(id2["iat"].as_i64() > id1["iat"].as_i64());
    assert_eq!(second["scope"], "openid profile email offline_access");
}

#[tokio::test]
async fn scope_may_narrow_but_never_widen() {
    let app = spawn_app().await;
    let first = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let rt = first["refresh_token"].as_str().unwrap();
    let wider = app
        .back_channel(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
                ("scope", "openid api:read"),
            ],
            WEBAPP,
        )
        .await;
    assert_eq!(error_code(wider).await, "invalid_scope");
    let narrower = app
        .back_channel(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
                ("scope", "openid"),
            ],
            WEBAPP,
        )
        .await;
    assert_eq!(
        narrower.status(),
        StatusCode::OK,
        "a refused widening does not use the token up"
    );
    let narrow: Value = narrower.json().await.unwrap();
    assert_eq!(narrow["scope"], "openid");
    let info: Value = app
        .userinfo(narrow["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert!(
        info.get("email").is_none(),
        "narrowed access token releases fewer claims"
    );
    // The refresh token keeps the original grant's scope.
    let again: Value = app
        .refresh(narrow["refresh_token"].as_str().unwrap(), WEBAPP)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["scope"], "openid profile email offline_access");
}

#[tokio::test]
async fn another_client_cannot_use_or_burn_the_token() {
    let app = spawn_app().await;
    let first = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let rt = first["refresh_token"].as_str().unwrap();
    assert_eq!(
        error_code(app.refresh(rt, (KIOSK, KIOSK_SECRET)).await).await,
        "invalid_grant"
    );
    assert_eq!(
        error_code(app.refresh(rt, (CONFIDENTIAL, "wrong")).await).await,
        "invalid_client"
    );
    let unauthenticated = app
        .token_form(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
                ("client_id", CONFIDENTIAL),
            ],
            None,
        )
        .await;
    assert_eq!(error_code(unauthenticated).await, "invalid_client");
    assert_eq!(
        app.refresh(rt, WEBAPP).await.status(),
        StatusCode::OK,
        "still usable by its own client"
    );
}

#[tokio::test]
async fn clients_without_the_grant_are_unauthorized() {
    let app = spawn_app().await;
    let response = app.refresh("whatever", TRUSTED).await;
    assert_eq!(error_code(response).await, "unauthorized_client");
    let response = app.refresh("not-a-token", WEBAPP).await;
    assert_eq!(error_code(response).await, "invalid_grant");
    let missing = app
        .back_channel("/token", &[("grant_type", "refresh_token")], WEBAPP)
        .await;
    assert_eq!(error_code(missing).await, "invalid_request");
}

async fn kiosk_tokens(app: &TestApp) -> Value {
    let request = AuthRequest {
        client_id: KIOSK.into(),
        redirect_uri: "http://127.0.0.1:9997/cb".into(),
        scope: "openid offline_access".into(),
        ..AuthRequest::confidential()
    };
    app.tokens_for(&request, "alice", ALICE_PASSWORD).await
}

#[tokio::test]
async fn per_client_idle_and_absolute_lifetimes() {
    let app = spawn_app().await;
    let tokens = kiosk_tokens(&app).await;
    assert_eq!(
        tokens["expires_in"], 120,
        "the client's access token lifetime"
    );
    let kiosk = (KIOSK, KIOSK_SECRET);

    // Idle: unused for longer than 600 s, the token has expired.
    app.clock.advance(601);
    assert_eq!(
        error_code(
            app.refresh(tokens["refresh_token"].as_str().unwrap(), kiosk)
                .await
        )
        .await,
        "invalid_grant"
    );

    // Absolute: used often enough, the family still ends 1800 s after sign-in.
    let tokens = kiosk_tokens(&app).await;
    let mut rt = tokens["refresh_token"].as_str().unwrap().to_string();
    for _ in 0..3 {
        app.clock.advance(500);
        let next: Value = app.refresh(&rt, kiosk).await.json().await.unwrap();
        rt = next["refresh_token"].as_str().unwrap().to_string();
    }
    app.clock.advance(301);
    assert_eq!(
        error_code(app.refresh(&rt, kiosk).await).await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn twenty_concurrent_refreshes_yield_exactly_one_success() {
    let app = spawn_app().await;
    let first = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let rt = first["refresh_token"].as_str().unwrap();
    let attempts = (0..20).map(|_| app.refresh(rt, WEBAPP));
    let responses = futures_util::future::join_all(attempts).await;
    let statuses: Vec<StatusCode> = responses.iter().map(|r| r.status()).collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST),
        "{statuses:?}"
    );
}
