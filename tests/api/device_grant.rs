//! The device authorization grant (RFC 8628) over HTTP: discovery, the
//! device authorization endpoint, a signed-in browser approving on the
//! device screens, and the device polling the token endpoint. The helpers
//! here serve the other `device_grant_*` files too.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// A confidential device client that may refresh.
pub const TV: (&str, &str) = ("tv", "tv-secret-0123456789");
/// A public device client.
pub const CLI: &str = "cli";

/// Device clients, added to the usual seed and the access seed.
const DEVICE_SEED: &str = r#"
[[clients]]
client_id = "tv"
name = "Living Room TV"
client_secret = "tv-secret-0123456789"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]
scopes = ["openid", "profile", "email", "offline_access"]
apis = ["https://api.example.test/"]

[[clients]]
client_id = "cli"
name = "Command Line"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
scopes = ["openid", "profile", "offline_access"]

[[clients]]
client_id = "vault-cli"
name = "Vault CLI"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
scopes = ["openid"]
require_mfa = true

[[clients]]
client_id = "lab-display"
name = "Lab Display"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
scopes = ["openid"]
allowed_groups = ["engineering"]
"#;

/// An app seeded with the device clients.
pub async fn device_app() -> TestApp {
    device_app_with(|_| {}).await
}

/// An app seeded with the device clients, with other settings adjusted.
pub async fn device_app_with(adjust: impl FnOnce(&mut gatehouse::config::Config)) -> TestApp {
    let path = write_access_seed();
    let seed = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{seed}{DEVICE_SEED}")).unwrap();
    spawn_app_with(|c| {
        c.seed = Some(path);
        adjust(c);
    })
    .await
}

/// How a device authenticates: with a secret, or as a public client.
#[derive(Clone, Copy)]
pub enum Device<'a> {
    Confidential((&'a str, &'a str)),
    Public(&'a str),
}

impl Device<'_> {
    fn request(
        &self,
        app: &TestApp,
        path: &str,
        form: &mut Vec<(String, String)>,
    ) -> reqwest::RequestBuilder {
        let builder = app.api.post(app.url(path));
        match self {
            Device::Confidential((id, secret)) => builder.basic_auth(id, Some(secret)),
            Device::Public(id) => {
                form.push(("client_id".into(), id.to_string()));
                builder
            }
        }
    }
}

pub async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

impl TestApp {
    /// POST /device_authorization as `device` with `fields`.
    pub async fn device_authorization(
        &self,
        device: Device<'_>,
        fields: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut form: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let builder = device.request(self, "/device_authorization", &mut form);
        json_of(builder.form(&form).send().await.unwrap()).await
    }

    /// A device authorization for `scope` that must succeed.
    pub async fn start_device(&self, device: Device<'_>, scope: &str) -> Value {
        let (status, body) = self.device_authorization(device, &[("scope", scope)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// One poll of the token endpoint with `device_code`.
    pub async fn poll(&self, device: Device<'_>, device_code: &str) -> (StatusCode, Value) {
        let mut form = vec![
            ("grant_type".to_string(), DEVICE_GRANT.to_string()),
            ("device_code".to_string(), device_code.to_string()),
        ];
        let builder = device.request(self, "/token", &mut form);
        json_of(builder.form(&form).send().await.unwrap()).await
    }

    /// Opens `verification_uri_complete` in the app's browser, signs in as
    /// `username` (with TOTP for bob) and returns the confirmation page.
    pub async fn confirm_page(
        &self,
        started: &Value,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let link = started["verification_uri_complete"].as_str().unwrap();
        let first = self.browser.get(link).send().await.unwrap();
        assert_eq!(
            first.status(),
            StatusCode::FOUND,
            "signed out: to the sign-in"
        );
        assert!(
            location(&first).ends_with("/login?then=device"),
            "{}",
            location(&first)
        );
        let signed_in = self.sign_in(&first, username, password).await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        assert!(
            location(&signed_in).ends_with("/device"),
            "{}",
            location(&signed_in)
        );
        self.follow(&signed_in).await
    }

    /// Answers the confirmation page with `decision` (allow or deny).
    pub async fn decide_device(
        &self,
        page: reqwest::Response,
        started: &Value,
        decision: &str,
    ) -> reqwest::Response {
        let user_code = started["user_code"].as_str().unwrap();
        self.submit_form(
            page,
            "/device",
            &[("user_code", user_code), ("decision", decision)],
        )
        .await
    }

    /// Signs in as `username` and allows the device that got `started`.
    pub async fn approve_device(&self, started: &Value, username: &str, password: &str) {
        let page = self.confirm_page(started, username, password).await;
        let done = self.decide_device(page, started, "allow").await;
        assert_eq!(done.status(), StatusCode::OK);
        let html = done.text().await.unwrap();
        assert!(html.contains("You may return to your device"), "{html}");
    }
}

#[tokio::test]
async fn the_device_authorization_answer_follows_rfc_8628() {
    let app = device_app().await;
    let started = app
        .start_device(Device::Confidential(TV), "openid profile")
        .await;
    let user_code = started["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9, "{user_code}");
    assert_eq!(&user_code[4..5], "-");
    assert!(user_code
        .chars()
        .filter(|c| *c != '-')
        .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)));
    assert_eq!(started["verification_uri"], app.url("/device"));
    assert_eq!(
        started["verification_uri_complete"],
        app.url(&format!("/device?user_code={user_code}"))
    );
    assert_eq!(started["expires_in"], 600);
    assert_eq!(started["interval"], 5);
    let device_code = started["device_code"].as_str().unwrap();
    assert_eq!(device_code.len(), 43);
    // Neither code is stored as it was handed out.
    let hash = gatehouse::crypto::token_hash(device_code);
    let sql = format!("SELECT COUNT(*) AS n FROM device_codes WHERE device_code_hash = '{hash}'");
    assert_eq!(count(&app.database_url, &sql).await, 1);
    let plain = format!(
        "SELECT COUNT(*) AS n FROM device_codes WHERE device_code_hash = '{device_code}'
            OR user_code_hash = '{}' OR user_code_hash = '{user_code}'",
        user_code.replace('-', "")
    );
    assert_eq!(count(&app.database_url, &plain).await, 0);
    let events = app
        .audit_events("device.authorization_requested", None)
        .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].client_id.as_deref(), Some("tv"));
}

#[tokio::test]
async fn an_approved_device_gets_tokens_with_the_sessions_sign_in() {
    let app = device_app().await;
    let started = app
        .start_device(Device::Confidential(TV), "openid profile offline_access")
        .await;
    let device_code = started["device_code"].as_str().unwrap();
    let (status, body) = app.poll(Device::Confidential(TV), device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("authorization_pending"))
    );

    let page = app.confirm_page(&started, "alice", ALICE_PASSWORD).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Living Room TV"), "{html}");
    assert!(html.contains(started["user_code"].as_str().unwrap()));
    assert!(
        html.contains("See your name, username and profile details"),
        "scopes in words"
    );
    assert!(html.contains("Only allow this if you started signing in on that device yourself"));

    // The page was read; answer it from a fresh copy (submit_form reads one).
    let page = app
        .get(&format!(
            "/device?user_code={}",
            started["user_code"].as_str().unwrap()
        ))
        .await;
    let done = app.decide_device(page, &started, "allow").await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done
        .text()
        .await
        .unwrap()
        .contains("You may return to your device"));

    app.clock.advance(5);
    let (status, tokens) = app.poll(Device::Confidential(TV), device_code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile offline_access");
    assert!(tokens["refresh_token"].is_string());
    let id_token = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), "tv").await;
    let alice = app.user_id("alice").await;
    assert_eq!(id_token["sub"], alice.as_str());
    assert_eq!(id_token["azp"], "tv");
    assert_eq!(id_token["amr"], serde_json::json!(["pwd"]));
    assert!(id_token["auth_time"].is_i64());
    assert!(
        id_token.get("nonce").is_none(),
        "no nonce in the device flow"
    );
    assert_eq!(id_token["name"], "Alice Example");
    let sid = id_token["sid"].as_str().expect("a sid").to_string();
    let access = verify_with_jwks(&app, tokens["access_token"].as_str().unwrap(), "tv").await;
    assert_eq!(access["sub"], alice.as_str());
    assert_eq!(access["client_id"], "tv");

    // The code row and the grant both name the browser session.
    let hash = gatehouse::crypto::token_hash(device_code);
    let sql = format!(
        "SELECT COUNT(*) AS n FROM device_codes d JOIN grants g ON g.id = d.grant_id
         WHERE d.device_code_hash = '{hash}' AND d.status = 'redeemed' AND d.sid = '{sid}'
           AND g.sid = '{sid}' AND d.user_id = '{alice}' AND d.amr = 'pwd'"
    );
    assert_eq!(count(&app.database_url, &sql).await, 1);
    assert_eq!(app.audit_events("device.approved", None).await.len(), 1);
    let issued = app.audit_events("token.issued", None).await;
    assert!(issued.iter().any(|e| e.client_id.as_deref() == Some("tv")));
}

#[tokio::test]
async fn polling_faster_than_the_interval_slows_the_device_down() {
    let app = device_app().await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    let code = started["device_code"].as_str().unwrap();
    let poll = || app.poll(Device::Confidential(TV), code);
    let error = |answer: (StatusCode, Value)| {
        assert_eq!(answer.0, StatusCode::BAD_REQUEST);
        answer.1["error"].as_str().unwrap().to_string()
    };
    assert_eq!(error(poll().await), "authorization_pending");
    assert_eq!(
        error(poll().await),
        "slow_down",
        "at once: the interval grows to 10 s"
    );
    app.clock.advance(5);
    assert_eq!(
        error(poll().await),
        "slow_down",
        "5 s is too soon now: the interval grows to 15 s, counted from this poll"
    );
    app.clock.advance(14);
    assert_eq!(error(poll().await), "slow_down", "a second short: 20 s");
    app.clock.advance(20);
    assert_eq!(
        error(poll().await),
        "authorization_pending",
        "waited long enough"
    );
    let hash = gatehouse::crypto::token_hash(code);
    let sql = format!(
        "SELECT COUNT(*) AS n FROM device_codes WHERE device_code_hash = '{hash}' AND interval_secs = 20"
    );
    assert_eq!(
        count(&app.database_url, &sql).await,
        1,
        "5 + three slow_downs"
    );
}

#[tokio::test]
async fn a_denied_device_is_told_access_denied() {
    let app = device_app().await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    let page = app.confirm_page(&started, "alice", ALICE_PASSWORD).await;
    let denied = app.decide_device(page, &started, "deny").await;
    assert_eq!(denied.status(), StatusCode::OK);
    assert!(denied.text().await.unwrap().contains("Device refused"));
    let (status, body) = app
        .poll(
            Device::Confidential(TV),
            started["device_code"].as_str().unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "access_denied");
    assert_eq!(app.audit_events("device.denied", None).await.len(), 1);
    assert_eq!(
        count(&app.database_url, "SELECT COUNT(*) AS n FROM grants").await,
        0
    );
}

#[tokio::test]
async fn an_expired_device_code_is_told_expired_token() {
    let app = device_app().await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    let code = started["device_code"].as_str().unwrap();
    app.clock.advance(599);
    let (_, body) = app.poll(Device::Confidential(TV), code).await;
    assert_eq!(
        body["error"], "authorization_pending",
        "a second before its end"
    );
    app.clock.advance(1);
    let (status, body) = app.poll(Device::Confidential(TV), code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "expired_token");

    // Nor can the user approve it any more: a friendly page says so.
    let link = started["verification_uri_complete"].as_str().unwrap();
    let first = app.browser.get(link).send().await.unwrap();
    let signed_in = app.sign_in(&first, "alice", ALICE_PASSWORD).await;
    let page = app.follow(&signed_in).await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.text().await.unwrap().contains("This code has expired"));
}
