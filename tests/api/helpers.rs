//! Spawns a real Gatehouse on port 0 with a fresh database (SQLite by
//! default; Postgres when GATEHOUSE_TEST_POSTGRES names a server) and drives
//! it over HTTP like a browser and like a relying party.

use gatehouse::clock::ManualClock;
use gatehouse::config::Config;
use gatehouse::startup::Application;
use reqwest::header::LOCATION;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use std::sync::Arc;

pub const CONFIDENTIAL: &str = "webapp";
pub const CONFIDENTIAL_SECRET: &str = "webapp-secret-0123456789";
pub const CONFIDENTIAL_REDIRECT: &str = "http://127.0.0.1:9999/callback";
pub const PUBLIC: &str = "spa";
pub const PUBLIC_REDIRECT: &str = "http://localhost:5173/callback";
pub const NO_CONSENT: &str = "trusted";
pub const SERVICE: &str = "service";
pub const SERVICE_SECRET: &str = "service-secret-0123456789";
pub const KIOSK: &str = "kiosk";
pub const KIOSK_SECRET: &str = "kiosk-secret-0123456789";
pub const ALICE_PASSWORD: &str = "correct horse battery staple";
pub const BOB_PASSWORD: &str = "bob's long passphrase";
pub const BOB_TOTP: &str = "JBSWY3DPEHPK3PXP";

const SEED: &str = r#"
[[clients]]
client_id = "webapp"
name = "Web App"
client_secret = "webapp-secret-0123456789"
redirect_uris = ["http://127.0.0.1:9999/callback", "http://127.0.0.1:9999/other"]
post_logout_redirect_uris = ["http://127.0.0.1:9999/"]
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "profile", "email", "offline_access", "api:read"]

[[clients]]
client_id = "spa"
name = "Single Page App"
redirect_uris = ["http://localhost:5173/callback"]
grant_types = ["authorization_code"]
scopes = ["openid", "profile", "email"]

[[clients]]
client_id = "trusted"
name = "Trusted App"
client_secret = "trusted-secret-0123456789"
redirect_uris = ["http://127.0.0.1:9998/cb"]
scopes = ["openid", "profile"]
require_consent = false

[[clients]]
client_id = "secure"
name = "Secure App"
client_secret = "secure-secret-0123456789"
redirect_uris = ["http://127.0.0.1:9996/cb"]
scopes = ["openid"]
require_consent = false
require_mfa = true

[[clients]]
client_id = "service"
name = "Back-end Service"
client_secret = "service-secret-0123456789"
grant_types = ["client_credentials"]
scopes = ["api:read", "api:write"]

[[clients]]
client_id = "automation"
name = "Automation"
client_secret = "automation-secret-0123456789"
grant_types = ["client_credentials"]
scopes = ["api:read"]
admin = true

[[clients]]
client_id = "kiosk"
name = "Kiosk"
client_secret = "kiosk-secret-0123456789"
redirect_uris = ["http://127.0.0.1:9997/cb"]
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "offline_access"]
require_consent = false
access_token_ttl = 120
refresh_token_idle_ttl = 600
refresh_token_absolute_ttl = 1800

[[users]]
username = "alice"
password = "correct horse battery staple"
email = "alice@example.com"
name = "Alice Example"

[[users]]
username = "bob"
password = "bob's long passphrase"
email = "bob@example.com"
name = "Bob Example"
totp_secret = "JBSWY3DPEHPK3PXP"
"#;

/// A running server and a browser-like client for it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// Follows no redirects and keeps cookies, like a browser tab we drive.
    pub browser: Client,
    /// A plain client for back-channel calls (token, userinfo).
    pub api: Client,
    pub clock: ManualClock,
    pub provider: Arc<gatehouse::state::Provider>,
    pub metrics_port: Option<u16>,
    pub database_url: String,
    pub seed_path: std::path::PathBuf,
}

/// Which engine this run uses.
pub fn postgres_server() -> Option<String> {
    std::env::var("GATEHOUSE_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A fresh, empty database URL: a new Postgres database, or a SQLite file
/// in a new temporary folder.
pub async fn fresh_database() -> String {
    let name = format!("gh_test_{}", uuid::Uuid::new_v4().simple());
    match postgres_server() {
        Some(server) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&server)
                .await
                .expect("GATEHOUSE_TEST_POSTGRES is set but Postgres is unreachable");
            sqlx::Executor::execute(&mut conn, format!(r#"CREATE DATABASE "{name}""#).as_str())
                .await
                .expect("cannot create a test database");
            let mut url = url::Url::parse(&server).expect("GATEHOUSE_TEST_POSTGRES must be a URL");
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
        None => {
            let dir = std::env::temp_dir().join(&name);
            format!("sqlite://{}/gatehouse.db", dir.display())
        }
    }
}

/// Writes the test seed file to a fresh temporary path.
pub fn write_seed() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("gh-seed-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, SEED).unwrap();
    path
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    gatehouse::telemetry::init_for_tests();
    let database_url = fresh_database().await;
    let seed_path =
        std::env::temp_dir().join(format!("gh-seed-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&seed_path, SEED).unwrap();
    let mut config = Config {
        database_url: database_url.clone(),
        listen: "127.0.0.1:0".into(),
        seed: Some(seed_path.clone()),
        ..Config::default()
    };
    adjust(&mut config);
    let named_issuer = config.issuer.clone();
    let clock = ManualClock::default();
    // The issuer needs the port, which is known only after binding: pick a
    // free port, then build with the issuer that names it. Another test may
    // take the port in between; then pick again.
    let mut attempts = 0;
    let (app, port) = loop {
        let port = free_port();
        config.listen = format!("127.0.0.1:{port}");
        // A test that names its own issuer host (an https one behind a
        // proxy, say) keeps it; the default host gets the real port.
        if let Some(prefix) = named_issuer.strip_prefix("http://127.0.0.1:8080") {
            config.issuer = format!("http://127.0.0.1:{port}{prefix}");
        }
        match Application::build_with_clock(config.clone(), Arc::new(clock.clone())).await {
            Ok(app) => break (app, port),
            Err(e) if attempts < 3 && format!("{e:#}").contains("cannot listen") => {
                attempts += 1;
            }
            Err(e) => panic!("the application builds: {e:#}"),
        }
    };
    let provider = app.provider();
    let metrics_port = app.metrics_port();
    tokio::spawn(app.run_until_stopped());
    // Tests meet the server as it runs once warm: with the next signing key
    // published (a first start makes it in the background) and its read
    // cache in use.
    let started = std::time::Instant::now();
    while !provider.keys().jwks_json.contains(r#""kid""#)
        || provider.keys().jwks_json.matches(r#""kid""#).count() < 2
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the next signing key was never published"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    if config.cache_sync_ms > 0 {
        let started = std::time::Instant::now();
        while !provider.store.read_cache_stats().active {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "the read cache never came into use"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let api = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address: config.issuer.clone(),
        port,
        browser,
        api,
        clock,
        provider,
        metrics_port,
        database_url,
        seed_path,
    }
}

/// PKCE verifier and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    let verifier = gatehouse::crypto::random_token();
    let challenge = gatehouse::oauth::pkce::challenge_of(&verifier);
    (verifier, challenge)
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

/// What a test asks the authorization endpoint for.
#[derive(Clone)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub nonce: String,
    pub verifier: Option<String>,
    pub extra: Vec<(String, String)>,
}

impl AuthRequest {
    /// The webapp client asking for offline access (a refresh token).
    pub fn offline() -> AuthRequest {
        AuthRequest {
            scope: "openid profile email offline_access".into(),
            ..AuthRequest::confidential()
        }
    }

    pub fn confidential() -> AuthRequest {
        let (verifier, _) = pkce_pair();
        AuthRequest {
            client_id: CONFIDENTIAL.into(),
            redirect_uri: CONFIDENTIAL_REDIRECT.into(),
            scope: "openid profile email".into(),
            state: gatehouse::crypto::random_token(),
            nonce: gatehouse::crypto::random_token(),
            verifier: Some(verifier),
            extra: Vec::new(),
        }
    }

    pub fn public() -> AuthRequest {
        AuthRequest {
            client_id: PUBLIC.into(),
            redirect_uri: PUBLIC_REDIRECT.into(),
            ..AuthRequest::confidential()
        }
    }

    pub fn with(mut self, name: &str, value: &str) -> AuthRequest {
        self.extra.push((name.into(), value.into()));
        self
    }

    pub fn params(&self) -> Vec<(String, String)> {
        let mut p = vec![
            ("response_type".to_string(), "code".to_string()),
            ("client_id".into(), self.client_id.clone()),
            ("redirect_uri".into(), self.redirect_uri.clone()),
            ("scope".into(), self.scope.clone()),
            ("state".into(), self.state.clone()),
            ("nonce".into(), self.nonce.clone()),
        ];
        if let Some(v) = &self.verifier {
            p.push((
                "code_challenge".into(),
                gatehouse::oauth::pkce::challenge_of(v),
            ));
            p.push(("code_challenge_method".into(), "S256".into()));
        }
        p.extend(self.extra.iter().cloned());
        p
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.browser.get(self.url(path)).send().await.unwrap()
    }

    /// GET /authorize with the request's parameters.
    pub async fn authorize(&self, request: &AuthRequest) -> Response {
        self.browser
            .get(self.url("/authorize"))
            .query(&request.params())
            .send()
            .await
            .unwrap()
    }

    /// Follows a same-server relative redirect.
    pub async fn follow(&self, response: &Response) -> Response {
        let to = location(response);
        let url = if to.starts_with("http") {
            to
        } else {
            format!("http://127.0.0.1:{}{to}", self.port)
        };
        self.browser.get(url).send().await.unwrap()
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

    /// Signs in on the login page that `to_login` redirects to; returns the
    /// answer to the last form (password, or TOTP for users who have one).
    pub async fn sign_in(&self, to_login: &Response, username: &str, password: &str) -> Response {
        let page = self.follow(to_login).await;
        let answer = self
            .submit_form(
                page,
                "/login",
                &[("username", username), ("password", password)],
            )
            .await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "password accepted");
        if location(&answer).contains("/login/totp") {
            let page = self.follow(&answer).await;
            let code = self.totp_code();
            return self
                .submit_form(page, "/login/totp", &[("code", &code)])
                .await;
        }
        answer
    }

    /// The current TOTP code for bob at the server's clock.
    pub fn totp_code(&self) -> String {
        use gatehouse::clock::Clock;
        gatehouse::crypto::totp::code_at(BOB_TOTP, self.clock.now() as u64).unwrap()
    }

    /// Runs authorize → login (→ TOTP) → consent and returns the redirect
    /// to the client, with its parameters.
    pub async fn authorize_through(
        &self,
        request: &AuthRequest,
        username: &str,
        password: &str,
    ) -> Vec<(String, String)> {
        let first = self.authorize(request).await;
        assert_eq!(first.status(), StatusCode::FOUND, "authorize redirects");
        let mut current = if location(&first).contains("/login") {
            let signed_in = self.sign_in(&first, username, password).await;
            assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
            self.follow(&signed_in).await
        } else {
            first
        };
        if location(&current).contains("/consent") {
            let page = self.follow(&current).await;
            current = self
                .submit_form(page, "/consent", &[("decision", "allow")])
                .await;
        }
        let to = location(&current);
        assert!(
            to.starts_with(&request.redirect_uri),
            "ends at the client: {to}"
        );
        location_params(&current)
    }

    /// Completes the flow and redeems the code; returns the token response.
    pub async fn tokens_for(&self, request: &AuthRequest, username: &str, password: &str) -> Value {
        let params = self.authorize_through(request, username, password).await;
        let code = param(&params, "code").expect("a code");
        let response = self.redeem(request, &code).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// POSTs the code to the token endpoint as the request's client.
    pub async fn redeem(&self, request: &AuthRequest, code: &str) -> Response {
        let mut form = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code.to_string()),
            ("redirect_uri", request.redirect_uri.clone()),
        ];
        if let Some(v) = &request.verifier {
            form.push(("code_verifier", v.clone()));
        }
        let builder = self.api.post(self.url("/token"));
        let builder = match request.client_id.as_str() {
            CONFIDENTIAL => builder.basic_auth(CONFIDENTIAL, Some(CONFIDENTIAL_SECRET)),
            NO_CONSENT => builder.basic_auth(NO_CONSENT, Some("trusted-secret-0123456789")),
            KIOSK => builder.basic_auth(KIOSK, Some(KIOSK_SECRET)),
            "secure" => builder.basic_auth("secure", Some("secure-secret-0123456789")),
            other => {
                form.push(("client_id", other.to_string()));
                builder
            }
        };
        builder.form(&form).send().await.unwrap()
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

pub const WEBAPP: (&str, &str) = (CONFIDENTIAL, CONFIDENTIAL_SECRET);
/// The seeded admin client, which may call the admin API.
pub const AUTOMATION: (&str, &str) = ("automation", "automation-secret-0123456789");
pub const TRUSTED: (&str, &str) = (NO_CONSENT, "trusted-secret-0123456789");

/// The `n` column of a one-row query, read straight from the database.
pub async fn count(database_url: &str, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let url = if database_url.starts_with("sqlite") {
        format!("{database_url}?mode=rw")
    } else {
        database_url.to_string()
    };
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let n: i64 = sqlx::query(sql)
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    pool.close().await;
    n
}

/// Runs the `gatehouse` command on `database` and waits for it without
/// blocking the test's runtime: a server spawned in this test keeps serving
/// (and finishing its database transactions) meanwhile.
pub async fn gatehouse_cli(
    database: &str,
    args: &[&str],
    envs: &[(&str, &str)],
    stdin: Option<&str>,
) -> std::process::Output {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATABASE_URL", database)
        .env("RUST_LOG", "warn")
        .envs(envs.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    child.wait_with_output().await.unwrap()
}

impl TestApp {
    /// A client_credentials token for `client`, asking for `scope`.
    pub async fn client_token(&self, client: (&str, &str), scope: &str) -> Response {
        self.token_form(
            &[("grant_type", "client_credentials"), ("scope", scope)],
            Some(client),
        )
        .await
    }

    /// An admin API token for the seeded admin client.
    pub async fn admin_token(&self) -> String {
        let response = self.client_token(AUTOMATION, "gatehouse:admin").await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    /// Makes `username` (with `password`) an admin user, straight in the store.
    pub async fn create_admin_user(&self, username: &str, password: &str) -> String {
        let hash = gatehouse::account::password::hash_password(password.to_string())
            .await
            .unwrap();
        let user = gatehouse::model::NewUser {
            username: username.into(),
            email: Some(format!("{username}@example.com")),
            name: Some("Site Admin".into()),
            password_hash: hash,
            is_admin: true,
            totp_secret: None,
        };
        use gatehouse::clock::Clock;
        self.provider
            .store
            .insert_user(&user, false, self.clock.now())
            .await
            .unwrap()
            .unwrap()
    }
}
