//! The whole flow, as a relying party and a browser do it.

use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn code_flow_with_pkce_consent_and_userinfo() {
    let app = spawn_app().await;
    let request = AuthRequest::confidential();
    let params = app
        .authorize_through(&request, "alice", ALICE_PASSWORD)
        .await;
    assert_eq!(
        param(&params, "state").as_deref(),
        Some(request.state.as_str())
    );
    assert_eq!(param(&params, "iss").as_deref(), Some(app.address.as_str()));
    let code = param(&params, "code").unwrap();

    let response = app.redeem(&request, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: serde_json::Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile email");
    assert!(tokens["expires_in"].as_i64().unwrap() > 0);
    assert!(
        tokens.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );

    let id = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), CONFIDENTIAL).await;
    assert_eq!(id["nonce"], request.nonce.as_str());
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    for claim in ["sub", "exp", "iat", "auth_time", "at_hash", "sid"] {
        assert!(id.get(claim).is_some(), "ID token has {claim}");
    }
    assert_eq!(
        id["at_hash"],
        gatehouse::oauth::token_minting::at_hash(tokens["access_token"].as_str().unwrap())
    );

    let access = tokens["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let at = verify_with_jwks(&app, access, CONFIDENTIAL).await;
    assert_eq!(at["client_id"], CONFIDENTIAL);
    assert_eq!(at["sub"], id["sub"]);
    assert!(at["jti"].is_string());

    let info = app.userinfo(access).await;
    assert_eq!(info.status(), StatusCode::OK);
    let info: serde_json::Value = info.json().await.unwrap();
    assert_eq!(info["sub"], id["sub"]);
    assert_eq!(info["preferred_username"], "alice");
    assert_eq!(info["name"], "Alice Example");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["email_verified"], true);
}

#[tokio::test]
async fn totp_user_signs_in_with_both_factors() {
    let app = spawn_app().await;
    let request = AuthRequest::public();
    let tokens = app.tokens_for(&request, "bob", BOB_PASSWORD).await;
    let id = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), PUBLIC).await;
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp"]));
    let info: serde_json::Value = app
        .userinfo(tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["preferred_username"], "bob");
}

#[tokio::test]
async fn offline_access_yields_a_refresh_token() {
    let app = spawn_app().await;
    let mut request = AuthRequest::confidential();
    request.scope = "openid offline_access".into();
    let tokens = app.tokens_for(&request, "alice", ALICE_PASSWORD).await;
    assert_eq!(tokens["scope"], "openid offline_access");
    assert_eq!(tokens["refresh_token"].as_str().unwrap().len(), 43);
}

#[tokio::test]
async fn consent_is_remembered_and_skipped_next_time() {
    let app = spawn_app().await;
    let request = AuthRequest::confidential();
    app.authorize_through(&request, "alice", ALICE_PASSWORD)
        .await;
    // Same browser, same scopes: straight back to the client with a code.
    let again = app.authorize(&AuthRequest::confidential()).await;
    assert_eq!(again.status(), StatusCode::FOUND);
    assert!(location(&again).starts_with(CONFIDENTIAL_REDIRECT));
    assert!(param(&location_params(&again), "code").is_some());
    // A new scope asks again.
    let mut wider = AuthRequest::confidential();
    wider.scope = "openid profile email api:read".into();
    let asked = app.authorize(&wider).await;
    assert!(location(&asked).contains("/consent?request="));
    // prompt=consent asks even when covered.
    let forced = app
        .authorize(&AuthRequest::confidential().with("prompt", "consent"))
        .await;
    assert!(location(&forced).contains("/consent?request="));
}

#[tokio::test]
async fn deny_sends_access_denied_with_state_and_iss() {
    let app = spawn_app().await;
    let request = AuthRequest::confidential();
    let first = app.authorize(&request).await;
    let signed_in = app.sign_in(&first, "alice", ALICE_PASSWORD).await;
    let consent = app.follow(&app.follow(&signed_in).await).await;
    let denied = app
        .submit_form(consent, "/consent", &[("decision", "deny")])
        .await;
    assert_eq!(denied.status(), StatusCode::SEE_OTHER);
    let params = location_params(&denied);
    assert_eq!(param(&params, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        param(&params, "state").as_deref(),
        Some(request.state.as_str())
    );
    assert_eq!(param(&params, "iss").as_deref(), Some(app.address.as_str()));
}

#[tokio::test]
async fn clients_without_consent_skip_the_screen() {
    let app = spawn_app().await;
    let mut request = AuthRequest::confidential();
    request.client_id = NO_CONSENT.into();
    request.redirect_uri = "http://127.0.0.1:9998/cb".into();
    request.scope = "openid profile".into();
    let first = app.authorize(&request).await;
    let signed_in = app.sign_in(&first, "alice", ALICE_PASSWORD).await;
    let resumed = app.follow(&signed_in).await;
    assert!(location(&resumed).starts_with("http://127.0.0.1:9998/cb?code="));
}

#[tokio::test]
async fn form_post_response_mode_posts_the_code() {
    let app = spawn_app().await;
    let request = AuthRequest::confidential().with("response_mode", "form_post");
    let first = app.authorize(&request).await;
    let signed_in = app.sign_in(&first, "alice", ALICE_PASSWORD).await;
    let consent = app.follow(&app.follow(&signed_in).await).await;
    let page = app
        .submit_form(consent, "/consent", &[("decision", "allow")])
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"action="http:&#x2F;&#x2F;127.0.0.1:9999&#x2F;callback""#),
        "{html}"
    );
    let code = hidden_field(&html, "code").unwrap();
    assert_eq!(hidden_field(&html, "state").unwrap(), request.state);
    assert!(html.contains("/static/form_post.js"));
    assert_eq!(app.redeem(&request, &code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn prompt_none_and_prompt_login_and_max_age() {
    let app = spawn_app().await;
    let none = app
        .authorize(&AuthRequest::confidential().with("prompt", "none"))
        .await;
    assert_eq!(
        param(&location_params(&none), "error").as_deref(),
        Some("login_required")
    );

    app.authorize_through(&AuthRequest::confidential(), "alice", ALICE_PASSWORD)
        .await;
    let silent = app
        .authorize(&AuthRequest::confidential().with("prompt", "none"))
        .await;
    assert!(
        param(&location_params(&silent), "code").is_some(),
        "silent re-authorization"
    );
    let mut other_scope = AuthRequest::confidential().with("prompt", "none");
    other_scope.scope = "openid api:read".into();
    let needs_consent = app.authorize(&other_scope).await;
    assert_eq!(
        param(&location_params(&needs_consent), "error").as_deref(),
        Some("consent_required")
    );

    // prompt=login: the existing session is not enough.
    let forced = app
        .authorize(&AuthRequest::confidential().with("prompt", "login"))
        .await;
    assert!(location(&forced).contains("/login?request="));
    let signed_in = app.sign_in(&forced, "alice", ALICE_PASSWORD).await;
    let back = app.follow(&signed_in).await;
    assert!(
        location(&back).starts_with(CONFIDENTIAL_REDIRECT),
        "one fresh sign-in satisfies prompt=login"
    );

    // max_age: a session older than max_age must sign in again.
    app.clock.advance(120);
    let aged = app
        .authorize(&AuthRequest::confidential().with("max_age", "60"))
        .await;
    assert!(location(&aged).contains("/login?request="));
    let fresh = app
        .authorize(&AuthRequest::confidential().with("max_age", "600"))
        .await;
    assert!(location(&fresh).starts_with(CONFIDENTIAL_REDIRECT));
}

#[tokio::test]
async fn authorize_by_post_redirects_with_303() {
    let app = spawn_app().await;
    app.authorize_through(&AuthRequest::confidential(), "alice", ALICE_PASSWORD)
        .await;
    let request = AuthRequest::confidential();
    let response = app
        .browser
        .post(app.url("/authorize"))
        .form(&request.params())
        .send()
        .await
        .unwrap();
    // The POST continues as a GET, which carries the SameSite=Lax session
    // cookie even when the form was posted from another site.
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("/authorize?"));
    let answer = app.follow(&response).await;
    assert!(location(&answer).starts_with(CONFIDENTIAL_REDIRECT));
    assert_eq!(
        param(&location_params(&answer), "state").as_deref(),
        Some(request.state.as_str())
    );
}

#[tokio::test]
async fn issuer_with_a_path_prefix() {
    let app = spawn_app_with(|c| c.issuer = "http://127.0.0.1:8080/idp".into()).await;
    assert!(app.address.ends_with("/idp"));
    let meta: serde_json::Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(meta["issuer"], app.address);
    assert_eq!(meta["token_endpoint"], format!("{}/token", app.address));
    let rfc8414 = app
        .api
        .get(format!(
            "http://127.0.0.1:{}/.well-known/oauth-authorization-server/idp",
            app.port
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(rfc8414.status(), StatusCode::OK);
    let tokens = app
        .tokens_for(&AuthRequest::confidential(), "alice", ALICE_PASSWORD)
        .await;
    verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), CONFIDENTIAL).await;
}

#[tokio::test]
async fn a_fresh_sign_in_satisfies_even_max_age_zero() {
    let app = spawn_app().await;
    let request = AuthRequest::confidential().with("max_age", "0");
    let first = app.authorize(&request).await;
    let signed_in = app.sign_in(&first, "alice", ALICE_PASSWORD).await;
    app.clock.advance(5);
    let resumed = app.follow(&signed_in).await;
    assert!(
        location(&resumed).contains("/consent?request="),
        "no second login: {}",
        location(&resumed)
    );
}

#[tokio::test]
async fn the_consent_screen_cannot_skip_a_required_sign_in() {
    let app = spawn_app().await;
    app.authorize_through(&AuthRequest::confidential(), "alice", ALICE_PASSWORD)
        .await;
    let mut wider = AuthRequest::confidential().with("prompt", "login");
    wider.scope = "openid api:read".into();
    let to_login = app.authorize(&wider).await;
    let login_url = location(&to_login);
    assert!(login_url.contains("/login?request="));
    let consent_url = login_url.replace("/login?", "/consent?");
    let page = app.get(&consent_url).await;
    assert_eq!(page.status(), StatusCode::FOUND);
    assert!(location(&page).contains("/login?request="));
    let id = login_url.split("request=").nth(1).unwrap().to_string();
    let login_page = app.get("/login").await.text().await.unwrap();
    let csrf = hidden_field(&login_page, "csrf").unwrap();
    let posted = app
        .browser
        .post(app.url("/consent"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("request", id.as_str()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&posted).contains("/login?request="),
        "no code without the fresh sign-in"
    );
}

#[tokio::test]
async fn clients_requiring_mfa_send_password_only_users_to_enrolment() {
    let secure = |scope: &str| AuthRequest {
        client_id: "secure".into(),
        redirect_uri: "http://127.0.0.1:9996/cb".into(),
        scope: scope.into(),
        ..AuthRequest::confidential()
    };
    let app = spawn_app().await;
    let first = app.authorize(&secure("openid")).await;
    let signed_in = app.sign_in(&first, "alice", ALICE_PASSWORD).await;
    let resumed = app.follow(&signed_in).await;
    assert!(
        location(&resumed).contains("/account/mfa/enrol?request="),
        "no code without a second factor: {}",
        location(&resumed)
    );
    let silent = app
        .authorize(&secure("openid").with("prompt", "none"))
        .await;
    assert_eq!(
        param(&location_params(&silent), "error").as_deref(),
        Some("interaction_required")
    );

    let app = spawn_app().await;
    let tokens = app.tokens_for(&secure("openid"), "bob", BOB_PASSWORD).await;
    let id = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), "secure").await;
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp"]));
}
