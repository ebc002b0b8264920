//! Requests like a browser (no redirects followed, cookies kept, forms
//! filled in from the page) and like a relying party on the back channel.

use super::app::TestApp;
use reqwest::header::LOCATION;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

/// Another browser, with a cookie jar of its own, following no redirects.
/// A client builder, with rustls's crypto provider installed first: the
/// crate's reqwest uses rustls without a provider of its own, and a test
/// may build a client before any server in the process installed one.
pub fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    Client::builder()
}

pub fn new_browser() -> Client {
    client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// The value of a hidden input in an HTML page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&#x2F;", "/")
            .replace("&amp;", "&"),
    )
}

/// A JSON answer: its status, the cookies it set and its body.
pub struct JsonAnswer {
    pub status: StatusCode,
    pub cookies: Vec<(String, String)>,
    pub body: Value,
}

impl JsonAnswer {
    /// The value the answer set for the cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The query parameters of a Location header.
pub fn location_params(response: &Response) -> Vec<(String, String)> {
    let location = location(response);
    let url = url::Url::parse(&location)
        .unwrap_or_else(|_| url::Url::parse(&format!("http://x{location}")).unwrap());
    url.query_pairs().into_owned().collect()
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location header on a {} answer", response.status()))
        .to_str()
        .unwrap()
        .to_string()
}

pub fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The host the browser reaches the server by: the issuer's when it is
    /// `localhost` (cookies are kept per host), the loopback address
    /// otherwise.
    pub fn host(&self) -> &'static str {
        if self.address.starts_with("http://localhost:") {
            "localhost"
        } else {
            "127.0.0.1"
        }
    }

    /// The CSRF token of the page at `path`, as `browser` gets it.
    pub async fn csrf_of(&self, browser: &Client, path: &str) -> String {
        let page = browser.get(self.url(path)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "GET {path}");
        let html = page.text().await.unwrap();
        hidden_field(&html, "csrf").unwrap_or_else(|| panic!("no CSRF field on {path}: {html}"))
    }

    /// POSTs `form` to `path` from `browser` and reads the JSON answer
    /// (the WebAuthn options endpoints, and their errors).
    pub async fn post_for_json(
        &self,
        browser: &Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> JsonAnswer {
        let response = browser
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let cookies = response
            .cookies()
            .map(|c| (c.name().to_string(), c.value().to_string()))
            .collect();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("POST {path} answered {status} without JSON ({e}): {text}"));
        JsonAnswer {
            status,
            cookies,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.browser.get(self.url(path)).send().await.unwrap()
    }

    /// Follows a same-server relative redirect.
    pub async fn follow(&self, response: &Response) -> Response {
        let to = location(response);
        let url = if to.starts_with("http") {
            to
        } else {
            format!("http://{}:{}{to}", self.host(), self.port)
        };
        self.browser.get(url).send().await.unwrap()
    }

    /// Posts the sign-in form as `browser` would: reads `/login` for its
    /// CSRF token, then sends `username` and `password` to `path` (`/login`,
    /// or another address for it), from `from` when given (X-Forwarded-For).
    pub async fn post_password(
        &self,
        browser: &Client,
        path: &str,
        (username, password): (&str, &str),
        from: Option<&str>,
    ) -> Response {
        let page = browser.get(self.url("/login")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "the sign-in page");
        let csrf = hidden_field(&page.text().await.unwrap(), "csrf").expect("a CSRF field");
        let mut post = browser.post(self.url(path));
        if let Some(from) = from {
            post = post.header("x-forwarded-for", from);
        }
        post.form(&[
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
    }

    /// Fills in and submits a form page at `path` with `fields` (CSRF, the
    /// request id and the destination are copied from the page).
    pub async fn submit_form(
        &self,
        page: Response,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        assert_eq!(page.status(), StatusCode::OK, "form page status");
        let html = page.text().await.unwrap();
        let mut form: Vec<(String, String)> = vec![(
            "csrf".into(),
            hidden_field(&html, "csrf").expect("csrf field"),
        )];
        for carried in ["request", "then"] {
            if let Some(value) = hidden_field(&html, carried) {
                form.push((carried.into(), value));
            }
        }
        form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.browser
            .post(self.url(action))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// POSTs a raw form to the token endpoint.
    pub async fn token_form(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Response {
        let mut builder = self.api.post(self.url("/token")).form(form);
        if let Some((id, secret)) = basic {
            builder = builder.basic_auth(id, Some(secret));
        }
        builder.send().await.unwrap()
    }

    /// POSTs to a client-authenticated back-channel endpoint.
    pub async fn back_channel(
        &self,
        path: &str,
        form: &[(&str, &str)],
        client: (&str, &str),
    ) -> Response {
        self.api
            .post(self.url(path))
            .basic_auth(client.0, Some(client.1))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Refreshes as `client`.
    pub async fn refresh(&self, refresh_token: &str, client: (&str, &str)) -> Response {
        self.back_channel(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
            client,
        )
        .await
    }

    /// Introspects as `client` and returns the JSON answer.
    pub async fn introspect(&self, token: &str, client: (&str, &str)) -> Value {
        let response = self
            .back_channel("/introspect", &[("token", token)], client)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "no-store");
        response.json().await.unwrap()
    }

    pub async fn userinfo(&self, access_token: &str) -> Response {
        self.api
            .get(self.url("/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    /// A client_credentials token for `client`, asking for `scope`.
    pub async fn client_token(&self, client: (&str, &str), scope: &str) -> Response {
        self.token_form(
            &[("grant_type", "client_credentials"), ("scope", scope)],
            Some(client),
        )
        .await
    }
}

/// Verifies a JWT against the server's published JWKS with jsonwebtoken's
/// own JWK support, independently of Gatehouse's verification code.
pub async fn verify_with_jwks(app: &TestApp, jwt: &str, audience: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .api
        .get(app.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    let kid = header.kid.clone().expect("kid in the header");
    let jwk = jwks.find(&kid).expect("the kid is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[&app.address]);
    jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .expect("valid signature and claims")
        .claims
}
