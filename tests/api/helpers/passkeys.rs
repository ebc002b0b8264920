//! The passkey endpoints as a page's script calls them (the options as
//! JSON, the authenticator's answer posted as a form field), and what the
//! server kept: a user's passkeys and the audit events, read in the store.

use super::app::TestApp;
use super::authenticator::Authenticator;
use super::http::{location, JsonAnswer};
use gatehouse::model::{AuditFilter, AuditRecord, PasskeyRecord};
use reqwest::{Client, Response, StatusCode};

/// The cookie naming a WebAuthn ceremony in progress.
pub const CEREMONY_COOKIE: &str = "gatehouse_passkey";

impl TestApp {
    /// A new authenticator for this server's origin (device-bound).
    pub fn authenticator(&self) -> Authenticator {
        Authenticator::new(&self.address)
    }

    /// POST /account/passkeys/options from `browser`, signed in.
    pub async fn creation_options(&self, browser: &Client) -> JsonAnswer {
        let csrf = self.csrf_of(browser, "/account").await;
        self.post_for_json(browser, "/account/passkeys/options", &[("csrf", &csrf)])
            .await
    }

    /// POST /account/passkeys: the authenticator's answer `credential` (JSON
    /// text) to be named `name`.
    pub async fn post_new_passkey(
        &self,
        browser: &Client,
        name: &str,
        credential: &str,
    ) -> Response {
        let csrf = self.csrf_of(browser, "/account").await;
        browser
            .post(self.url("/account/passkeys"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("name", name),
                ("credential", credential),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Registers `key` as `name` on the account signed in at `browser`,
    /// through the ceremony, and checks that it was added.
    pub async fn register_passkey(&self, browser: &Client, key: &mut Authenticator, name: &str) {
        let options = self.creation_options(browser).await;
        assert_eq!(options.status, StatusCode::OK, "{}", options.body);
        let answer = key.register(&options.body);
        let added = self
            .post_new_passkey(browser, name, &answer.to_string())
            .await;
        let status = added.status();
        let to = location(&added);
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "passkey added: {}",
            added.text().await.unwrap()
        );
        assert_eq!(to, "/account?done=passkey-added#passkeys");
    }

    /// POST /login/passkey/options for `purpose` (`sign_in` or
    /// `second_factor`) from `browser`.
    pub async fn request_options(&self, browser: &Client, purpose: &str) -> JsonAnswer {
        let csrf = self.csrf_of(browser, "/login").await;
        self.post_for_json(
            browser,
            "/login/passkey/options",
            &[("csrf", &csrf), ("purpose", purpose)],
        )
        .await
    }

    /// POSTs an authenticator's answer `credential` (JSON text) to `path`
    /// (`/login/passkey` or `/login/passkey/second-factor`) with `extra`
    /// fields (`request`, `then`).
    pub async fn post_passkey_answer(
        &self,
        browser: &Client,
        path: &str,
        credential: &str,
        extra: &[(&str, &str)],
    ) -> Response {
        let csrf = self.csrf_of(browser, "/login").await;
        let mut form = vec![("csrf", csrf.as_str()), ("credential", credential)];
        form.extend_from_slice(extra);
        browser
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Signs in at `browser` with `key` and no username: the options, the
    /// key's answer, and the server's answer to it (`extra` as above).
    pub async fn sign_in_with_passkey(
        &self,
        browser: &Client,
        key: &mut Authenticator,
        extra: &[(&str, &str)],
    ) -> Response {
        let options = self.request_options(browser, "sign_in").await;
        assert_eq!(options.status, StatusCode::OK, "{}", options.body);
        let answer = key.sign(&options.body);
        self.post_passkey_answer(browser, "/login/passkey", &answer.to_string(), extra)
            .await
    }

    /// The user's id.
    pub async fn user_id(&self, username: &str) -> String {
        self.provider
            .store
            .user_by_username(username)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no user {username}"))
            .id
    }

    /// The user's passkeys as stored, oldest first.
    pub async fn passkeys_of(&self, username: &str) -> Vec<PasskeyRecord> {
        let id = self.user_id(username).await;
        gatehouse::account::passkeys::list(&self.provider, &id)
            .await
            .unwrap()
    }

    /// The stored credential (webauthn-rs' JSON) of the user's only passkey.
    pub async fn only_credential_of(&self, username: &str) -> serde_json::Value {
        let id = self.user_id(username).await;
        let stored = self.provider.store.passkeys_of(&id).await.unwrap();
        assert_eq!(stored.len(), 1, "{username} has one passkey");
        serde_json::from_str(&stored[0].credential).unwrap()
    }

    /// The audit events named `event` (about `user`, when given), newest
    /// first, once every queued event is written.
    pub async fn audit_events(&self, event: &str, user: Option<&str>) -> Vec<AuditRecord> {
        self.provider.audit.flush().await;
        let filter = AuditFilter {
            event: Some(event.into()),
            user: user.map(Into::into),
            ..AuditFilter::default()
        };
        self.provider
            .store
            .audit_events(&filter, 100)
            .await
            .unwrap()
    }
}
