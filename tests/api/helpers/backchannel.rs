//! A relying party's back-channel logout endpoint (OpenID Connect
//! Back-Channel Logout 1.0 §2.5–§2.8), in the test process: an HTTP server
//! on a loopback port that records every POST and answers with the status
//! it is told (200 unless told otherwise). It can be stopped and started
//! again on the same port, to play a receiver that is down and comes back,
//! or answer with a redirect. A [`Blackhole`] accepts connections and never
//! answers.
//! Each logout token it got is validated as a relying party would
//! (§2.6), with jsonwebtoken against Gatehouse's published JWKS.

use super::app::TestApp;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The back-channel logout event (§2.4).
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// One POST the receiver got.
#[derive(Debug, Clone)]
pub struct LogoutPost {
    /// Its `Content-Type`.
    pub content_type: String,
    /// Its form fields, in order.
    pub fields: Vec<(String, String)>,
}

impl LogoutPost {
    /// The `logout_token` field; panics if there is not exactly one.
    pub fn logout_token(&self) -> &str {
        let tokens: Vec<&str> = self
            .fields
            .iter()
            .filter(|(k, _)| k == "logout_token")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(tokens.len(), 1, "one logout_token in {:?}", self.fields);
        tokens[0]
    }
}

struct Shared {
    posts: Mutex<Vec<LogoutPost>>,
    status: Mutex<u16>,
    location: Mutex<Option<String>>,
}

/// A running receiver.
pub struct LogoutReceiver {
    pub port: u16,
    shared: Arc<Shared>,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let fields = url::form_urlencoded::parse(&body).into_owned().collect();
    shared.posts.lock().unwrap().push(LogoutPost {
        content_type,
        fields,
    });
    let status = *shared.status.lock().unwrap();
    let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    answer.insert_header(("Cache-Control", "no-store"));
    if let Some(location) = shared.location.lock().unwrap().clone() {
        answer.insert_header(("Location", location));
    }
    answer.finish()
}

impl LogoutReceiver {
    /// Starts a receiver on a free port.
    pub async fn start() -> LogoutReceiver {
        LogoutReceiver::start_on(0).await
    }

    /// Starts a receiver on `port` (0 for a free one).
    pub async fn start_on(port: u16) -> LogoutReceiver {
        let listener =
            std::net::TcpListener::bind(("127.0.0.1", port)).expect("the receiver's port");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            posts: Mutex::new(Vec::new()),
            status: Mutex::new(200),
            location: Mutex::new(None),
        });
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/backchannel-logout", web::post().to(receive))
                .default_service(web::to(HttpResponse::NotFound))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .expect("the receiver listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        LogoutReceiver {
            port,
            shared,
            handle,
        }
    }

    /// The URL to register as a client's `backchannel_logout_uri`.
    pub fn url(&self) -> String {
        url_on(self.port)
    }

    /// Answers every later POST with `status`.
    pub fn answer_with(&self, status: u16) {
        *self.shared.status.lock().unwrap() = status;
    }

    /// Answers every later POST with `status` and a `Location` header.
    pub fn redirect_to(&self, status: u16, location: &str) {
        *self.shared.location.lock().unwrap() = Some(location.to_string());
        self.answer_with(status);
    }

    /// The POSTs so far.
    pub fn posts(&self) -> Vec<LogoutPost> {
        self.shared.posts.lock().unwrap().clone()
    }

    /// Waits (up to 15 s) until at least `n` POSTs came, and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<LogoutPost> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let posts = self.posts();
            if posts.len() >= n {
                return posts;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} of {n} logout tokens",
                posts.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops listening: the port refuses connections until a receiver is
    /// started on it again.
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// A receiver that accepts connections, reads nothing and never answers:
/// each connection stays open until the blackhole is dropped.
pub struct Blackhole {
    pub port: u16,
    connections: Arc<Mutex<Vec<tokio::net::TcpStream>>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Blackhole {
    /// Starts listening on a free loopback port.
    pub async fn start() -> Blackhole {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("the blackhole's port");
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(Mutex::new(Vec::new()));
        let held = connections.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                held.lock().unwrap().push(stream);
            }
        });
        Blackhole {
            port,
            connections,
            accepting,
        }
    }

    /// The URL to register as a client's `backchannel_logout_uri`.
    pub fn url(&self) -> String {
        url_on(self.port)
    }

    /// How many connections it holds open, unanswered.
    pub fn held(&self) -> usize {
        self.connections.lock().unwrap().len()
    }

    /// Waits (up to 15 s) until it holds at least one connection.
    pub async fn wait_for_a_connection(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.held() == 0 {
            assert!(Instant::now() < deadline, "nobody connected");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// The back-channel logout URL of a receiver on `port`.
pub fn url_on(port: u16) -> String {
    format!("http://127.0.0.1:{port}/backchannel-logout")
}

/// Validates a received POST as a relying party must (§2.5, §2.6): a form
/// with a `logout_token`, a JWT signed by a key in Gatehouse's JWKS with
/// `typ: logout+jwt`, issued by Gatehouse to `client_id`, with `iat`, `exp`
/// (two minutes after `iat`), a `jti`, the back-channel logout event, `sid`
/// and `sub`, and no `nonce`. Returns the claims.
pub async fn validated_logout(app: &TestApp, post: &LogoutPost, client_id: &str) -> Value {
    assert_eq!(post.content_type, "application/x-www-form-urlencoded");
    let token = post.logout_token();
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .api
        .get(app.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).expect("a JWT");
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"), "explicit typing");
    let kid = header.kid.clone().expect("a kid");
    let key =
        jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid).expect("a published key")).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[&app.address]);
    validation.set_required_spec_claims(&["iss", "aud", "exp", "iat", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("signature, issuer, audience and expiry check")
        .claims;
    let iat = claims["iat"].as_i64().expect("iat");
    assert_eq!(
        claims["exp"].as_i64(),
        Some(iat + 120),
        "exp two minutes on"
    );
    assert!(
        claims["jti"].as_str().is_some_and(|j| !j.is_empty()),
        "a jti"
    );
    assert_eq!(
        claims["events"],
        serde_json::json!({ LOGOUT_EVENT: {} }),
        "the back-channel logout event"
    );
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()), "sid");
    assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()), "sub");
    assert!(claims.get("nonce").is_none(), "never a nonce");
    let names: HashSet<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: HashSet<&str> =
        ["iss", "aud", "iat", "exp", "jti", "events", "sid", "sub"].into();
    assert_eq!(names, expected, "exactly the claims of §2.4");
    claims
}
