//! The self-service account page: TOTP enrolment (also forced by a client
//! that requires it), recovery codes, profile, password, sessions and
//! connected applications.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

fn secure() -> AuthRequest {
    AuthRequest {
        client_id: "secure".into(),
        redirect_uri: "http://127.0.0.1:9996/cb".into(),
        scope: "openid".into(),
        ..AuthRequest::confidential()
    }
}

/// The setup key shown on the enrolment page, without its spaces.
fn setup_key(html: &str) -> String {
    let start = html.find("id=\"secret\"").expect("a setup key");
    let start = start + html[start..].find('>').unwrap() + 1;
    let end = start + html[start..].find('<').unwrap();
    html[start..end].replace(' ', "")
}

/// The recovery codes listed on the page that shows them once.
fn recovery_codes(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .map(|rest| rest[..rest.find('<').unwrap()].to_string())
        .collect()
}

impl TestApp {
    fn code_for(&self, secret: &str) -> String {
        use gatehouse::clock::Clock;
        gatehouse::crypto::totp::code_at(secret, self.clock.now() as u64).unwrap()
    }

    /// Signs in on the login page directly, landing on the account page.
    pub(crate) async fn sign_in_to_account(
        &self,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let to_login = self.get("/account").await;
        assert_eq!(to_login.status(), StatusCode::FOUND);
        assert!(location(&to_login).ends_with("/login?then=account"));
        let answer = self.sign_in(&to_login, username, password).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert!(
            location(&answer).ends_with("/account"),
            "{}",
            location(&answer)
        );
        self.follow(&answer).await
    }

    /// Changes the signed-in user's password on the account page.
    pub(crate) async fn change_password(&self, current: &str, new: &str) -> reqwest::Response {
        self.account_form(
            "/account/password",
            &[
                ("current_password", current),
                ("new_password", new),
                ("repeat_password", new),
            ],
        )
        .await
    }

    /// Marks `username`'s address verified through the admin API.
    pub(crate) async fn verify_by_admin(&self, username: &str) {
        let token = self.admin_token().await;
        let (status, _) = self
            .api_json(
                reqwest::Method::PATCH,
                &format!("/users/{username}"),
                &token,
                Some(json!({ "email_verified": true })),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }

    /// Posts an account form, with the CSRF token from the account page.
    pub(crate) async fn account_form(
        &self,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let page = self.get("/account").await;
        self.submit_form(page, action, fields).await
    }
}

#[tokio::test]
async fn a_client_requiring_mfa_takes_a_new_user_through_enrolment() {
    let app = spawn_app().await;
    let request = secure();
    let first = app.authorize(&request).await;
    let signed_in = app.sign_in(&first, "alice", ALICE_PASSWORD).await;
    let to_enrol = app.follow(&signed_in).await;
    let page = app.follow(&to_enrol).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Secure App</strong> requires two-step verification"));
    assert!(html.contains("<svg class=\"qr\""), "a QR code drawn inline");
    let secret = setup_key(&html);
    assert_eq!(secret.len(), 32);

    // A reload shows the same key, so a scanned QR code stays valid.
    let again = app.follow(&to_enrol).await.text().await.unwrap();
    assert_eq!(setup_key(&again), secret);

    // A wrong code keeps the key pending and says so.
    let page = app.follow(&to_enrol).await;
    let wrong = app
        .submit_form(page, "/account/mfa/enrol", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(wrong.text().await.unwrap().contains("doesn&#x27;t match"));

    let page = app.follow(&to_enrol).await;
    let code = app.code_for(&secret);
    let confirmed = app
        .submit_form(page, "/account/mfa/enrol", &[("code", &code)])
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let html = confirmed.text().await.unwrap();
    let codes = recovery_codes(&html);
    assert_eq!(codes.len(), 10, "{html}");
    let stored = count(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM recovery_codes WHERE used_at IS NULL",
    )
    .await;
    assert_eq!(stored, 10);
    for c in &codes {
        let sql = format!("SELECT COUNT(*) AS n FROM recovery_codes WHERE code_hash LIKE '%{c}%'");
        assert_eq!(
            count(&app.database_url, &sql).await,
            0,
            "only hashes stored"
        );
    }
    let resume = hidden_continue(&html);
    assert!(resume.contains("/authorize/resume?request="));
    let to_client = app.browser.get(app.url(&resume)).send().await.unwrap();
    let to = location(&to_client);
    assert!(to.starts_with("http://127.0.0.1:9996/cb?code="), "{to}");
    let code = param(&location_params(&to_client), "code").unwrap();
    let tokens: serde_json::Value = app.redeem(&request, &code).await.json().await.unwrap();
    let id_token = tokens["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"));
    let id = verify_with_jwks(&app, id_token, "secure").await;
    assert_eq!(id["amr"], json!(["pwd", "otp"]));

    // The next sign-in asks for a code from the new key.
    app.clock.advance(30);
    let login = app.get("/login").await;
    let answer = app
        .submit_form(
            login,
            "/login",
            &[("username", "alice"), ("password", ALICE_PASSWORD)],
        )
        .await;
    assert!(location(&answer).contains("/login/totp"));
    let page = app.follow(&answer).await;
    let done = app
        .submit_form(page, "/login/totp", &[("code", &app.code_for(&secret))])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
}

/// The link on the recovery-codes page that continues.
fn hidden_continue(html: &str) -> String {
    let marker = "class=\"button-link\" href=\"";
    let start = html.find(marker).expect("a continue link") + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end]
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn recovery_codes_sign_in_once_and_expired_codes_are_named() {
    let app = spawn_app().await;
    app.sign_in_to_account("bob", BOB_PASSWORD).await;
    app.clock.advance(30);
    let renewed = app
        .account_form("/account/mfa/recovery-codes", &[("code", &app.totp_code())])
        .await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let codes = recovery_codes(&renewed.text().await.unwrap());
    assert_eq!(codes.len(), 10);

    let sign_in_with = |code: String| {
        let app = &app;
        async move {
            app.browser
                .get(app.url("/end_session"))
                .send()
                .await
                .unwrap();
            let login = app.get("/login").await;
            let answer = app
                .submit_form(
                    login,
                    "/login",
                    &[("username", "bob"), ("password", BOB_PASSWORD)],
                )
                .await;
            let page = app.follow(&answer).await;
            app.submit_form(page, "/login/totp", &[("code", &code)])
                .await
        }
    };
    // Typed in capitals with spaces, as from paper: still accepted.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let first = sign_in_with(typed).await;
    assert_eq!(
        first.status(),
        StatusCode::SEE_OTHER,
        "recovery code accepted"
    );
    let again = sign_in_with(codes[0].clone()).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED, "and never again");

    let stale = {
        use gatehouse::clock::Clock;
        gatehouse::crypto::totp::code_at(BOB_TOTP, (app.clock.now() - 120) as u64).unwrap()
    };
    let expired = sign_in_with(stale).await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert!(expired
        .text()
        .await
        .unwrap()
        .contains("That code has expired \u{2014} use the newest one in your app."));
}

#[tokio::test]
async fn the_account_page_needs_a_session_and_then_goes_back_there() {
    let app = spawn_app().await;
    let page = app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Signed in as <strong>alice</strong>"));
    assert!(html.contains("value=\"alice@example.com\""));
    assert!(html.contains("This browser"));

    // `then` names internal pages only: anything else lands on home.
    let login = app.get("/login?then=https://evil.example/").await;
    let html = login.text().await.unwrap();
    assert!(!html.contains("evil"), "unknown destinations are dropped");
}

#[tokio::test]
async fn profile_changes_are_checked_and_saved() {
    let app = spawn_app().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let bad = app
        .account_form(
            "/account/profile",
            &[("name", "Alice"), ("email", "not-an-address")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("doesn&#x27;t look right"));

    let saved = app
        .account_form(
            "/account/profile",
            &[
                ("name", "Alice Liddell"),
                ("email", "alice@wonderland.example"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert!(location(&saved).contains("/account?done=profile"));
    let page = app.follow(&saved).await.text().await.unwrap();
    assert!(page.contains("Your profile was saved."));
    assert!(page.contains("value=\"Alice Liddell\""));

    let forged = app
        .browser
        .post(app.url("/account/profile"))
        .form(&[("csrf", "forged"), ("name", "Mallory")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("value=\"Alice Liddell\""), "nothing changed");
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = spawn_app().await;
    // A second browser signed in as alice.
    let other = new_browser();
    let login = other.get(app.url("/login")).send().await.unwrap();
    let html = login.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf").unwrap();
    let signed = other
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "alice"),
            ("password", ALICE_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);

    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let wrong = app
        .account_form(
            "/account/password",
            &[
                ("current_password", "not it"),
                ("new_password", "a brand new passphrase"),
                ("repeat_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(wrong.text().await.unwrap().contains("current password isn"));
    let short = app
        .account_form(
            "/account/password",
            &[
                ("current_password", ALICE_PASSWORD),
                ("new_password", "short"),
                ("repeat_password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);

    let changed = app
        .account_form(
            "/account/password",
            &[
                ("current_password", ALICE_PASSWORD),
                ("new_password", "a brand new passphrase"),
                ("repeat_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/account").await.status(),
        StatusCode::OK,
        "this browser stays signed in"
    );
    let elsewhere = other.get(app.url("/account")).send().await.unwrap();
    assert_eq!(
        elsewhere.status(),
        StatusCode::FOUND,
        "the other browser is out"
    );

    let old = app.get("/login").await;
    let refused = app
        .submit_form(
            old,
            "/login",
            &[("username", "alice"), ("password", ALICE_PASSWORD)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let new = app.get("/login").await;
    let accepted = app
        .submit_form(
            new,
            "/login",
            &[
                ("username", "alice"),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sessions_can_be_signed_out_one_by_one_or_all_others() {
    let app = spawn_app().await;
    let mut others = Vec::new();
    for _ in 0..2 {
        let other = new_browser();
        app.post_password(&other, "/login", ("alice", ALICE_PASSWORD), None)
            .await;
        others.push(other);
    }
    let page = app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let html = page.text().await.unwrap();
    let sids: Vec<String> = html
        .split("name=\"sid\" value=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect();
    assert_eq!(sids.len(), 2, "two other sessions listed with a button");

    let one = app
        .account_form("/account/sessions/end", &[("sid", &sids[0])])
        .await;
    assert_eq!(one.status(), StatusCode::SEE_OTHER);
    let live = count(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM browser_sessions",
    )
    .await;
    assert_eq!(live, 2);

    let someone_elses = app
        .account_form("/account/sessions/end", &[("sid", &sids[0])])
        .await;
    assert_eq!(
        someone_elses.status(),
        StatusCode::BAD_REQUEST,
        "already ended"
    );

    let rest = app
        .account_form("/account/sessions/end", &[("scope", "others")])
        .await;
    assert_eq!(rest.status(), StatusCode::SEE_OTHER);
    let live = count(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM browser_sessions",
    )
    .await;
    assert_eq!(live, 1);
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn revoking_an_application_revokes_its_tokens_and_asks_consent_again() {
    let app = spawn_app().await;
    let request = AuthRequest::offline();
    let tokens = app.tokens_for(&request, "alice", ALICE_PASSWORD).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let access = tokens["access_token"].as_str().unwrap().to_string();

    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("<strong>Web App</strong>"), "listed: {page}");
    assert!(page.contains("Stay connected to your account"));

    let revoked = app
        .account_form("/account/applications/revoke", &[("client_id", "webapp")])
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    let page = app.follow(&revoked).await.text().await.unwrap();
    assert!(page.contains("Access removed."));
    assert!(page.contains("You haven't allowed any application"));

    let refreshed = app.refresh(&refresh, WEBAPP).await;
    assert_eq!(refreshed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        app.introspect(&access, WEBAPP).await["active"],
        json!(false)
    );

    let again = app.authorize(&request).await;
    assert!(
        location(&again).contains("/consent?request="),
        "consent asked again"
    );

    let nothing = app
        .account_form("/account/applications/revoke", &[("client_id", "webapp")])
        .await;
    assert_eq!(nothing.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn wrong_codes_on_the_account_page_slow_the_account_down() {
    let app = spawn_app().await;
    app.sign_in_to_account("bob", BOB_PASSWORD).await;
    let mut throttled = false;
    for _ in 0..10 {
        let refused = app
            .account_form("/account/mfa/disable", &[("code", "123456")])
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        if refused
            .text()
            .await
            .unwrap()
            .contains("Too many failed attempts")
        {
            throttled = true;
            break;
        }
    }
    assert!(
        throttled,
        "guessing codes from an open session is throttled"
    );
    app.clock.advance(3600);
    let off = app
        .account_form("/account/mfa/disable", &[("code", &app.totp_code())])
        .await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER, "the delay passes");
}

#[tokio::test]
async fn mfa_can_be_turned_off_with_a_current_code_only() {
    let app = spawn_app().await;
    app.sign_in_to_account("bob", BOB_PASSWORD).await;
    let refused = app
        .account_form("/account/mfa/disable", &[("code", "123456")])
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    app.clock.advance(30);
    let off = app
        .account_form("/account/mfa/disable", &[("code", &app.totp_code())])
        .await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    let page = app.follow(&off).await.text().await.unwrap();
    assert!(page.contains("Two-step verification is now off."));
    assert!(page.contains("Set up two-step verification"));
    let login = app.get("/login").await;
    let answer = app
        .submit_form(
            login,
            "/login",
            &[("username", "bob"), ("password", BOB_PASSWORD)],
        )
        .await;
    assert!(!location(&answer).contains("/login/totp"), "no code asked");
}
