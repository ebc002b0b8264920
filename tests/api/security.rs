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
    let client = reqwest::Client::builder()
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

#[tokio::test]
async fn sign_in_and_back_channel_are_rate_limited_per_address() {
    let app = spawn_app_with(|c| {
        c.rate_limit_sign_in = 3;
        c.rate_limit_back_channel = 5;
    })
    .await;
    let page = app.get("/login").await.text().await.unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let answer = app
            .browser
            .post(app.url("/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", "alice"),
                ("password", "guess"),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(answer.status());
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = answer.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=20).contains(&wait), "{wait}");
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // The screens a person reads are not limited.
    assert_eq!(app.get("/login").await.status(), StatusCode::OK);

    let mut last = StatusCode::OK;
    for _ in 0..6 {
        last = app
            .back_channel("/introspect", &[("token", "x")], WEBAPP)
            .await
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let limited = app
        .back_channel("/token", &[("grant_type", "client_credentials")], WEBAPP)
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = limited.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
}
