//! Invitations, with a real SMTP server: an admin invites a user by email
//! (API, screens, CLI); the account has no password until the user follows
//! the link in the mail and chooses one, which verifies the address; the
//! link works once and only the newest one does; an invited user still
//! enrols a second factor where a client requires it.

use crate::admin_ui::sign_in_as_admin;
use crate::helpers::smtp::{link, SmtpSink};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const CAROL_PASSWORD: &str = "carol's own long passphrase";

/// An app that sends email through `sink`.
async fn app_with_mail(sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    spawn_app_with(|c| c.smtp_url = Some(url.as_str().into())).await
}

/// POSTs `body` to the admin API at `path`; the status and the JSON answer.
async fn api_post(app: &TestApp, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let token = app.admin_token().await;
    let mut request = app
        .api
        .post(app.url(&format!("/admin/api/v1{path}")))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn invite(app: &TestApp, username: &str, email: &str) -> (StatusCode, Value) {
    api_post(
        app,
        "/invitations",
        Some(json!({ "username": username, "email": email, "name": "Carol Example" })),
    )
    .await
}

/// The invitation link in the newest mail to `email` (the `n`th to arrive).
async fn invitation_link(app: &TestApp, sink: &SmtpSink, email: &str, n: usize) -> String {
    let mails = sink.wait_for(email, n).await;
    let mail = &mails[n - 1];
    assert_eq!(
        mail.subject,
        format!("You are invited to {}", app.provider.config.product_name)
    );
    link(&mail.text, &app.url("/invitation?token="))
}

/// Opens the invitation page at `url` and chooses `password` on it.
async fn accept(app: &TestApp, url: &str, password: &str) -> reqwest::Response {
    let page = app.browser.get(url).send().await.unwrap();
    app.submit_form(
        page,
        "/invitation",
        &[
            ("token", url.split("token=").nth(1).unwrap()),
            ("new_password", password),
            ("repeat_password", password),
        ],
    )
    .await
}

#[tokio::test]
async fn an_invited_user_chooses_a_password_from_the_mail_and_signs_in() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let (status, body) = invite(&app, "carol", "carol@example.com").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["username"], "carol");
    assert_eq!(body["user"]["email_verified"], false);
    assert_eq!(body["user"]["must_change_password"], false);
    assert_eq!(app.audit_events("admin.user.invited", None).await.len(), 1);

    // No password signs in to an account that has none yet.
    let refused = app
        .post_password(&app.browser, "/login", ("carol", "anything at all"), None)
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let empty = app
        .post_password(&app.browser, "/login", ("carol", ""), None)
        .await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);

    let url = invitation_link(&app, &sink, "carol@example.com", 1).await;
    let mail = &sink.messages_to("carol@example.com")[0];
    eprintln!(
        "invitation mail: from {:?} ({:?}) to {:?}, auth {:?}, html part {}, {} bytes raw",
        mail.from,
        mail.mail_from,
        mail.to,
        mail.auth_user,
        mail.html.is_some(),
        mail.raw.len()
    );
    // Looking does not use the link up.
    for _ in 0..2 {
        let page = app.browser.get(&url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("<h1>Welcome, choose a password</h1>"),
            "{html}"
        );
        assert!(html.contains("Your username is <strong>carol</strong>"));
    }
    // The password policy holds.
    let short = accept(&app, &url, "short").await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert!(short
        .text()
        .await
        .unwrap()
        .contains("Choose a password of at least 8 characters."));
    let own_name = accept(&app, &url, "carol").await;
    assert_eq!(own_name.status(), StatusCode::BAD_REQUEST);

    let done = accept(&app, &url, CAROL_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/login");
    assert_eq!(app.audit_events("invitation.accepted", None).await.len(), 1);

    // The address is verified by reading the mail; the link worked once.
    let (_, user) = api_get(&app, "/users/carol").await;
    assert_eq!(user["email_verified"], true);
    let again = app.browser.get(&url).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("This invitation link does not work"));

    let signed_in = app
        .post_password(&app.browser, "/login", ("carol", CAROL_PASSWORD), None)
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert!(
        !location(&signed_in).contains("/login"),
        "{}",
        location(&signed_in)
    );
    // The link's path only: its token is a secret the log check looks for.
    eprintln!(
        "invitation: mail to carol@example.com, link {}, password chosen, signed in",
        &url[..url.find('?').unwrap()]
    );
}

async fn api_get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let token = app.admin_token().await;
    let response = app
        .api
        .get(app.url(&format!("/admin/api/v1{path}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn invitations_refuse_taken_names_bad_addresses_and_a_missing_smtp_server() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let (status, body) = invite(&app, "alice", "someone@example.com").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"], "conflict");
    assert_eq!(
        body["error_description"],
        "The username \"alice\" is taken."
    );
    let (status, body) = invite(&app, "carol", "not-an-address").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    let (status, body) = api_post(
        &app,
        "/invitations",
        Some(json!({ "username": "carol", "email": "c@example.com", "groups": ["nope"] })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Nothing was made by the refusals.
    let (status, _) = api_get(&app, "/users/carol").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A link that was never issued, and a form without its CSRF token.
    let unknown = app.get("/invitation?token=nothing-like-this").await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let forged = app
        .browser
        .post(app.url("/invitation"))
        .form(&[
            ("token", "nothing-like-this"),
            ("new_password", CAROL_PASSWORD),
            ("repeat_password", CAROL_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);

    let off = spawn_app().await;
    let (status, body) = invite(&off, "carol", "carol@example.com").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "email_disabled");
    assert_eq!(
        body["error_description"],
        "Email is off: set smtp_url (GATEHOUSE_SMTP_URL) to send invitations."
    );
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn an_invitation_sent_again_replaces_the_first_link_until_accepted() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let (status, body) = invite(&app, "carol", "carol@example.com").await;
    assert_eq!(status, StatusCode::CREATED);
    let id = body["user"]["id"].as_str().unwrap().to_string();
    let first = invitation_link(&app, &sink, "carol@example.com", 1).await;
    let (status, _) = api_post(&app, &format!("/users/{id}/invitation"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let second = invitation_link(&app, &sink, "carol@example.com", 2).await;
    assert_ne!(first, second);

    let stale = app.browser.get(&first).send().await.unwrap();
    assert_eq!(stale.status(), StatusCode::BAD_REQUEST);
    let done = accept(&app, &second, CAROL_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);

    // Once the user has a password, there is nothing to invite to.
    let (status, body) = api_post(&app, &format!("/users/{id}/invitation"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["error_description"],
        "carol already has a password: send a password reset instead."
    );
    let (status, _) = api_post(&app, "/users/nobody/invitation", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.audit_events("admin.user.invited", None).await.len(), 2);
}

#[tokio::test]
async fn an_invited_user_enrols_a_second_factor_at_a_client_that_requires_it() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    invite(&app, "carol", "carol@example.com").await;
    let url = invitation_link(&app, &sink, "carol@example.com", 1).await;
    assert_eq!(
        accept(&app, &url, CAROL_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let secure = AuthRequest {
        client_id: "secure".into(),
        redirect_uri: "http://127.0.0.1:9996/cb".into(),
        scope: "openid".into(),
        ..AuthRequest::confidential()
    };
    let first = app.authorize(&secure).await;
    let signed_in = app.sign_in(&first, "carol", CAROL_PASSWORD).await;
    let resumed = app.follow(&signed_in).await;
    assert!(
        location(&resumed).contains("/account/mfa/enrol?request="),
        "no code without a second factor: {}",
        location(&resumed)
    );
    let enrol = app.follow(&resumed).await;
    assert_eq!(enrol.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_admin_invites_from_the_new_user_screen_and_sends_it_again() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    sign_in_as_admin(&app).await;
    let form = app.get("/admin/users/new").await;
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    assert!(html.contains("Invite by email"), "{html}");
    let csrf = hidden_field(&html, "csrf").unwrap();
    let created = app
        .browser
        .post(app.url("/admin/users"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("how", "invite"),
            ("username", "carol"),
            ("email", "carol@example.com"),
            ("name", "Carol Example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert!(location(&created).ends_with("?done=invitation-sent"));
    let page = app.follow(&created).await.text().await.unwrap();
    assert!(page.contains("The invitation was sent"), "{page}");
    assert!(page.contains("Send the invitation again"));
    invitation_link(&app, &sink, "carol@example.com", 1).await;

    let path = location(&created);
    let user_path = path.split('?').next().unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let again = app
        .browser
        .post(format!(
            "http://127.0.0.1:{}{user_path}/send-invitation",
            app.port
        ))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    invitation_link(&app, &sink, "carol@example.com", 2).await;
    // Without the form's CSRF token, nothing is sent.
    let forged = app
        .browser
        .post(format!(
            "http://127.0.0.1:{}{user_path}/send-invitation",
            app.port
        ))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.audit_events("admin.user.invited", None).await.len(), 2);

    // A taken name comes back to the form with the reason.
    let csrf = app.csrf_of(&app.browser, "/admin/users/new").await;
    let taken = app
        .browser
        .post(app.url("/admin/users"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("how", "invite"),
            ("username", "alice"),
            ("email", "a2@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert!(taken
        .text()
        .await
        .unwrap()
        .contains("The username &quot;alice&quot; is taken."));
}

#[tokio::test]
async fn the_new_user_screen_offers_no_invitation_without_email() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;
    let html = app.get("/admin/users/new").await.text().await.unwrap();
    assert!(!html.contains("Invite by email"));
    assert!(html.contains("Inviting by email needs an SMTP server"));
}

#[tokio::test]
async fn the_cli_invites_and_a_running_server_sends_it() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let out = gatehouse_cli(
        &app.database_url,
        &[
            "user",
            "invite",
            "dave",
            "dave@example.com",
            "--name",
            "Dave Example",
        ],
        &[
            ("GATEHOUSE_SMTP_URL", sink.url().as_str()),
            ("GATEHOUSE_ISSUER", app.address.as_str()),
        ],
        None,
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("Invited dave ("), "{stdout}");
    // The server's sender finds it on its next look (within a second). The
    // CLI wrote it due at the system's time, which the app's clock (set when
    // it started) has to reach.
    use gatehouse::clock::Clock;
    app.clock
        .advance(gatehouse::clock::unix_now() - app.clock.now() + 1);
    let url = invitation_link(&app, &sink, "dave@example.com", 1).await;
    assert_eq!(
        accept(&app, &url, "dave's own long passphrase")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // Taken name: exit code 4; without email settings: 1 and the reason.
    let taken = gatehouse_cli(
        &app.database_url,
        &["user", "invite", "dave", "d2@example.com"],
        &[("GATEHOUSE_SMTP_URL", sink.url().as_str())],
        None,
    )
    .await;
    assert_eq!(taken.status.code(), Some(4));
    let off = gatehouse_cli(
        &app.database_url,
        &["user", "invite", "erin", "erin@example.com"],
        &[],
        None,
    )
    .await;
    assert_eq!(off.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&off.stderr).contains("Email is off"));
}

#[tokio::test]
async fn an_invitation_posted_without_its_csrf_token_changes_nothing() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let (status, _) = invite(&app, "carol", "carol@example.com").await;
    assert_eq!(status, StatusCode::CREATED);
    let url = invitation_link(&app, &sink, "carol@example.com", 1).await;
    let forged = new_browser()
        .post(app.url("/invitation"))
        .form(&[
            ("token", url.split("token=").nth(1).unwrap()),
            ("new_password", CAROL_PASSWORD),
            ("repeat_password", CAROL_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let user = app
        .provider
        .store
        .user_by_username("carol")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.password_hash, "", "no password was set");
    let accepted = accept(&app, &url, CAROL_PASSWORD).await;
    assert_eq!(
        accepted.status(),
        StatusCode::SEE_OTHER,
        "the link still works"
    );
    sink.stop().await;
}

/// Posts a password for the link at `url`, with a CSRF token from another
/// page (the link's own page no longer shows the form).
async fn post_dead(app: &TestApp, url: &str, password: &str) -> reqwest::Response {
    let page = app.get("/login").await;
    app.submit_form(
        page,
        "/invitation",
        &[
            ("token", url.split("token=").nth(1).unwrap()),
            ("new_password", password),
            ("repeat_password", password),
        ],
    )
    .await
}

#[tokio::test]
async fn an_invitation_stops_working_once_the_address_changed_or_a_password_was_set() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let token = app.admin_token().await;
    // Sent to a mistyped address, then corrected by the admin.
    let (status, _) = invite(&app, "carol", "carol@exampel.com").await;
    assert_eq!(status, StatusCode::CREATED);
    let mistyped = invitation_link(&app, &sink, "carol@exampel.com", 1).await;
    let (status, _) = app
        .api_json(
            reqwest::Method::PATCH,
            "/users/carol",
            &token,
            Some(json!({ "email": "carol@example.com" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = app.browser.get(&mistyped).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    let refused = post_dead(&app, &mistyped, "a stranger's password").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("This invitation link does not work"));
    let user = app
        .provider
        .store
        .user_by_username("carol")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.password_hash, "", "the stranger set nothing");

    // Sent again to the right address; then an admin sets a password.
    let (status, _) = api_post(&app, &format!("/users/{}/invitation", user.id), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let right = invitation_link(&app, &sink, "carol@example.com", 1).await;
    let reset = app
        .api(
            reqwest::Method::POST,
            "/users/carol/reset-password",
            &token,
            Some(json!({ "password": "an admin's chosen password" })),
        )
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    let late = post_dead(&app, &right, CAROL_PASSWORD).await;
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    assert!(!app
        .provider
        .store
        .user_by_username("carol")
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .is_empty());
    sink.stop().await;
}
