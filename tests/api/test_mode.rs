//! Test mode's endpoints: minting tokens that verify against the JWKS,
//! moving the clock, resetting the state; and that none of it exists
//! without the flag.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn spawn_test_mode() -> TestApp {
    spawn_app_with(|c| c.test_mode = true).await
}

impl TestApp {
    async fn post_test(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .api
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("POST {path}: {status} without JSON ({e}): {text}"));
        (status, body)
    }

    /// Mints a token, which must succeed.
    async fn mint(&self, request: Value) -> Value {
        let (status, body) = self.post_test("/test/v1/tokens", &request).await;
        assert_eq!(status, StatusCode::OK, "{request} → {body}");
        body
    }

    async fn mint_refused(&self, request: Value) -> String {
        let (status, body) = self.post_test("/test/v1/tokens", &request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request} → {body}");
        assert_eq!(body["error"], "invalid_request", "{body}");
        body["error_description"].as_str().unwrap().to_string()
    }
}

fn token_of(minted: &Value) -> &str {
    minted["token"].as_str().expect("a token")
}

fn header_of(jwt: &str) -> jsonwebtoken::Header {
    jsonwebtoken::decode_header(jwt).unwrap()
}

#[tokio::test]
async fn without_the_flag_no_test_route_exists() {
    let app = spawn_app().await;
    for (method, path) in [
        ("POST", "/test/v1/tokens"),
        ("GET", "/test/v1/clock"),
        ("POST", "/test/v1/clock"),
        ("POST", "/test/v1/reset"),
    ] {
        let request = match method {
            "GET" => app.api.get(app.url(path)),
            _ => app
                .api
                .post(app.url(path))
                .json(&json!({"client_id": CONFIDENTIAL, "advance": 60})),
        };
        let status = request.send().await.unwrap().status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["test_mode"], false, "{ready}");
    assert_eq!(
        metric(&app.metrics_text().await, "gatehouse_test_mode"),
        0.0
    );
    // The clock is the real one: nothing moved it.
    assert!(app.provider.test_clock().is_none());
}

#[tokio::test]
async fn readiness_and_metrics_say_test_mode() {
    let app = spawn_test_mode().await;
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["test_mode"], true, "{ready}");
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(
        metric(&app.metrics_text().await, "gatehouse_test_mode"),
        1.0
    );
}

#[tokio::test]
async fn minted_access_tokens_verify_against_the_jwks_with_each_algorithm() {
    let app = spawn_test_mode().await;
    let audience = "https://orders.example.test/";
    for alg in ["RS256", "ES256", "EdDSA"] {
        let minted = app
            .mint(json!({
                "client_id": CONFIDENTIAL, "sub": "alice", "aud": audience,
                "scope": "openid orders:read", "claims": {"tenant": "acme", "roles": ["buyer"]},
                "alg": alg,
            }))
            .await;
        let token = token_of(&minted);
        let header = header_of(token);
        assert_eq!(format!("{:?}", header.alg), alg);
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let claims = verify_with_jwks(&app, token, audience).await;
        // Seeded users in test mode have their username as subject.
        assert_eq!(claims["sub"], "alice", "{claims}");
        assert_eq!(claims["client_id"], CONFIDENTIAL);
        assert_eq!(claims["scope"], "openid orders:read");
        assert_eq!(claims["tenant"], "acme");
        assert_eq!(claims["roles"], json!(["buyer"]));
        assert_eq!(claims["exp"], minted["expires_at"]);
        let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
        assert_eq!(lifetime, app.provider.config.access_token_ttl);
    }
    let events = app.audit_events("test_mode.token_minted", None).await;
    assert_eq!(events.len(), 3, "{events:?}");
}

#[tokio::test]
async fn a_token_may_name_several_audiences_and_a_user_made_on_the_fly() {
    let app = spawn_test_mode().await;
    let minted = app
        .mint(
            json!({"client_id": "any-app", "sub": "zoe", "aud": ["one", "two"], "expires_in": 90}),
        )
        .await;
    let claims = verify_with_jwks(&app, token_of(&minted), "two").await;
    assert_eq!(claims["aud"], json!(["one", "two"]));
    assert_eq!(claims["sub"], "zoe");
    assert_eq!(claims["client_id"], "any-app");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        90
    );
    let zoe = app.provider.store.user_by_username("zoe").await.unwrap();
    assert_eq!(zoe.expect("zoe was made").id, "zoe");
    // Without sub: the client's own token, as from client_credentials.
    let own = app
        .mint(json!({"client_id": SERVICE, "scope": "reports"}))
        .await;
    let claims = verify_with_jwks(&app, token_of(&own), SERVICE).await;
    assert_eq!(claims["sub"], SERVICE);
    assert!(claims.get("auth_time").is_none(), "{claims}");
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired() {
    let app = spawn_test_mode().await;
    let minted = app
        .mint(json!({"client_id": CONFIDENTIAL, "sub": "alice", "expires_in": -60}))
        .await;
    let now = app.provider.now();
    assert_eq!(minted["expires_at"].as_i64().unwrap(), now - 60);
    let token = token_of(&minted);
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .unwrap()
        .claims;
    assert!(
        claims["iat"].as_i64().unwrap() < claims["exp"].as_i64().unwrap(),
        "issued before it expired: {claims}"
    );
    let userinfo = app.userinfo(token).await;
    assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
    let fresh = app
        .mint(json!({"client_id": CONFIDENTIAL, "sub": "alice"}))
        .await;
    let userinfo = app.userinfo(token_of(&fresh)).await;
    assert_eq!(userinfo.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_minted_id_token_carries_what_the_scope_releases() {
    let app = spawn_test_mode().await;
    let minted = app
        .mint(json!({
            "client_id": CONFIDENTIAL, "sub": "alice", "kind": "id_token",
            "scope": "openid email", "claims": {"nonce_hint": "n-1"}, "alg": "ES256",
        }))
        .await;
    let token = token_of(&minted);
    assert_eq!(header_of(token).typ.as_deref(), Some("JWT"));
    let claims = verify_with_jwks(&app, token, CONFIDENTIAL).await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["azp"], CONFIDENTIAL);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["amr"], json!(["test", "mfa"]));
    assert_eq!(claims["nonce_hint"], "n-1");
    assert!(claims.get("name").is_none(), "profile not asked: {claims}");
}

#[tokio::test]
async fn a_minted_refresh_token_works_at_the_token_endpoint_once() {
    let app = spawn_test_mode().await;
    let minted = app
        .mint(
            json!({"client_id": CONFIDENTIAL, "sub": "alice", "kind": "refresh_token",
                     "scope": "openid profile offline_access"}),
        )
        .await;
    let refresh_token = token_of(&minted);
    let answer = app.refresh(refresh_token, WEBAPP).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let tokens: Value = answer.json().await.unwrap();
    let access =
        verify_with_jwks(&app, tokens["access_token"].as_str().unwrap(), CONFIDENTIAL).await;
    assert_eq!(access["sub"], "alice");
    assert_eq!(access["scope"], "openid profile offline_access");
    assert!(tokens["refresh_token"].as_str().is_some(), "{tokens}");
    // Rotated: the minted one is spent, and using it again is reuse.
    let again = app.refresh(refresh_token, WEBAPP).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let rotated = app
        .refresh(tokens["refresh_token"].as_str().unwrap(), WEBAPP)
        .await;
    assert_eq!(
        rotated.status(),
        StatusCode::BAD_REQUEST,
        "reuse revoked the family"
    );

    let expired = app
        .mint(json!({"client_id": CONFIDENTIAL, "sub": "alice", "kind": "refresh_token", "expires_in": -1}))
        .await;
    let answer = app.refresh(token_of(&expired), WEBAPP).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

#[tokio::test]
async fn bad_mint_requests_are_refused_with_the_reason() {
    let app = spawn_test_mode().await;
    let why = app
        .mint_refused(json!({"client_id": CONFIDENTIAL, "claims": {"iss": "https://evil"}}))
        .await;
    assert!(why.contains("\"iss\""), "{why}");
    let why = app
        .mint_refused(json!({"client_id": CONFIDENTIAL, "alg": "HS256"}))
        .await;
    assert!(why.contains("RS256, ES256, EdDSA"), "{why}");
    let why = app
        .mint_refused(json!({"client_id": CONFIDENTIAL, "expires_in": 0}))
        .await;
    assert!(why.contains("expires_in"), "{why}");
    let why = app
        .mint_refused(json!({"client_id": CONFIDENTIAL, "kind": "id_token"}))
        .await;
    assert!(why.contains("give sub"), "{why}");
    let why = app
        .mint_refused(json!({"client_id": "nobody", "sub": "alice", "kind": "refresh_token"}))
        .await;
    assert!(why.contains("registered client"), "{why}");
    let why = app
        .mint_refused(json!({"client_id": SERVICE, "sub": "alice", "kind": "refresh_token"}))
        .await;
    assert!(why.contains("may not use the refresh_token grant"), "{why}");
    let why = app
        .mint_refused(json!({"client_id": CONFIDENTIAL, "colour": "red"}))
        .await;
    assert!(why.contains("colour"), "{why}");
    let why = app
        .mint_refused(json!({"client_id": CONFIDENTIAL, "expires_in": i64::MIN}))
        .await;
    assert!(why.contains("expires_in"), "{why}");
    // A refused request makes no user on the way.
    for refused in [
        json!({"client_id": "nope", "sub": "newbie", "kind": "refresh_token"}),
        json!({"client_id": CONFIDENTIAL, "sub": "newbie", "expires_in": 0}),
        json!({"client_id": CONFIDENTIAL, "sub": "newbie", "alg": "none"}),
        json!({"client_id": CONFIDENTIAL, "sub": "newbie", "kind": "refresh_token", "aud": "https://unknown.example/"}),
    ] {
        app.mint_refused(refused).await;
    }
    assert!(app
        .provider
        .store
        .user_by_username("newbie")
        .await
        .unwrap()
        .is_none());
    let why = app.mint_refused(json!({"client_id": ""})).await;
    assert!(why.contains("client_id"), "{why}");
    let why = app
        .mint_refused(json!({"client_id": CONFIDENTIAL, "kind": "session_cookie"}))
        .await;
    assert!(why.contains("session_cookie"), "{why}");
    // Not JSON.
    let response = app
        .api
        .post(app.url("/test/v1/tokens"))
        .form(&[("client_id", CONFIDENTIAL)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(app
        .audit_events("test_mode.token_minted", None)
        .await
        .is_empty());
}

#[tokio::test]
async fn moving_the_clock_expires_codes_and_tokens_and_reset_returns_to_real_time() {
    let app = spawn_test_mode().await;
    let request = AuthRequest::confidential();
    let tokens = app.tokens_for(&request, "alice", ALICE_PASSWORD).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.userinfo(access_token).await.status(), StatusCode::OK);
    let before = app.provider.now();

    let (status, moved) = app
        .post_test("/test/v1/clock", &json!({"advance": 3600}))
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["offset"], 3600);
    assert!(moved["now"].as_i64().unwrap() >= before + 3600, "{moved}");
    assert!(app.provider.now() >= before + 3600);
    let read: Value = app.get("/test/v1/clock").await.json().await.unwrap();
    assert_eq!(read["offset"], 3600, "{read}");
    // The access token (600 s) has expired in the provider's time.
    assert_eq!(
        app.userinfo(access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A code expires as the clock moves past its minute.
    let params = app
        .authorize_through(&request, "alice", ALICE_PASSWORD)
        .await;
    let code = param(&params, "code").expect("a code");
    let (status, _) = app
        .post_test("/test/v1/clock", &json!({"advance": 120}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let answer = app.redeem(&request, &code).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);

    // Only forward, and one change at a time.
    for bad in [
        json!({"advance": -10}),
        json!({"advance": 0}),
        json!({}),
        json!({"advance": 5, "reset": true}),
    ] {
        let (status, body) = app.post_test("/test/v1/clock", &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
    }
    // A token that expired in the moved time stays expired when time goes
    // back (its grant was pruned), whether or not an answer was cached.
    let minted = app
        .mint(json!({"client_id": CONFIDENTIAL, "sub": "alice"}))
        .await;
    assert_eq!(
        app.userinfo(token_of(&minted)).await.status(),
        StatusCode::OK
    );
    let (status, _) = app
        .post_test("/test/v1/clock", &json!({"advance": 3600}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, back) = app
        .post_test("/test/v1/clock", &json!({"reset": true}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(back["offset"], 0);
    assert_eq!(
        app.userinfo(token_of(&minted)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(app.provider.now() < before + 60);
    assert_eq!(
        app.audit_events("test_mode.clock_advanced", None)
            .await
            .len(),
        3
    );
    assert_eq!(
        app.audit_events("test_mode.clock_reset", None).await.len(),
        1
    );
    // A year ahead prunes what expired, never test mode's own record.
    let (status, _) = app
        .post_test("/test/v1/clock", &json!({"advance": 366 * 86400}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.audit_events("test_mode.clock_reset", None).await.len(),
        1
    );
    assert_eq!(
        app.audit_events("test_mode.clock_advanced", None)
            .await
            .len(),
        4
    );
}

#[tokio::test]
async fn reset_empties_the_state_and_loads_the_seed_again() {
    let app = spawn_test_mode().await;
    let refresh = app
        .mint(json!({"client_id": CONFIDENTIAL, "sub": "alice", "kind": "refresh_token"}))
        .await;
    app.mint(json!({"client_id": CONFIDENTIAL, "sub": "zoe"}))
        .await;
    let admin = app.admin_token().await;
    let made = app
        .api
        .post(app.url("/admin/api/v1/groups"))
        .bearer_auth(&admin)
        .json(&json!({"name": "temporary", "description": "made by a test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let (status, _) = app
        .post_test("/test/v1/clock", &json!({"advance": 86400}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, done) = app.post_test("/test/v1/reset", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "reset");
    assert_eq!(done["clients"], 7, "{done}");
    assert_eq!(done["users"], 2, "{done}");

    let store = &app.provider.store;
    assert!(store.user_by_username("zoe").await.unwrap().is_none());
    let alice = store.user_by_username("alice").await.unwrap();
    assert_eq!(alice.expect("seeded again").id, "alice");
    let groups: Vec<String> = store
        .groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert!(!groups.contains(&"temporary".to_string()), "{groups:?}");
    // The grant is gone with the rest.
    let answer = app.refresh(token_of(&refresh), WEBAPP).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    // The clock is back to real time, and the keys are the same.
    let read: Value = app.get("/test/v1/clock").await.json().await.unwrap();
    assert_eq!(read["offset"], 0);
    let token = app
        .mint(json!({"client_id": CONFIDENTIAL, "sub": "alice"}))
        .await;
    verify_with_jwks(&app, token_of(&token), CONFIDENTIAL).await;
    // Seeded secrets work again: a password sign-in.
    let tokens = app
        .tokens_for(&AuthRequest::confidential(), "alice", ALICE_PASSWORD)
        .await;
    assert!(tokens["id_token"].is_string(), "{tokens}");
    assert_eq!(app.audit_events("test_mode.reset", None).await.len(), 1);
}

#[tokio::test]
async fn test_mode_refuses_a_database_that_may_hold_real_accounts() {
    let database = fresh_database().await;
    for (args, envs) in [
        (vec!["serve", "--test-mode"], vec![]),
        (vec!["serve"], vec![("GATEHOUSE_TEST_MODE", "true")]),
        (
            vec!["serve", "--test-mode"],
            vec![("GATEHOUSE_TEST_MODE_ANY_DATABASE", "false")],
        ),
    ] {
        let out = gatehouse_cli(&database, &args, &envs, None).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?} {envs:?}: {stderr}");
        assert!(
            stderr.contains("GATEHOUSE_TEST_MODE_ANY_DATABASE=true"),
            "{stderr}"
        );
        assert!(stderr.contains("runs only on sqlite::memory:"), "{stderr}");
    }
    // A value that is neither true nor false is not guessed at.
    let out = gatehouse_cli(
        &database,
        &["serve"],
        &[("GATEHOUSE_TEST_MODE", "maybe")],
        None,
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("GATEHOUSE_TEST_MODE must be true or false"),
        "{stderr}"
    );
}
