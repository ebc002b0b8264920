//! Introspection (RFC 7662) and revocation (RFC 7009).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn active_access_and_refresh_tokens_describe_themselves() {
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let at = tokens["access_token"].as_str().unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();

    let access = app.introspect(at, WEBAPP).await;
    assert_eq!(access["active"], true);
    assert_eq!(access["token_type"], "Bearer");
    assert_eq!(access["client_id"], CONFIDENTIAL);
    assert_eq!(access["username"], "alice");
    assert_eq!(access["scope"], "openid profile email offline_access");
    assert_eq!(access["iss"], app.address);
    for field in ["sub", "aud", "exp", "iat"] {
        assert!(access.get(field).is_some(), "{field}");
    }

    let refresh = app.introspect(rt, WEBAPP).await;
    assert_eq!(refresh["active"], true);
    assert_eq!(refresh["token_type"], "refresh_token");
    assert_eq!(refresh["sub"], access["sub"]);
    assert_eq!(refresh["username"], "alice");

    // A wrong hint changes nothing: the token is still found.
    let hinted = app
        .back_channel(
            "/introspect",
            &[("token", rt), ("token_type_hint", "access_token")],
            WEBAPP,
        )
        .await;
    let hinted: Value = hinted.json().await.unwrap();
    assert_eq!(hinted["active"], true);
    let hinted = app
        .back_channel(
            "/introspect",
            &[("token", at), ("token_type_hint", "refresh_token")],
            WEBAPP,
        )
        .await;
    let hinted: Value = hinted.json().await.unwrap();
    assert_eq!(hinted["active"], true);
}

#[tokio::test]
async fn anything_else_is_exactly_inactive() {
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let at = tokens["access_token"].as_str().unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();
    let inactive = json!({"active": false});

    assert_eq!(
        app.introspect(at, TRUSTED).await,
        inactive,
        "another client's access token"
    );
    assert_eq!(
        app.introspect(rt, TRUSTED).await,
        inactive,
        "another client's refresh token"
    );
    assert_eq!(app.introspect("garbage", WEBAPP).await, inactive);
    assert_eq!(app.introspect("a.b.c", WEBAPP).await, inactive);
    let mut tampered = at.to_string();
    tampered.pop();
    assert_eq!(app.introspect(&tampered, WEBAPP).await, inactive);

    app.clock.advance(601);
    assert_eq!(
        app.introspect(at, WEBAPP).await,
        inactive,
        "expired access token"
    );
}

#[tokio::test]
async fn introspection_needs_an_authenticated_client_and_a_token() {
    let app = spawn_app().await;
    let anonymous = app
        .api
        .post(app.url("/introspect"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .back_channel("/introspect", &[("token", "x")], (CONFIDENTIAL, "nope"))
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().contains_key("www-authenticate"));
    let missing = app.back_channel("/introspect", &[], WEBAPP).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_family() {
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let at = tokens["access_token"].as_str().unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();
    let revoked = app
        .back_channel(
            "/revoke",
            &[("token", rt), ("token_type_hint", "refresh_token")],
            WEBAPP,
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(app.introspect(rt, WEBAPP).await["active"], false);
    assert_eq!(app.introspect(at, WEBAPP).await["active"], false);
    assert_eq!(app.userinfo(at).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.refresh(rt, WEBAPP).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn revoking_an_access_token_leaves_the_refresh_token() {
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let at = tokens["access_token"].as_str().unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.back_channel("/revoke", &[("token", at)], WEBAPP)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.introspect(at, WEBAPP).await["active"], false);
    let info = app.userinfo(at).await;
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    assert!(info.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    assert_eq!(app.refresh(rt, WEBAPP).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_tokens_and_other_clients_tokens() {
    let app = spawn_app().await;
    let ok = app
        .back_channel("/revoke", &[("token", "never-issued")], WEBAPP)
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["cache-control"], "no-store");

    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let at = tokens["access_token"].as_str().unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap();
    for token in [at, rt] {
        let refused = app
            .back_channel("/revoke", &[("token", token)], TRUSTED)
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
    }
    assert_eq!(
        app.introspect(at, WEBAPP).await["active"],
        true,
        "left alone"
    );
    assert_eq!(
        app.introspect(rt, WEBAPP).await["active"],
        true,
        "left alone"
    );

    let anonymous = app
        .api
        .post(app.url("/revoke"))
        .form(&[("token", rt)])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let missing = app.back_channel("/revoke", &[], WEBAPP).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn client_credentials_tokens_speak_for_the_client() {
    let app = spawn_app().await;
    let service = (SERVICE, SERVICE_SECRET);
    let all = app
        .back_channel("/token", &[("grant_type", "client_credentials")], service)
        .await;
    assert_eq!(all.status(), StatusCode::OK);
    let all: Value = all.json().await.unwrap();
    assert_eq!(all["scope"], "api:read api:write");
    assert!(all.get("refresh_token").is_none() && all.get("id_token").is_none());
    let claims = verify_with_jwks(&app, all["access_token"].as_str().unwrap(), SERVICE).await;
    assert_eq!(claims["sub"], SERVICE);
    assert_eq!(claims["client_id"], SERVICE);
    assert!(
        uuid::Uuid::parse_str(claims["sub"].as_str().unwrap()).is_err(),
        "never a user's id"
    );

    let some = app
        .back_channel(
            "/token",
            &[("grant_type", "client_credentials"), ("scope", "api:read")],
            service,
        )
        .await;
    let some: Value = some.json().await.unwrap();
    assert_eq!(some["scope"], "api:read");

    let introspected = app
        .introspect(some["access_token"].as_str().unwrap(), service)
        .await;
    assert_eq!(introspected["active"], true);
    assert!(introspected.get("username").is_none());

    let info = app.userinfo(some["access_token"].as_str().unwrap()).await;
    assert_eq!(
        info.status(),
        StatusCode::FORBIDDEN,
        "no user behind a client's own token"
    );

    for (scope, client) in [("api:admin", service), ("openid", service)] {
        let refused = app
            .back_channel(
                "/token",
                &[("grant_type", "client_credentials"), ("scope", scope)],
                client,
            )
            .await;
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "invalid_scope", "{scope}");
    }
    let webapp = app
        .back_channel("/token", &[("grant_type", "client_credentials")], WEBAPP)
        .await;
    let body: Value = webapp.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client");
    let public = app
        .token_form(
            &[("grant_type", "client_credentials"), ("client_id", PUBLIC)],
            None,
        )
        .await;
    let body: Value = public.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client");
}
