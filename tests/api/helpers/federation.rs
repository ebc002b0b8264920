//! Two Gatehouses, one signing in through the other: the upstream on
//! `127.0.0.1` and the one under test on `localhost` (cookies are kept per
//! host, so one browser holds both sessions apart), driven by the same
//! browser. The upstream registers the downstream as a client through its
//! admin API, as an administrator would.

use super::app::{spawn_app, spawn_app_with, TestApp};
use super::http::{hidden_field, location};
use gatehouse::admin::upstreams::{checked, UpstreamSettings};
use reqwest::{Response, StatusCode};
use serde_json::json;

/// The id the downstream knows the upstream by.
pub const UPSTREAM_ID: &str = "corp";

/// The upstream Gatehouse and the downstream one.
pub struct Federation {
    pub upstream: TestApp,
    pub downstream: TestApp,
}

/// A downstream Gatehouse with `corp`, an upstream Gatehouse, set up with
/// `adjust` applied to the upstream's settings.
pub async fn federation(adjust: impl FnOnce(&mut UpstreamSettings)) -> Federation {
    let downstream = spawn_app_with(|c| {
        c.issuer = "http://localhost:8080".into();
        c.upstream_timeout_secs = 3;
    })
    .await;
    let mut upstream = spawn_app().await;
    upstream.browser = downstream.browser.clone();
    let token = upstream.admin_token().await;
    let created = upstream
        .api
        .post(upstream.url("/admin/api/v1/clients"))
        .bearer_auth(&token)
        .json(&json!({
            "client_id": "downstream",
            "name": "Downstream Gatehouse",
            "redirect_uris": [format!("{}/upstream/{UPSTREAM_ID}/callback", downstream.address)],
            "post_logout_redirect_uris": [format!("{}/upstream/{UPSTREAM_ID}/signed-out", downstream.address)],
            "scopes": ["openid", "profile", "email"],
            "require_consent": false,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "the upstream registers the downstream"
    );
    let body: serde_json::Value = created.json().await.unwrap();
    let client_secret = body["client_secret"].as_str().unwrap().to_string();
    let mut settings = UpstreamSettings {
        id: UPSTREAM_ID.into(),
        kind: "oidc".into(),
        name: "Corp SSO".into(),
        issuer: Some(upstream.address.clone()),
        client_id: "downstream".into(),
        client_secret: Some(client_secret),
        ..UpstreamSettings::default()
    };
    adjust(&mut settings);
    set_upstream(&downstream, &settings).await;
    Federation {
        upstream,
        downstream,
    }
}

/// Stores `settings` as the downstream's upstream (what the seed file, the
/// config file and the admin API do, through the same check).
pub async fn set_upstream(app: &TestApp, settings: &UpstreamSettings) {
    let record = checked(settings, None, 1).expect("valid upstream settings");
    app.provider.store.upsert_upstream(&record).await.unwrap();
}

impl TestApp {
    /// Presses "Sign in with …" for `upstream` on the sign-in page
    /// `to_login` leads to; returns the redirect to the upstream.
    pub async fn press_upstream(&self, to_login: &Response, upstream: &str) -> Response {
        let page = self.follow(to_login).await;
        assert_eq!(page.status(), StatusCode::OK, "the sign-in page");
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!("/upstream/{upstream}/start")),
            "the sign-in page offers {upstream}: {html}"
        );
        let mut form = vec![("csrf".to_string(), hidden_field(&html, "csrf").unwrap())];
        if let Some(request) = hidden_field(&html, "request") {
            form.push(("request".into(), request));
        }
        let answer = self
            .browser
            .post(self.url(&format!("/upstream/{upstream}/start")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.status(),
            StatusCode::SEE_OTHER,
            "off to the upstream"
        );
        answer
    }

    /// Goes to an absolute URL with this app's browser.
    pub async fn visit(&self, url: &str) -> Response {
        self.browser.get(url).send().await.unwrap()
    }

    /// How many users there are.
    pub async fn user_count(&self) -> usize {
        let (users, _) = self.provider.store.list_users(None, 1000, 0).await.unwrap();
        users.len()
    }
}

/// The `sub` of the ID token in a token answer (read, not verified: the
/// tests that verify it do so with the issuer's keys).
pub fn id_token_sub(tokens: &serde_json::Value) -> String {
    let payload = tokens["id_token"]
        .as_str()
        .and_then(|t| t.split('.').nth(1))
        .expect("an ID token");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    claims["sub"].as_str().expect("a subject").to_string()
}

impl Federation {
    /// From the downstream's sign-in page (`to_login`) through the upstream,
    /// signing in there as `username`, back to the downstream: returns the
    /// downstream's answer to the way back.
    pub async fn sign_in_upstream(
        &self,
        to_login: &Response,
        username: &str,
        password: &str,
    ) -> Response {
        let to_upstream = self.downstream.press_upstream(to_login, UPSTREAM_ID).await;
        self.through_upstream(&to_upstream, username, password)
            .await
    }

    /// Follows a redirect to the upstream's /authorize, signs in there and
    /// returns the downstream's answer to the way back.
    pub async fn through_upstream(
        &self,
        to_upstream: &Response,
        username: &str,
        password: &str,
    ) -> Response {
        let to = location(to_upstream);
        assert!(
            to.starts_with(&format!("{}/authorize?", self.upstream.address)),
            "to the upstream: {to}"
        );
        let at_upstream = self.upstream.visit(&to).await;
        let back = if location(&at_upstream).contains("/login") {
            let signed_in = self
                .upstream
                .sign_in(&at_upstream, username, password)
                .await;
            self.upstream.follow(&signed_in).await
        } else {
            at_upstream
        };
        let callback = location(&back);
        assert!(
            callback.starts_with(&format!(
                "{}/upstream/{UPSTREAM_ID}/callback?",
                self.downstream.address
            )),
            "back to the downstream: {callback}"
        );
        self.downstream.visit(&callback).await
    }
}
