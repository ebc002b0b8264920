//! Bad input on every route, as tables: one row per case, each with the
//! exact answer it must get, an RFC error code in JSON, a page carrying a
//! known heading or sentence, or a redirect to a known place. Never a 5xx,
//! a panic, or a 2xx for junk.
//!
//! - `protocol`: /authorize, /token, /introspect, /revoke, /userinfo,
//!   /end_session, static files and the rest of the public endpoints;
//! - `screens`: sign-in, consent and the account pages, before and after
//!   signing in;
//! - `admin`: the admin screens and the admin API, before and after auth;
//! - `limits`: the documented maximum lengths, at and just over each one;
//! - `tokens`: JWTs signed "almost right", at every endpoint that reads one.

mod admin;
mod limits;
mod protocol;
mod screens;
mod tokens;

use crate::helpers::*;
use reqwest::{Client, Method};
use serde_json::Value;
use std::time::Duration;

/// The body of a request over `MAX_BODY` (64 KiB).
pub fn oversized_body() -> String {
    format!("a={}", "x".repeat(70 * 1024))
}

/// A value one byte longer than a form field may be (16 KiB).
pub fn over_field_limit() -> String {
    "x".repeat(gatehouse::model::limits::FORM_FIELD + 1)
}

/// What a case must get back.
#[derive(Debug, Clone)]
pub enum Expect {
    /// JSON with this status and this `error` code, never cached.
    Json(u16, &'static str),
    /// An HTML page with this status that carries this text.
    Page(u16, &'static str),
    /// A redirect with this status whose Location contains this text.
    Redirect(u16, &'static str),
    /// A redirect to the webapp client's redirect URI with this `error`
    /// and the request's state (`s1`).
    ClientError(&'static str),
    /// This status and a JSON body that is not an error.
    JsonOk(u16),
    /// This status and an empty body.
    Empty(u16),
}

/// One request and the answer it must get.
pub struct Case {
    name: String,
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
    expect: Option<Expect>,
}

fn case(method: Method, path: impl Into<String>) -> Case {
    let path = path.into();
    Case {
        name: String::new(),
        method,
        path,
        content_type: None,
        body: Vec::new(),
        headers: Vec::new(),
        expect: None,
    }
}

pub fn get(path: impl Into<String>) -> Case {
    case(Method::GET, path)
}

pub fn post(path: impl Into<String>) -> Case {
    case(Method::POST, path)
}

pub fn method(method: &str, path: impl Into<String>) -> Case {
    case(Method::from_bytes(method.as_bytes()).unwrap(), path)
}

impl Case {
    /// What the row is about, for the failure message.
    pub fn named(mut self, name: &str) -> Case {
        self.name = name.to_string();
        self
    }
    /// A form body; `{csrf}` is replaced by the browser's CSRF token.
    pub fn form(mut self, body: impl Into<String>) -> Case {
        self.content_type = Some("application/x-www-form-urlencoded");
        self.body = body.into().into_bytes();
        self
    }
    pub fn json(mut self, body: impl Into<String>) -> Case {
        self.content_type = Some("application/json");
        self.body = body.into().into_bytes();
        self
    }
    /// A body with no Content-Type at all.
    pub fn untyped(mut self, body: &str) -> Case {
        self.body = body.as_bytes().to_vec();
        self
    }
    /// Raw bytes as a form body (invalid UTF-8, NUL).
    pub fn bytes(mut self, body: &[u8]) -> Case {
        self.content_type = Some("application/x-www-form-urlencoded");
        self.body = body.to_vec();
        self
    }
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Case {
        self.headers.push((name, value.into()));
        self
    }
    pub fn auth(self, value: impl Into<String>) -> Case {
        self.header("authorization", value)
    }
    pub fn basic(self, (id, secret): (&str, &str)) -> Case {
        self.auth(basic(&format!("{id}:{secret}")))
    }
    pub fn bearer(self, token: &str) -> Case {
        self.auth(format!("Bearer {token}"))
    }
    pub fn then(mut self, expect: Expect) -> Case {
        self.expect = Some(expect);
        self
    }
}

/// A Basic header for the raw `id:secret` text.
pub fn basic(raw: &str) -> String {
    basic_bytes(raw.as_bytes())
}

pub fn basic_bytes(raw: &[u8]) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Sends every case with `client` and checks its answer; fails once, with
/// every row that went wrong. `csrf` fills in `{csrf}` in form bodies.
pub async fn run(app: &TestApp, client: &Client, csrf: Option<&str>, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(why) = check(app, client, csrf, case).await {
            failures.push(format!(
                "{} {} ({}): {why}",
                case.method,
                short(&case.path),
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn short(text: &str) -> String {
    if text.chars().count() > 90 {
        format!("{}…", text.chars().take(90).collect::<String>())
    } else {
        text.to_string()
    }
}

async fn check(
    app: &TestApp,
    client: &Client,
    csrf: Option<&str>,
    case: &Case,
) -> Result<(), String> {
    let expect = case
        .expect
        .clone()
        .expect("every case says what it expects");
    let mut body = case.body.clone();
    if let Some(token) = csrf {
        let text = String::from_utf8_lossy(&body).to_string();
        if text.contains("{csrf}") {
            body = text.replace("{csrf}", token).into_bytes();
        }
    }
    let mut request = client
        .request(case.method.clone(), app.url(&case.path))
        .timeout(Duration::from_secs(10));
    if let Some(ct) = case.content_type {
        request = request.header("content-type", ct);
    }
    for (name, value) in &case.headers {
        request = request.header(*name, value.as_str());
    }
    let response = request
        .body(body)
        .send()
        .await
        .map_err(|e| format!("no answer ({e})"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let (content_type, location, cache) = (
        header("content-type"),
        header("location"),
        header("cache-control"),
    );
    let text = response.text().await.unwrap_or_default();
    let seen = || format!("got {status} {content_type} {location} {}", short(&text));
    let status_is = |want: u16| {
        if status == want {
            Ok(())
        } else {
            Err(format!("want {want}; {}", seen()))
        }
    };
    match expect {
        Expect::Json(want, code) => {
            status_is(want)?;
            let json: Value =
                serde_json::from_str(&text).map_err(|_| format!("not JSON; {}", seen()))?;
            if json["error"] != code {
                return Err(format!("want error {code}; {}", seen()));
            }
            if !content_type.starts_with("application/json") || cache != "no-store" {
                return Err(format!("want no-store JSON; {}", seen()));
            }
        }
        Expect::JsonOk(want) => {
            status_is(want)?;
            let json: Value =
                serde_json::from_str(&text).map_err(|_| format!("not JSON; {}", seen()))?;
            if json.get("error").is_some() {
                return Err(format!("want no error; {}", seen()));
            }
        }
        Expect::Page(want, marker) => {
            status_is(want)?;
            if !content_type.starts_with("text/html") || !text.contains(marker) {
                return Err(format!("want a page with {marker:?}; {}", seen()));
            }
        }
        Expect::Redirect(want, to) => {
            status_is(want)?;
            if !location.contains(to) {
                return Err(format!("want Location with {to:?}; {}", seen()));
            }
        }
        Expect::ClientError(code) => {
            status_is(302)?;
            let url =
                url::Url::parse(&location).map_err(|_| format!("no client URL; {}", seen()))?;
            let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            let at_client = location.starts_with(CONFIDENTIAL_REDIRECT);
            if !at_client
                || param(&params, "error").as_deref() != Some(code)
                || param(&params, "state").as_deref() != Some("s1")
            {
                return Err(format!(
                    "want {code} with state s1 at the client; {}",
                    seen()
                ));
            }
        }
        Expect::Empty(want) => {
            status_is(want)?;
            if !text.is_empty() {
                return Err(format!("want an empty body; {}", seen()));
            }
        }
    }
    Ok(())
}

/// A browser that has signed in as `username` (straight on the login
/// page) and the CSRF token its pages carry.
pub async fn signed_in_browser(app: &TestApp, username: &str, password: &str) -> (Client, String) {
    let browser = new_browser();
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let csrf = hidden_field(&page.text().await.unwrap(), "csrf").expect("a CSRF field");
    let answer = browser
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        reqwest::StatusCode::SEE_OTHER,
        "{username} signs in"
    );
    (browser, csrf)
}

/// A browser with no cookies at all.
pub fn anonymous() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A browser that has a CSRF cookie (from the login page) but no session,
/// and its token.
pub async fn with_csrf_only(app: &TestApp) -> (Client, String) {
    let browser = new_browser();
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let csrf = hidden_field(&page.text().await.unwrap(), "csrf").expect("a CSRF field");
    (browser, csrf)
}
