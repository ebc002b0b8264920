//! A fake upstream identity provider for "sign in through an upstream
//! provider": a small HTTP server on `127.0.0.1:0` that speaks OpenID
//! Connect ([`Mode::Oidc`]) or plain OAuth 2.0 with a GitHub-style userinfo
//! ([`Mode::OAuth2`]), and that a test can tell to misbehave through
//! [`Knobs`].
//!
//! Endpoints (all under [`MockUpstream::issuer`]):
//!
//! - `GET /.well-known/openid-configuration`: the metadata (404 in OAuth 2.0
//!   mode);
//! - `GET /jwks`: the public signing key (ES256, P-256) as a JWK Set;
//! - `GET /authorize`: no login screen: whoever the knobs describe signs in
//!   at once, and the answer is a 302 to `redirect_uri` with `code` and
//!   `state` (or `error`);
//! - `POST /token`: the authorization code grant, with client
//!   authentication by HTTP Basic (RFC 6749 §2.3.1) or in the body, the
//!   code used once, `redirect_uri` matched and PKCE S256 required;
//! - `GET /userinfo`: the claims, for an access token `/token` gave;
//! - `GET /end_session`: RP-initiated logout, a 302 to
//!   `post_logout_redirect_uri`.
//!
//! Times in tokens are real system time. The server runs on the test's
//! runtime and stops when the [`MockUpstream`] is dropped. Starting one
//! installs rustls's process-wide crypto provider (as Gatehouse does), so
//! that reqwest clients can be built before any Gatehouse starts.

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{http::header, web, App, HttpRequest, HttpResponse, HttpServer};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long an endpoint named by [`Knobs::hang`] waits before answering.
pub const HANG_FOR: Duration = Duration::from_secs(120);

/// The client id the mock knows Gatehouse by.
pub const MOCK_CLIENT_ID: &str = "gatehouse";

/// What the mock speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// OpenID Connect: discovery, JWKS, an ID token from `/token`, userinfo
    /// with `sub`.
    Oidc,
    /// OAuth 2.0 only, GitHub-style: no discovery, no ID token, userinfo
    /// answers [`Knobs::oauth2_userinfo`].
    OAuth2,
}

/// How the mock behaves; change them with [`MockUpstream::set`] at any
/// time (each request reads them as they are then). `Default` is a
/// well-behaved provider; each other knob breaks one thing.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// The `sub` of the ID token and of OpenID Connect userinfo.
    pub subject: String,
    /// Claims laid over the standard ones in the ID token and in OpenID
    /// Connect userinfo (last, so they may replace any of them; a `null`
    /// removes one). Default: `preferred_username` "ada", `email`
    /// "ada@corp.example", `email_verified` true, `name` "Ada Lovelace",
    /// `groups` ["engineering"].
    pub claims: Map<String, Value>,
    /// OAuth 2.0 mode: the whole userinfo answer. Default:
    /// `{"id": 4242, "login": "ada", "name": "Ada Lovelace", "email":
    /// "ada@corp.example"}` (the id a number, as GitHub's is).
    pub oauth2_userinfo: Map<String, Value>,
    /// The metadata's `issuer`, when it should not be the mock's own.
    pub metadata_issuer: Option<String>,
    /// The metadata lists `end_session_endpoint` (default true).
    pub advertise_end_session: bool,
    /// The metadata says `authorization_response_iss_parameter_supported`
    /// (default false). It does not by itself add `iss` to the redirect:
    /// set [`Knobs::iss_param`] for that.
    pub advertise_iss_parameter: bool,
    /// The redirect from `/authorize` carries `iss=<this>` (RFC 9207).
    pub iss_param: Option<String>,
    /// `/authorize` redirects with `error=<this>` instead of a code.
    pub authorize_error: Option<String>,
    /// `/token` answers 400 `{"error": <this>}` whatever it is sent.
    pub token_error: Option<String>,
    /// `/jwks` answers `{"keys": "garbage"}`.
    pub broken_jwks: bool,
    /// The ID token's `iss` is `https://evil.example`.
    pub wrong_iss: bool,
    /// The ID token's `aud` is `someone-else`.
    pub wrong_aud: bool,
    /// The ID token's `aud` is `[client_id, "other"]`, with no `azp`.
    pub extra_aud_without_azp: bool,
    /// The ID token is signed by another key, under the published `kid`.
    pub bad_signature: bool,
    /// The ID token's `nonce` is `a-nonce-from-another-sign-in`.
    pub stale_nonce: bool,
    /// The ID token has no `nonce`.
    pub no_nonce: bool,
    /// The ID token expired an hour ago (`iat` two hours ago).
    pub expired: bool,
    /// The ID token's `iat` is an hour from now.
    pub future_iat: bool,
    /// The ID token is unsigned, with `alg` `none`.
    pub alg_none: bool,
    /// OpenID Connect userinfo answers this `sub` instead of the ID token's.
    pub userinfo_sub: Option<String>,
    /// The endpoint with this path (`/token`, `/jwks`, `/userinfo`,
    /// `/.well-known/openid-configuration`, …) waits [`HANG_FOR`] before
    /// answering; the others answer as usual.
    pub hang: Option<&'static str>,
}

impl Default for Knobs {
    fn default() -> Self {
        let object = |value: Value| match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        Knobs {
            subject: "upstream-subject-ada".into(),
            claims: object(json!({
                "preferred_username": "ada",
                "email": "ada@corp.example",
                "email_verified": true,
                "name": "Ada Lovelace",
                "groups": ["engineering"],
            })),
            oauth2_userinfo: object(json!({
                "id": 4242,
                "login": "ada",
                "name": "Ada Lovelace",
                "email": "ada@corp.example",
            })),
            metadata_issuer: None,
            advertise_end_session: true,
            advertise_iss_parameter: false,
            iss_param: None,
            authorize_error: None,
            token_error: None,
            broken_jwks: false,
            wrong_iss: false,
            wrong_aud: false,
            extra_aud_without_azp: false,
            bad_signature: false,
            stale_nonce: false,
            no_nonce: false,
            expired: false,
            future_iat: false,
            alg_none: false,
            userinfo_sub: None,
            hang: None,
        }
    }
}

/// One call to `/token`, as received.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The form fields of the body.
    pub form: HashMap<String, String>,
    /// The client id and secret of an HTTP Basic `Authorization`, decoded
    /// (base64, then each part form-urlencoded); `None` without Basic.
    pub basic: Option<(String, String)>,
}

impl TokenRequest {
    /// Whether the client authenticated with HTTP Basic.
    pub fn used_basic(&self) -> bool {
        self.basic.is_some()
    }
}

/// A running fake upstream provider.
pub struct MockUpstream {
    /// `http://127.0.0.1:PORT`, the base of every endpoint and the issuer
    /// the ID token and the metadata name.
    pub issuer: String,
    /// What it speaks.
    pub mode: Mode,
    /// The client id it knows Gatehouse by: [`MOCK_CLIENT_ID`].
    pub client_id: String,
    /// Gatehouse's secret here: random, with characters (`+`, `/`, `%`,
    /// `:`) that RFC 6749 §2.3.1's form-encoding before Basic changes.
    pub client_secret: String,
    shared: Arc<Shared>,
    handle: ServerHandle,
}

impl MockUpstream {
    /// Starts a well-behaved provider on a free loopback port.
    pub async fn start(mode: Mode) -> MockUpstream {
        // reqwest's rustls needs a process-wide provider before any client
        // is built; Gatehouse installs it when it starts, and a test that
        // talks to the mock alone needs it too.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let port = listener.local_addr().unwrap().port();
        let issuer = format!("http://127.0.0.1:{port}");
        let client_secret = format!("{}+/%:", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 18]>()));
        let (key, jwk) = generate_key();
        let (other_key, _) = generate_key();
        let shared = Arc::new(Shared {
            issuer: issuer.clone(),
            mode,
            client_id: MOCK_CLIENT_ID.into(),
            client_secret: client_secret.clone(),
            kid: jwk["kid"].as_str().unwrap().to_string(),
            jwk,
            key,
            other_key,
            state: Mutex::new(State::default()),
        });
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .wrap(from_fn(observe))
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/jwks", web::get().to(jwks))
                .route("/authorize", web::get().to(authorize))
                .route("/token", web::post().to(token))
                .route("/userinfo", web::get().to(userinfo))
                .route("/end_session", web::get().to(end_session))
                .default_service(web::to(HttpResponse::NotFound))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .expect("the mock upstream listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        MockUpstream {
            issuer,
            mode,
            client_id: MOCK_CLIENT_ID.into(),
            client_secret,
            shared,
            handle,
        }
    }

    /// Changes the knobs; requests from now on see the change.
    pub fn set(&self, change: impl FnOnce(&mut Knobs)) {
        change(&mut self.shared.lock().knobs);
    }

    /// The knobs as they are.
    pub fn knobs(&self) -> Knobs {
        self.shared.lock().knobs.clone()
    }

    /// The URL of an endpoint: `url("/token")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The query of every `/authorize` request so far, in order.
    pub fn authorize_requests(&self) -> Vec<HashMap<String, String>> {
        self.shared.lock().authorize_requests.clone()
    }

    /// Every `/token` request so far, in order.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.shared.lock().token_requests.clone()
    }

    /// The query of every `/end_session` request so far, in order.
    pub fn end_session_requests(&self) -> Vec<HashMap<String, String>> {
        self.shared.lock().end_session_requests.clone()
    }

    /// How many requests reached `path` (whatever their answer), to see
    /// what Gatehouse caches: `hits("/jwks")`.
    pub fn hits(&self, path: &str) -> usize {
        self.shared.lock().hits.get(path).copied().unwrap_or(0)
    }

    /// A `[[upstreams]]` block for Gatehouse's seed file naming this mock
    /// as upstream `id`, with the lines of `extra` (such as `"jit =
    /// false\nmfa = true"`) before its `[upstreams.claims]`. The defaults
    /// (`name`, `scopes`, `jit = true`, `link_by_verified_email = false`,
    /// `mfa = false`) are left out where `extra` sets them; `extra` may
    /// also bring its own `[upstreams.claims]` or other tables.
    pub fn seed_toml(&self, id: &str, extra: &str) -> String {
        // The keys `extra` sets at the top of the block (before any table).
        let set_by_extra: HashSet<&str> = extra
            .lines()
            .map(str::trim)
            .take_while(|line| !line.starts_with('['))
            .filter_map(|line| line.split_once('=').map(|(key, _)| key.trim()))
            .collect();
        let mut block = format!("\n[[upstreams]]\nid = {}\n", quoted(id));
        let (kind, name, scopes) = match self.mode {
            Mode::Oidc => ("oidc", "Corp SSO", r#"["openid", "profile", "email"]"#),
            Mode::OAuth2 => ("oauth2", "Code Host", r#"["read:user", "user:email"]"#),
        };
        block += &format!("kind = \"{kind}\"\n");
        match self.mode {
            Mode::Oidc => block += &format!("issuer = {}\n", quoted(&self.issuer)),
            Mode::OAuth2 => {
                for (key, path) in [
                    ("authorization_endpoint", "/authorize"),
                    ("token_endpoint", "/token"),
                    ("userinfo_endpoint", "/userinfo"),
                ] {
                    block += &format!("{key} = {}\n", quoted(&self.url(path)));
                }
            }
        }
        block += &format!(
            "client_id = {}\nclient_secret = {}\n",
            quoted(&self.client_id),
            quoted(&self.client_secret)
        );
        for (key, value) in [
            ("name", quoted(name)),
            ("scopes", scopes.to_string()),
            ("jit", "true".into()),
            ("link_by_verified_email", "false".into()),
            ("mfa", "false".into()),
        ] {
            if !set_by_extra.contains(key) {
                block += &format!("{key} = {value}\n");
            }
        }
        if !extra.trim().is_empty() {
            block += extra.trim_end();
            block += "\n";
        }
        let claims_in_extra = extra
            .lines()
            .any(|line| line.trim() == "[upstreams.claims]");
        if !claims_in_extra {
            block += "[upstreams.claims]\n";
            block += match self.mode {
                Mode::Oidc => {
                    "username = \"preferred_username\"\nemail = \"email\"\nname = \"name\"\ngroups = \"groups\"\n"
                }
                Mode::OAuth2 => {
                    "subject = \"id\"\nusername = \"login\"\nemail = \"email\"\nname = \"name\"\n"
                }
            };
        }
        block
    }

    /// An ID token as `/token` would mint it now for `nonce`, under the
    /// current knobs (for tests that hand Gatehouse a token themselves).
    pub fn id_token(&self, nonce: Option<&str>) -> String {
        let knobs = self.knobs();
        self.shared.id_token(&knobs, &self.client_id, nonce)
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        // Sends the command now; the server stops when its task next runs
        // (or with the test's runtime).
        drop(self.handle.stop(false));
    }
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

/// What every request handler sees.
struct Shared {
    issuer: String,
    mode: Mode,
    client_id: String,
    client_secret: String,
    kid: String,
    /// The published key.
    jwk: Value,
    key: EncodingKey,
    /// Signs under the published `kid` for [`Knobs::bad_signature`].
    other_key: EncodingKey,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    knobs: Knobs,
    codes: HashMap<String, Grant>,
    access_tokens: HashSet<String>,
    authorize_requests: Vec<HashMap<String, String>>,
    token_requests: Vec<TokenRequest>,
    end_session_requests: Vec<HashMap<String, String>>,
    hits: HashMap<String, usize>,
}

/// What an authorization code was issued for.
struct Grant {
    client_id: String,
    redirect_uri: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn id_token(&self, knobs: &Knobs, client_id: &str, nonce: Option<&str>) -> String {
        let now = now();
        let mut claims = Map::new();
        let iss = if knobs.wrong_iss {
            "https://evil.example"
        } else {
            &self.issuer
        };
        claims.insert("iss".into(), json!(iss));
        claims.insert("sub".into(), json!(knobs.subject));
        if knobs.wrong_aud {
            claims.insert("aud".into(), json!("someone-else"));
        } else if knobs.extra_aud_without_azp {
            claims.insert("aud".into(), json!([client_id, "other"]));
        } else {
            claims.insert("aud".into(), json!(client_id));
        }
        if !knobs.extra_aud_without_azp {
            claims.insert("azp".into(), json!(client_id));
        }
        let (iat, exp) = if knobs.expired {
            (now - 7200, now - 3600)
        } else if knobs.future_iat {
            (now + 3600, now + 300)
        } else {
            (now, now + 300)
        };
        claims.insert("iat".into(), json!(iat));
        claims.insert("exp".into(), json!(exp));
        let nonce = if knobs.no_nonce {
            None
        } else if knobs.stale_nonce {
            Some("a-nonce-from-another-sign-in")
        } else {
            nonce
        };
        if let Some(nonce) = nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        overlay(&mut claims, &knobs.claims);

        if knobs.alg_none {
            let header = json!({"alg": "none", "typ": "JWT", "kid": self.kid});
            return format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string())
            );
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let key = if knobs.bad_signature {
            &self.other_key
        } else {
            &self.key
        };
        jsonwebtoken::encode(&header, &claims, key).expect("the mock signs its ID token")
    }
}

/// Lays `extra` over `claims`; a `null` removes the claim.
fn overlay(claims: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (name, value) in extra {
        if value.is_null() {
            claims.remove(name);
        } else {
            claims.insert(name.clone(), value.clone());
        }
    }
}

/// Unix seconds, real time.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A fresh P-256 key for ES256 and its public JWK (`kid` random).
fn generate_key() -> (EncodingKey, Value) {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .expect("a P-256 key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    // Uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
    let point = pair.public_key().as_ref();
    assert_eq!((point.len(), point[0]), (65, 4));
    let jwk = json!({
        "kty": "EC",
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        "kid": format!("mock-{}", uuid::Uuid::new_v4().simple()),
        "alg": "ES256",
        "use": "sig",
    });
    (EncodingKey::from_ec_der(pkcs8.as_ref()), jwk)
}

/// Counts each request by path, and holds the one [`Knobs::hang`] names.
async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let shared = request
        .app_data::<web::Data<Shared>>()
        .expect("the mock's state")
        .clone();
    let path = request.path().to_string();
    let hang = {
        let mut state = shared.lock();
        *state.hits.entry(path.clone()).or_default() += 1;
        state.knobs.hang == Some(path.as_str())
    };
    if hang {
        tokio::time::sleep(HANG_FOR).await;
    }
    next.call(request).await
}

type Query = web::Query<HashMap<String, String>>;

async fn discovery(shared: web::Data<Shared>) -> HttpResponse {
    if shared.mode == Mode::OAuth2 {
        return HttpResponse::NotFound().finish();
    }
    let knobs = shared.lock().knobs.clone();
    let base = &shared.issuer;
    let mut metadata = json!({
        "issuer": knobs.metadata_issuer.as_deref().unwrap_or(base),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["openid", "profile", "email"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    });
    if knobs.advertise_end_session {
        metadata["end_session_endpoint"] = json!(format!("{base}/end_session"));
    }
    if knobs.advertise_iss_parameter {
        metadata["authorization_response_iss_parameter_supported"] = json!(true);
    }
    HttpResponse::Ok().json(metadata)
}

async fn jwks(shared: web::Data<Shared>) -> HttpResponse {
    if shared.lock().knobs.broken_jwks {
        return HttpResponse::Ok().json(json!({"keys": "garbage"}));
    }
    HttpResponse::Ok().json(json!({"keys": [shared.jwk]}))
}

/// A 302 to `target` with `params` added to its query.
fn redirect(target: &str, params: &[(&str, &str)]) -> HttpResponse {
    let mut url = match url::Url::parse(target) {
        Ok(url) => url,
        Err(_) => return HttpResponse::BadRequest().body("the redirect URI is not a URL"),
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
    }
    HttpResponse::Found()
        .insert_header((header::LOCATION, url.to_string()))
        .finish()
}

async fn authorize(shared: web::Data<Shared>, query: Query) -> HttpResponse {
    let query = query.into_inner();
    let mut state = shared.lock();
    state.authorize_requests.push(query.clone());
    let field = |name: &str| query.get(name).map(String::as_str);
    // A request that names no valid client or redirect gets an error page,
    // as at a real provider: never a redirect.
    let Some(redirect_uri) = field("redirect_uri").filter(|u| url::Url::parse(u).is_ok()) else {
        return HttpResponse::BadRequest().body("missing or invalid redirect_uri");
    };
    if field("client_id") != Some(shared.client_id.as_str()) {
        return HttpResponse::BadRequest().body("unknown client_id");
    }
    let knobs = state.knobs.clone();
    let code: String;
    let mut params: Vec<(&str, &str)> = Vec::new();
    if let Some(error) = &knobs.authorize_error {
        params.push(("error", error));
        params.push(("error_description", "the mock upstream refused"));
    } else if field("response_type") != Some("code") {
        params.push(("error", "unsupported_response_type"));
    } else {
        code = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
        state.codes.insert(
            code.clone(),
            Grant {
                client_id: shared.client_id.clone(),
                redirect_uri: redirect_uri.to_string(),
                nonce: field("nonce").map(str::to_string),
                code_challenge: field("code_challenge").map(str::to_string),
                code_challenge_method: field("code_challenge_method").map(str::to_string),
            },
        );
        params.push(("code", &code));
    }
    if let Some(value) = field("state") {
        params.push(("state", value));
    }
    if let Some(iss) = &knobs.iss_param {
        params.push(("iss", iss));
    }
    redirect(redirect_uri, &params)
}

/// An OAuth error answer (RFC 6749 §5.2).
fn oauth_error(status: u16, error: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status).unwrap();
    let mut answer = HttpResponse::build(status);
    answer.insert_header((header::CACHE_CONTROL, "no-store"));
    if status == actix_web::http::StatusCode::UNAUTHORIZED {
        answer.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"mock\""));
    }
    answer.json(json!({"error": error}))
}

/// A form-urlencoded component, decoded (`+` is a space).
fn form_decoded(part: &str) -> String {
    form_urlencoded::parse(format!("v={part}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// The client id and secret of an HTTP Basic `Authorization` header.
fn basic_credentials(request: &HttpRequest) -> Option<Option<(String, String)>> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok();
    let Some(encoded) = value.and_then(|v| {
        v.strip_prefix("Basic ")
            .or_else(|| v.strip_prefix("basic "))
    }) else {
        // An Authorization header that is not Basic: unusable credentials.
        return Some(None);
    };
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    Some(decoded.and_then(|text| {
        text.split_once(':')
            .map(|(id, secret)| (form_decoded(id), form_decoded(secret)))
    }))
}

async fn token(shared: web::Data<Shared>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let basic = basic_credentials(&request);
    let mut state = shared.lock();
    state.token_requests.push(TokenRequest {
        form: form.clone(),
        basic: basic.clone().flatten(),
    });
    let knobs = state.knobs.clone();
    if let Some(error) = &knobs.token_error {
        return oauth_error(400, error);
    }
    let field = |name: &str| form.get(name).map(String::as_str);

    // Client authentication: exactly one method (RFC 6749 §2.3).
    let (client_id, client_secret) = match (basic, field("client_secret")) {
        (Some(Some((id, secret))), None) => {
            if field("client_id").is_some_and(|body_id| body_id != id) {
                return oauth_error(401, "invalid_client");
            }
            (id, secret)
        }
        (None, Some(secret)) => match field("client_id") {
            Some(id) => (id.to_string(), secret.to_string()),
            None => return oauth_error(401, "invalid_client"),
        },
        _ => return oauth_error(401, "invalid_client"),
    };
    if client_id != shared.client_id || client_secret != shared.client_secret {
        return oauth_error(401, "invalid_client");
    }
    if field("grant_type") != Some("authorization_code") {
        return oauth_error(400, "unsupported_grant_type");
    }
    // A code is used once, whatever the outcome.
    let Some(grant) = field("code").and_then(|code| state.codes.remove(code)) else {
        return oauth_error(400, "invalid_grant");
    };
    if grant.client_id != client_id || field("redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return oauth_error(400, "invalid_grant");
    }
    // PKCE S256 (RFC 7636 §4.6), required.
    let pkce_ok = match (
        grant.code_challenge.as_deref(),
        grant.code_challenge_method.as_deref(),
        field("code_verifier"),
    ) {
        (Some(challenge), Some("S256"), Some(verifier)) => {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
        }
        _ => false,
    };
    if !pkce_ok {
        return oauth_error(400, "invalid_grant");
    }

    let access_token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    state.access_tokens.insert(access_token.clone());
    drop(state);
    let mut answer = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 300,
    });
    match shared.mode {
        Mode::Oidc => {
            answer["id_token"] = json!(shared.id_token(&knobs, &client_id, grant.nonce.as_deref()));
        }
        Mode::OAuth2 => answer["scope"] = json!("read:user,user:email"),
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer)
}

async fn userinfo(shared: web::Data<Shared>, request: HttpRequest) -> HttpResponse {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let state = shared.lock();
    if !token.is_some_and(|t| state.access_tokens.contains(t)) {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
            .json(json!({"error": "invalid_token"}));
    }
    let knobs = &state.knobs;
    let claims = match shared.mode {
        Mode::Oidc => {
            let mut claims = Map::new();
            claims.insert("sub".into(), json!(knobs.subject));
            overlay(&mut claims, &knobs.claims);
            if let Some(sub) = &knobs.userinfo_sub {
                claims.insert("sub".into(), json!(sub));
            }
            claims
        }
        Mode::OAuth2 => knobs.oauth2_userinfo.clone(),
    };
    HttpResponse::Ok().json(claims)
}

async fn end_session(shared: web::Data<Shared>, query: Query) -> HttpResponse {
    let query = query.into_inner();
    shared.lock().end_session_requests.push(query.clone());
    match query.get("post_logout_redirect_uri") {
        Some(target) => {
            let params: Vec<(&str, &str)> = query
                .get("state")
                .map(|s| ("state", s.as_str()))
                .into_iter()
                .collect();
            redirect(target, &params)
        }
        None => HttpResponse::Ok().body("signed out"),
    }
}
