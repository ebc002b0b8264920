//! Web hardening: security headers, `__Host-` cookies, and CORS only where a
//! browser application needs it, only for registered origins.

use crate::helpers::*;
use reqwest::{Method, StatusCode};

const SPA_ORIGIN: &str = "http://localhost:5173";

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/login",
        "/jwks",
        "/nothing-here",
        "/authorize?client_id=x",
    ] {
        let response = app.get(path).await;
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over plain http"
        );
    }
}

#[tokio::test]
async fn https_issuers_get_hsts_and_host_prefixed_cookies() {
    let app = spawn_app_with(|c| c.issuer = "https://id.example.test/auth".into()).await;
    let client = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(format!("http://127.0.0.1:{}/auth/login", app.port))
        .send()
        .await
        .unwrap();
    assert!(page.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-gatehouse_csrf="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/;") || cookie.ends_with("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");
}

#[tokio::test]
async fn cors_only_for_registered_origins_on_the_browser_endpoints() {
    let app = spawn_app().await;
    for path in ["/jwks", "/.well-known/openid-configuration", "/userinfo"] {
        let allowed = app
            .api
            .get(app.url(path))
            .header("Origin", SPA_ORIGIN)
            .send()
            .await
            .unwrap();
        assert_eq!(
            allowed.headers()["access-control-allow-origin"],
            SPA_ORIGIN,
            "{path}"
        );
        let foreign = app
            .api
            .get(app.url(path))
            .header("Origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert!(
            foreign
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{path}"
        );
    }
    let preflight = |path: &str, origin: &str| {
        app.api
            .request(Method::OPTIONS, app.url(path))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ok = preflight("/token", SPA_ORIGIN).await.unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(ok.headers()["access-control-allow-origin"], SPA_ORIGIN);
    assert!(ok.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    let refused = preflight("/token", "https://evil.example").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    // Never on the authorization endpoint or the screens.
    for path in ["/authorize", "/login", "/introspect", "/revoke"] {
        let answer = preflight(path, SPA_ORIGIN).await.unwrap();
        assert!(
            answer
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{path}"
        );
        let get = app
            .api
            .get(app.url(path))
            .header("Origin", SPA_ORIGIN)
            .send()
            .await
            .unwrap();
        assert!(
            get.headers().get("access-control-allow-origin").is_none(),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_public_client_can_redeem_its_code_from_the_browser() {
    let app = spawn_app().await;
    let request = AuthRequest::public();
    let params = app
        .authorize_through(&request, "alice", ALICE_PASSWORD)
        .await;
    let code = param(&params, "code").unwrap();
    let response = app
        .api
        .post(app.url("/token"))
        .header("Origin", SPA_ORIGIN)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", PUBLIC_REDIRECT),
            ("client_id", PUBLIC),
            ("code_verifier", request.verifier.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        SPA_ORIGIN
    );
}

/// Posts a password for `username` from the test's one address.
async fn try_password(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    try_password_at(app, "/login", username, password).await
}

/// The same post to `path`, an address the router takes for `/login`.
async fn try_password_at(
    app: &TestApp,
    path: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    app.post_password(&app.browser, path, (username, password), None)
        .await
}

/// Checks that `answer` is the per-address limiter's 429 for a screen.
async fn assert_address_limited(answer: reqwest::Response) {
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = answer.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let page = answer.text().await.unwrap();
    assert!(page.contains("Too many attempts"), "{page}");
    assert!(
        page.contains(&format!("Please wait {wait} seconds")),
        "{page}"
    );
}

#[tokio::test]
async fn sign_in_posts_are_limited_per_address_whatever_the_username() {
    let app = spawn_app_with(|c| c.rate_limit_sign_in = 3).await;
    // One failure per username: no account is ever slowed down, so only the
    // address's budget can refuse the fourth post.
    let mut statuses = Vec::new();
    for i in 0..3 {
        let answer = try_password(&app, &format!("someone-{i}"), "guess").await;
        statuses.push(answer.status());
    }
    assert_eq!(statuses, [StatusCode::UNAUTHORIZED; 3]);
    assert_address_limited(try_password(&app, "someone-3", "guess").await).await;
    // Even the right password of an account nobody guessed at.
    assert_address_limited(try_password(&app, "alice", ALICE_PASSWORD).await).await;
    // The screens a person reads are not limited.
    assert_eq!(app.get("/login").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_percent_encoded_path_draws_on_the_same_budget() {
    // The router decodes `/log%69n` to `/login`; the limiter must see the
    // same path, or encoding one letter would skip it.
    let app = spawn_app_with(|c| c.rate_limit_sign_in = 3).await;
    for (i, path) in ["/log%69n", "/%6cogin", "/login"].iter().enumerate() {
        let answer = try_password_at(&app, path, &format!("someone-{i}"), "guess").await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_address_limited(try_password_at(&app, "/log%69n", "someone-3", "guess").await).await;
    assert_address_limited(try_password(&app, "someone-4", "guess").await).await;
}

#[tokio::test]
async fn back_channel_requests_are_limited_per_address() {
    let app = spawn_app_with(|c| c.rate_limit_back_channel = 5).await;
    for i in 0..5 {
        let answer = app
            .back_channel("/introspect", &[("token", "x")], WEBAPP)
            .await;
        assert_eq!(answer.status(), StatusCode::OK, "request {i}");
    }
    let limited = app
        .back_channel("/introspect", &[("token", "x")], WEBAPP)
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    // Token, introspection and revocation share the budget.
    let limited = app
        .back_channel("/token", &[("grant_type", "client_credentials")], WEBAPP)
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    let body: serde_json::Value = limited.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
    // A screen whose path ends the same way is not the back channel.
    let screen = app
        .browser
        .post(app.url("/account/applications/revoke"))
        .form(&[("client_id", "webapp")])
        .send()
        .await
        .unwrap();
    assert_eq!(screen.status(), StatusCode::SEE_OTHER, "to sign in first");
}

/// Signs bob in with his password; returns the TOTP page's csrf and request.
async fn at_bobs_totp_page(app: &TestApp) -> (String, String) {
    let first = app.authorize(&AuthRequest::confidential()).await;
    let page = app.follow(&first).await;
    let answer = app
        .submit_form(
            page,
            "/login",
            &[("username", "bob"), ("password", BOB_PASSWORD)],
        )
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&answer).contains("/login/totp"),
        "a code is asked for"
    );
    let page = app.follow(&answer).await.text().await.unwrap();
    (
        hidden_field(&page, "csrf").unwrap(),
        hidden_field(&page, "request").unwrap(),
    )
}

/// Posts a TOTP code on the page `at_bobs_totp_page` reached.
async fn try_code(
    app: &TestApp,
    (csrf, request): &(String, String),
    code: &str,
) -> reqwest::Response {
    app.browser
        .post(app.url("/login/totp"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("request", request.as_str()),
            ("code", code),
        ])
        .send()
        .await
        .unwrap()
}

/// A six-digit code that is not bob's current one.
fn wrong_code(app: &TestApp) -> String {
    let right: u32 = app.totp_code().parse().unwrap();
    format!("{:06}", (right + 500_000) % 1_000_000)
}

#[tokio::test]
async fn totp_posts_draw_on_the_per_address_sign_in_limit() {
    let app = spawn_app_with(|c| c.rate_limit_sign_in = 3).await;
    let page = at_bobs_totp_page(&app).await; // the first post
    let wrong = try_code(&app, &page, &wrong_code(&app)).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = try_code(&app, &page, &wrong_code(&app)).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // Two wrong codes slow neither the account nor the challenge down: only
    // the address's budget stops the right code.
    assert_address_limited(try_code(&app, &page, &app.totp_code()).await).await;
}

#[tokio::test]
async fn five_wrong_totp_codes_end_the_challenge() {
    let app = spawn_app_with(|c| c.rate_limit_sign_in = 0).await;
    let page = at_bobs_totp_page(&app).await;
    for attempt in 1..=4 {
        let wrong = try_code(&app, &page, &wrong_code(&app)).await;
        assert_eq!(
            wrong.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
        // Past any delay the failures put on the account (at most a minute
        // for so few), well inside the challenge's five minutes.
        app.clock.advance(61);
    }
    let fifth = try_code(&app, &page, &wrong_code(&app)).await;
    assert_eq!(fifth.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&fifth).contains("/login?request="),
        "the password is needed again: {}",
        location(&fifth)
    );
    // The challenge is gone: the right code now signs nobody in.
    let late = try_code(&app, &page, &app.totp_code()).await;
    assert_eq!(late.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&late).contains("/login?request="),
        "still back to the password: {}",
        location(&late)
    );
}
