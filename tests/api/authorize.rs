//! Bad authorization requests: a page (no redirect) until client and
//! redirect_uri are trusted, an error redirect with state and iss after.

use crate::helpers::*;
use reqwest::StatusCode;

async fn authorize_raw(app: &TestApp, query: &[(&str, &str)]) -> reqwest::Response {
    app.browser
        .get(app.url("/authorize"))
        .query(query)
        .send()
        .await
        .unwrap()
}

fn base_query(challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", PUBLIC.into()),
        ("redirect_uri", PUBLIC_REDIRECT.into()),
        ("scope", "openid".into()),
        ("state", "st4te".into()),
        ("code_challenge", challenge.to_string()),
        ("code_challenge_method", "S256".into()),
    ]
}

#[tokio::test]
async fn untrusted_client_or_redirect_uri_gets_a_page_not_a_redirect() {
    let app = spawn_app().await;
    let (_, challenge) = pkce_pair();
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("unknown client", vec![("client_id", "nobody".into())]),
        ("missing client", vec![("client_id", "".into())]),
        (
            "trailing slash",
            vec![("redirect_uri", format!("{PUBLIC_REDIRECT}/"))],
        ),
        (
            "extra query",
            vec![("redirect_uri", format!("{PUBLIC_REDIRECT}?a=b"))],
        ),
        (
            "other port",
            vec![("redirect_uri", "http://localhost:5174/callback".into())],
        ),
        (
            "other host",
            vec![("redirect_uri", "https://evil.example/callback".into())],
        ),
        ("missing redirect", vec![("redirect_uri", "".into())]),
    ];
    for (name, overrides) in cases {
        let mut query = base_query(&challenge);
        for (k, v) in &overrides {
            query.retain(|(qk, _)| qk != k);
            if !v.is_empty() {
                query.push((k, v.clone()));
            }
        }
        let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = authorize_raw(&app, &q).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
        assert!(
            response.headers().get("location").is_none(),
            "{name}: no redirect"
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Error id"),
            "{name}: friendly page with an error id"
        );
    }
    // Duplicated client_id or redirect_uri cannot be trusted either.
    for dup in ["client_id", "redirect_uri"] {
        let mut query = base_query(&challenge);
        let value = query.iter().find(|(k, _)| *k == dup).unwrap().1.clone();
        query.push((dup, value));
        let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = authorize_raw(&app, &q).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "duplicate {dup}"
        );
    }
}

#[tokio::test]
async fn errors_after_validation_go_back_to_the_client() {
    let app = spawn_app().await;
    let (_, challenge) = pkce_pair();
    /// (case, parameters to override, expected error)
    type Case = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "no PKCE for a public client",
            vec![("code_challenge", ""), ("code_challenge_method", "")],
            "invalid_request",
        ),
        (
            "plain PKCE",
            vec![("code_challenge_method", "plain")],
            "invalid_request",
        ),
        (
            "bad response_type",
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            "missing response_type",
            vec![("response_type", "")],
            "invalid_request",
        ),
        (
            "scope not allowed",
            vec![("scope", "openid admin")],
            "invalid_scope",
        ),
        (
            "bad prompt",
            vec![("prompt", "select_account")],
            "invalid_request",
        ),
        ("bad max_age", vec![("max_age", "soon")], "invalid_request"),
        (
            "fragment mode",
            vec![("response_mode", "fragment")],
            "invalid_request",
        ),
        (
            "request object",
            vec![("request", "eyJ.x.y")],
            "request_not_supported",
        ),
    ];
    for (name, overrides, expected) in cases {
        let mut query: Vec<(&str, String)> = base_query(&challenge);
        for (k, v) in &overrides {
            query.retain(|(qk, _)| qk != k);
            if !v.is_empty() {
                query.push((k, v.to_string()));
            }
        }
        let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = authorize_raw(&app, &q).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{name}");
        assert!(location(&response).starts_with(PUBLIC_REDIRECT), "{name}");
        let params = location_params(&response);
        assert_eq!(param(&params, "error").as_deref(), Some(expected), "{name}");
        assert_eq!(param(&params, "state").as_deref(), Some("st4te"), "{name}");
        assert_eq!(
            param(&params, "iss").as_deref(),
            Some(app.address.as_str()),
            "{name}"
        );
        assert!(param(&params, "error_description").is_some(), "{name}");
    }
}

#[tokio::test]
async fn duplicated_parameters_are_invalid_requests() {
    let app = spawn_app().await;
    let (_, challenge) = pkce_pair();
    let mut query = base_query(&challenge);
    query.push(("scope", "openid".into()));
    let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = authorize_raw(&app, &q).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        param(&location_params(&response), "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn unknown_parameters_are_ignored() {
    let app = spawn_app().await;
    let request = AuthRequest::confidential()
        .with("ui_locales", "fr")
        .with("x-custom", "1");
    let response = app.authorize(&request).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(location(&response).contains("/login?request="));
}

#[tokio::test]
async fn the_login_screen_shows_the_client_and_the_hint() {
    let app = spawn_app().await;
    let response = app
        .authorize(&AuthRequest::confidential().with("login_hint", "alice"))
        .await;
    let page = app.follow(&response).await;
    let html = page.text().await.unwrap();
    assert!(html.contains("Web App"));
    assert!(html.contains(r#"value="alice""#));
    assert!(html.contains(r#"autocomplete="username""#));
    assert!(html.contains(r#"autocomplete="current-password""#));
}

#[tokio::test]
async fn expired_and_unknown_request_ids_get_a_friendly_page() {
    let app = spawn_app().await;
    for path in [
        "/login?request=nope",
        "/consent?request=nope",
        "/authorize/resume?request=nope",
        "/authorize/resume",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(response.text().await.unwrap().contains("expired"), "{path}");
    }
    let to_login = app.authorize(&AuthRequest::confidential()).await;
    app.clock.advance(3600);
    let page = app.follow(&to_login).await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
}
