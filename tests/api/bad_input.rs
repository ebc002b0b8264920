//! Bad input at every endpoint: malformed, oversized, duplicated and wrongly
//! typed parameters, JSON where a form is expected, broken Basic headers and
//! malformed JWTs. Every answer is a 4xx (or the spec's deliberate 200),
//! never a 5xx, a panic or a hang.

use crate::helpers::*;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    body: String,
    authorization: Option<String>,
}

fn case(name: &'static str, method: Method, path: &'static str) -> Case {
    Case {
        name,
        method,
        path,
        content_type: None,
        body: String::new(),
        authorization: None,
    }
}

impl Case {
    fn form(mut self, body: impl Into<String>) -> Case {
        self.content_type = Some("application/x-www-form-urlencoded");
        self.body = body.into();
        self
    }
    fn json(mut self, body: &str) -> Case {
        self.content_type = Some("application/json");
        self.body = body.to_string();
        self
    }
    fn auth(mut self, value: impl Into<String>) -> Case {
        self.authorization = Some(value.into());
        self
    }
}

async fn send(app: &TestApp, case: &Case) -> StatusCode {
    let mut request = app
        .browser
        .request(case.method.clone(), app.url(case.path))
        .timeout(Duration::from_secs(10));
    if let Some(ct) = case.content_type {
        request = request.header("content-type", ct);
    }
    if let Some(auth) = &case.authorization {
        request = request.header("authorization", auth.as_str());
    }
    let response = request
        .body(case.body.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: no answer ({e})", case.name));
    response.status()
}

fn basic(raw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[tokio::test]
async fn malformed_requests_get_client_errors_everywhere() {
    let app = spawn_app().await;
    let huge = "x".repeat(70 * 1024);
    let long_value = "a".repeat(6000);
    let endpoints = [
        "/token",
        "/introspect",
        "/revoke",
        "/userinfo",
        "/login",
        "/login/totp",
        "/consent",
        "/end_session",
        "/end_session/confirm",
        "/authorize",
    ];
    let mut cases = Vec::new();
    for path in endpoints {
        cases.push(
            case("json body", Method::POST, path).json(r#"{"grant_type":"authorization_code"}"#),
        );
        cases.push(case("oversized form", Method::POST, path).form(format!("a={huge}")));
        cases.push(case("not urlencoded", Method::POST, path).form("%%%&&&==%zz"));
        cases.push(
            case("binary body", Method::POST, path)
                .form(String::from_utf8_lossy(&[0xff, 0xfe, 0x00, 0x41]).to_string()),
        );
        cases.push(
            case("duplicated everything", Method::POST, path)
                .form("a=1&a=2&token=x&token=y&grant_type=x&grant_type=y"),
        );
        cases.push(
            case("broken basic", Method::POST, path)
                .form("token=x")
                .auth("Basic %%%"),
        );
        cases.push(
            case("basic without colon", Method::POST, path)
                .form("token=x")
                .auth(basic("nocolon")),
        );
        cases.push(
            case("non-utf8 basic", Method::POST, path)
                .form("token=x")
                .auth(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode([0xffu8, 0x3a, 0xfe])
                )),
        );
        cases.push(case("long values", Method::POST, path).form(format!(
            "request={long_value}&csrf={long_value}&code={long_value}&token={long_value}"
        )));
    }
    cases.push(
        case("token grant with wrong types", Method::POST, "/token")
            .form("grant_type[]=x&code[a]=1")
            .auth(basic("webapp:webapp-secret-0123456789")),
    );
    cases.push(case(
        "authorize garbage",
        Method::GET,
        "/authorize?%ff%fe=%00&client_id=%00",
    ));
    cases.push(case("authorize huge state", Method::GET, "/authorize?client_id=webapp&state=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    cases.push(case(
        "NUL everywhere",
        Method::GET,
        "/authorize?client_id=webapp%00&redirect_uri=%00&state=%00&nonce=%00",
    ));
    cases.push(case("NUL in a trusted request", Method::GET, "/authorize?client_id=webapp&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcallback&response_type=code&scope=openid&nonce=a%00b"));
    cases.push(
        case("NUL in basic client id", Method::POST, "/token")
            .form("grant_type=client_credentials")
            .auth(basic("web%00app:x")),
    );
    cases.push(
        case("NUL in a form client id", Method::POST, "/token")
            .form("grant_type=client_credentials&client_id=a%00b&client_secret=x"),
    );
    cases.push(
        case("NUL username", Method::POST, "/login").form("username=al%00ice&password=x&csrf=y"),
    );
    cases.push(case(
        "resume garbage",
        Method::GET,
        "/authorize/resume?request=%00%0d%0a",
    ));
    cases.push(case("userinfo bearer with spaces", Method::GET, "/userinfo").auth("Bearer a b c"));
    cases.push(case("userinfo empty bearer", Method::GET, "/userinfo").auth("Bearer "));
    cases.push(case(
        "end_session garbage hint",
        Method::GET,
        "/end_session?id_token_hint=a.b.c&client_id=%00",
    ));
    cases.push(case(
        "static traversal",
        Method::GET,
        "/static/..%2f..%2fCargo.toml",
    ));
    for c in &cases {
        let status = send(&app, c).await;
        assert!(
            status.is_client_error() || status.is_success() || status.is_redirection(),
            "{} {} ({}): {status}",
            c.method,
            c.path,
            c.name
        );
        assert!(
            !status.is_server_error(),
            "{} ({}): {status}",
            c.path,
            c.name
        );
    }
    // The server is still healthy afterwards.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

/// JWTs that must all be refused: every one is signed "almost right".
async fn hostile_tokens(app: &TestApp) -> Vec<(&'static str, String)> {
    let keys = app.provider.keys();
    let now = gatehouse::clock::unix_now();
    let good_claims = json!({
        "iss": app.address, "sub": "u", "aud": CONFIDENTIAL, "client_id": CONFIDENTIAL,
        "exp": now + 600, "iat": now, "jti": "j1", "scope": "openid",
    });
    let sign = |typ: &str, claims: &Value| {
        gatehouse::crypto::jwt::sign(&keys.signing, typ, claims).unwrap()
    };
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let mut expired = good_claims.clone();
    expired["exp"] = json!(now - 10);
    let mut wrong_iss = good_claims.clone();
    wrong_iss["iss"] = json!("https://evil.example");
    let valid = sign("at+jwt", &good_claims);
    let parts: Vec<&str> = valid.split('.').collect();
    let mut tampered_claims = good_claims.clone();
    tampered_claims["sub"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "at+jwt", "kid": keys.signing.kid})),
        b64(&good_claims)
    );
    // HS256 keyed with the public key's modulus, the classic confusion.
    let jwk = keys.verifying_key(&keys.signing.kid).unwrap().jwk.clone();
    let public = jwk["n"].as_str().unwrap().as_bytes().to_vec();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(keys.signing.kid.clone());
    let hs256 = jsonwebtoken::encode(
        &header,
        &good_claims,
        &jsonwebtoken::EncodingKey::from_secret(&public),
    )
    .unwrap();
    let other = gatehouse::crypto::key_set::generate("ES256").unwrap();
    let foreign_key = gatehouse::crypto::key_set::SigningKey::from_pkcs8_base64(
        &other.kid,
        "ES256",
        &other.private_key,
    )
    .unwrap();
    let unknown_kid = gatehouse::crypto::jwt::sign(&foreign_key, "at+jwt", &good_claims).unwrap();
    vec![
        ("expired", sign("at+jwt", &expired)),
        ("wrong issuer", sign("at+jwt", &wrong_iss)),
        ("wrong typ", sign("JWT", &good_claims)),
        ("tampered payload", tampered),
        ("alg none", none),
        ("HS256 with the public key", hs256),
        ("unknown kid", unknown_kid),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
        ("not base64", "@@@.###.$$$".to_string()),
    ]
}

#[tokio::test]
async fn hostile_jwts_are_refused_at_every_endpoint_that_reads_one() {
    let app = spawn_app().await;
    for (name, token) in hostile_tokens(&app).await {
        let info = app.userinfo(&token).await;
        assert_eq!(info.status(), StatusCode::UNAUTHORIZED, "userinfo: {name}");
        let introspected = app.introspect(&token, WEBAPP).await;
        assert_eq!(
            introspected,
            json!({"active": false}),
            "introspection: {name}"
        );
        let revoked = app
            .back_channel("/revoke", &[("token", token.as_str())], WEBAPP)
            .await;
        assert!(
            revoked.status().is_success() || revoked.status().is_client_error(),
            "revocation: {name}"
        );
        let logout = app
            .browser
            .get(app.url("/end_session"))
            .query(&[("id_token_hint", token.as_str())])
            .send()
            .await
            .unwrap();
        assert!(
            !logout.status().is_server_error(),
            "end_session: {name}: {}",
            logout.status()
        );
        assert!(
            logout.headers().get("location").is_none(),
            "end_session redirected for {name}"
        );
    }
}
