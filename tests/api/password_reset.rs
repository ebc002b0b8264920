//! Forgot password, end to end against a real SMTP server
//! (`helpers::smtp::SmtpSink`): the request answers the same whoever it
//! names, the mail carries a single-use, 30-minute link, the link's form
//! sets a password under the policy, ends every session and sends a
//! notice; budgets per address and per account.

use crate::helpers::smtp::{self, link, Mail, SmtpSink};
use crate::helpers::*;
use reqwest::{Client, Response, StatusCode};
use std::time::{Duration, Instant};

const SENT: &str = "If an account matches, we sent a link to its email address.";
const ALICE: &str = "alice@example.com";
const NEW_PASSWORD: &str = "a brand new passphrase 7";

/// An app that sends email through a fresh sink.
async fn email_app() -> (SmtpSink, TestApp) {
    email_app_with(|_| {}).await
}

async fn email_app_with(
    adjust: impl FnOnce(&mut gatehouse::config::Config),
) -> (SmtpSink, TestApp) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url.as_str().into());
        adjust(c);
    })
    .await;
    (sink, app)
}

impl TestApp {
    /// Asks for a reset link for `identifier` as `browser` would.
    async fn ask_for_link(&self, browser: &Client, identifier: &str) -> Response {
        let csrf = self.csrf_of(browser, "/forgot-password").await;
        browser
            .post(self.url("/forgot-password"))
            .form(&[("csrf", csrf.as_str()), ("identifier", identifier)])
            .send()
            .await
            .unwrap()
    }

    /// Opens `link` and posts `new` and `repeated` on its form.
    async fn choose_password(&self, link: &str, new: &str, repeated: &str) -> Response {
        let page = self.browser.get(link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "the reset form of {link}");
        let html = page.text().await.unwrap();
        let csrf = hidden_field(&html, "csrf").expect("a CSRF field");
        let token = hidden_field(&html, "token").expect("a token field");
        self.browser
            .post(self.url("/reset-password"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("token", token.as_str()),
                ("new_password", new),
                ("repeat_password", repeated),
            ])
            .send()
            .await
            .unwrap()
    }

    /// The link in a reset message.
    fn reset_link(&self, mail: &Mail) -> String {
        link(&mail.text, &self.url("/reset-password?token="))
    }
}

/// Asks for a link for alice and returns it, from the message that came.
async fn alice_link(sink: &SmtpSink, app: &TestApp) -> String {
    let before = sink.messages_to(ALICE).len();
    let answer = app.ask_for_link(&app.browser, "alice").await;
    assert_eq!(answer.status(), StatusCode::OK);
    let mails = sink.wait_for(ALICE, before + 1).await;
    app.reset_link(&mails[before])
}

async fn sign_in_status(app: &TestApp, password: &str) -> StatusCode {
    let browser = new_browser();
    app.post_password(&browser, "/login", ("alice", password), None)
        .await
        .status()
}

#[tokio::test]
async fn forgot_password_mail_link_new_password_sign_in() {
    let (sink, app) = email_app().await;
    let answer = app.ask_for_link(&app.browser, "alice").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer.text().await.unwrap().contains(SENT));

    let mails = sink.wait_for(ALICE, 1).await;
    let mail = &mails[0];
    assert_eq!(mail.subject, "Reset your Gatehouse password");
    assert_eq!(mail.rcpt_tos, vec![ALICE.to_string()]);
    assert!(mail.to.contains(ALICE), "To: {}", mail.to);
    assert!(mail.from.contains("Gatehouse"), "From: {}", mail.from);
    assert!(mail.from.contains(&mail.mail_from), "From: {}", mail.from);
    assert!(mail
        .raw
        .contains(&format!("Message-ID: {}", mail.message_id)));
    assert_eq!(mail.auth_user, None, "no credentials in smtp_url");
    assert!(
        mail.message_id.starts_with('<') && mail.message_id.ends_with('>'),
        "Message-ID: {:?}",
        mail.message_id
    );
    assert!(mail.text.contains("Hello Alice Example,"), "{}", mail.text);
    assert!(mail.text.contains("The link works once, for 30 minutes."));
    let link = app.reset_link(mail);
    let html = mail
        .html
        .as_deref()
        .expect("an HTML part")
        .replace("&#x2F;", "/");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    assert!(html.contains("Choose a new password"), "{html}");

    let form = app.browser.get(&link).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form
        .text()
        .await
        .unwrap()
        .contains("Choose a new password for <strong>alice</strong>."));
    let done = app.choose_password(&link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done
        .text()
        .await
        .unwrap()
        .contains("Your password was changed; sign in with your new password."));

    assert_eq!(
        sign_in_status(&app, ALICE_PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in_status(&app, NEW_PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let events = app.audit_events("password.reset", Some("alice")).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        app.audit_events("password.reset_requested", Some("alice"))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn an_email_address_finds_its_account_in_any_case() {
    let (sink, app) = email_app().await;
    let answer = app.ask_for_link(&app.browser, "  ALICE@example.com ").await;
    assert_eq!(answer.status(), StatusCode::OK);
    let mails = sink.wait_for(ALICE, 1).await;
    assert_eq!(mails[0].subject, "Reset your Gatehouse password");
}

#[tokio::test]
async fn the_answer_is_the_same_for_every_account_and_none() {
    let (sink, app) = email_app().await;
    // bob is disabled; carol has no address; nobody does not exist.
    execute(
        &app.database_url,
        "UPDATE users SET disabled = 1 WHERE username = 'bob'",
    )
    .await;
    app.create_admin_user("carol", "carol's long passphrase")
        .await;
    execute(
        &app.database_url,
        "UPDATE users SET email = NULL WHERE username = 'carol'",
    )
    .await;
    let mut bodies = Vec::new();
    for who in [
        "bob",
        "bob@example.com",
        "carol",
        "nobody",
        "nobody@example.com",
        "alice",
    ] {
        let answer = app.ask_for_link(&app.browser, who).await;
        assert_eq!(answer.status(), StatusCode::OK, "{who}");
        assert_eq!(answer.headers().get("set-cookie"), None, "{who}");
        bodies.push((who, answer.text().await.unwrap()));
    }
    for (who, body) in &bodies {
        assert_eq!(body, &bodies[0].1, "the answer for {who}");
    }
    assert!(bodies[0].1.contains(SENT));
    // alice's request came last: once hers is in, the others were looked at.
    sink.wait_for(ALICE, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1, "only alice got mail");
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn the_answer_takes_as_long_for_an_account_as_for_none() {
    // No per-address budget here: 30 requests come from one address.
    let (_sink, app) = email_app_with(|c| c.rate_limit_sign_in = 0).await;
    let csrf = app.csrf_of(&app.browser, "/forgot-password").await;
    let time = |identifier: &'static str| {
        let (app, csrf) = (&app, csrf.clone());
        async move {
            let started = Instant::now();
            let answer = app
                .browser
                .post(app.url("/forgot-password"))
                .form(&[("csrf", csrf.as_str()), ("identifier", identifier)])
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::OK);
            answer.text().await.unwrap();
            started.elapsed()
        }
    };
    // Warm up both paths.
    time("alice").await;
    time("nobody").await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        // An hour on, so that every request for alice issues a link (the
        // per-account budget would otherwise cut the work short).
        app.clock.advance(3601);
        known.push(time("alice").await);
        unknown.push(time("nobody").await);
    }
    let (known, unknown) = (median(known), median(unknown));
    // Medians of alternating requests take out outliers and drift. With
    // the work after the answer the medians differ by the machine's noise
    // (0.2 to 1.3 ms measured on a busy 2-core machine); 25 ms leaves room
    // for a much busier one. It catches a slow step on one path only (an
    // argon2 hash, an SMTP exchange: tens of milliseconds and more), not
    // issuing the link inline, which measured 1.8 ms (SQLite) and 6.6 ms
    // (Postgres) slower: answering first is what removes that, and the
    // other tests show the link still comes.
    let gap = known.abs_diff(unknown);
    assert!(
        gap < Duration::from_millis(25),
        "median for an account {known:?}, for none {unknown:?}"
    );
}

#[tokio::test]
async fn a_link_works_once() {
    let (sink, app) = email_app().await;
    let link = alice_link(&sink, &app).await;
    let done = app.choose_password(&link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::OK);
    let again = app.browser.get(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::GONE);
    let page = again.text().await.unwrap();
    assert!(page.contains("This link no longer works"), "{page}");
    assert!(page.contains("Ask for a new link"), "{page}");
    // Posting the used token directly changes nothing either.
    let csrf = app.csrf_of(&app.browser, "/forgot-password").await;
    let token = link.split("token=").nth(1).unwrap();
    let replay = app
        .browser
        .post(app.url("/reset-password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("token", token),
            ("new_password", "yet another passphrase"),
            ("repeat_password", "yet another passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::GONE);
    assert_eq!(
        sign_in_status(&app, NEW_PASSWORD).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_link_works_for_30_minutes() {
    let (sink, app) = email_app().await;
    let link = alice_link(&sink, &app).await;
    app.clock.advance(29 * 60);
    assert_eq!(
        app.browser.get(&link).send().await.unwrap().status(),
        StatusCode::OK
    );
    app.clock.advance(60);
    let late = app.browser.get(&link).send().await.unwrap();
    assert_eq!(late.status(), StatusCode::GONE);
    assert_eq!(
        sign_in_status(&app, ALICE_PASSWORD).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn opening_the_link_does_not_use_it_up() {
    let (sink, app) = email_app().await;
    let link = alice_link(&sink, &app).await;
    // A mail scanner fetches the link first; then the person opens it.
    for _ in 0..3 {
        let page = new_browser().get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
    }
    let done = app.choose_password(&link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_refused_password_shows_the_form_again_and_the_link_still_works() {
    let (sink, app) = email_app().await;
    let link = alice_link(&sink, &app).await;
    for (new, repeated, why) in [
        (
            "short",
            "short",
            "Choose a password of at least 8 characters.",
        ),
        (
            NEW_PASSWORD,
            "something else entirely",
            "The two new passwords are different. Type the same password twice.",
        ),
    ] {
        let refused = app.choose_password(&link, new, repeated).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let page = refused.text().await.unwrap();
        assert!(page.contains(why), "{why}: {page}");
        assert!(page.contains(r#"name="new_password""#), "the form again");
    }
    assert_eq!(
        sign_in_status(&app, ALICE_PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let done = app.choose_password(&link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_reset_signs_out_every_browser_and_sends_a_notice() {
    let (sink, app) = email_app().await;
    let signed_in = new_browser();
    let answer = app
        .post_password(&signed_in, "/login", ("alice", ALICE_PASSWORD), None)
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let account = signed_in.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), StatusCode::OK);

    let link = alice_link(&sink, &app).await;
    let done = app.choose_password(&link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::OK);

    let account = signed_in.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), StatusCode::FOUND);
    assert!(location(&account).ends_with("/login?then=account"));

    let mails = sink.wait_for(ALICE, 2).await;
    let notice = &mails[1];
    assert_eq!(notice.subject, "Your Gatehouse password was changed");
    assert!(
        notice
            .text
            .contains("every browser signed in to it was signed out"),
        "{}",
        notice.text
    );
    assert_ne!(notice.message_id, mails[0].message_id);
}

#[tokio::test]
async fn an_account_gets_at_most_five_links_an_hour() {
    let (sink, app) = email_app_with(|c| c.rate_limit_sign_in = 0).await;
    let mut bodies = Vec::new();
    for _ in 0..7 {
        let answer = app.ask_for_link(&app.browser, "alice").await;
        assert_eq!(answer.status(), StatusCode::OK);
        bodies.push(answer.text().await.unwrap());
    }
    assert!(
        bodies.iter().all(|b| b == &bodies[0]),
        "the same answer over the budget"
    );
    sink.wait_for(ALICE, 5).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages_to(ALICE).len(), 5);
    // Only the newest link works.
    let mut live = 0;
    for mail in sink.messages_to(ALICE) {
        let page = app.browser.get(app.reset_link(&mail)).send().await.unwrap();
        if page.status() == StatusCode::OK {
            live += 1;
        } else {
            assert_eq!(page.status(), StatusCode::GONE);
        }
    }
    assert_eq!(live, 1);

    app.clock.advance(3601);
    let answer = app.ask_for_link(&app.browser, "alice").await;
    assert_eq!(answer.status(), StatusCode::OK);
    sink.wait_for(ALICE, 6).await;
}

#[tokio::test]
async fn an_address_over_its_budget_is_told_to_wait() {
    let (_sink, app) = email_app_with(|c| c.rate_limit_sign_in = 3).await;
    let csrf = app.csrf_of(&app.browser, "/forgot-password").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let answer = app
            .browser
            .post(app.url("/forgot-password"))
            .form(&[("csrf", csrf.as_str()), ("identifier", "nobody")])
            .send()
            .await
            .unwrap();
        statuses.push(answer.status());
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(answer.headers().contains_key("retry-after"));
            assert!(answer.text().await.unwrap().contains("Too many attempts"));
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn without_email_the_page_says_to_ask_an_administrator() {
    let app = spawn_app().await;
    let sentence =
        "Password reset by email is not available here. Ask an administrator to reset your password.";
    let page = app.get("/forgot-password").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(sentence), "{html}");
    assert!(!html.contains(r#"name="identifier""#), "no form: {html}");
    let csrf = app.csrf_of(&app.browser, "/login").await;
    let posted = app
        .browser
        .post(app.url("/forgot-password"))
        .form(&[("csrf", csrf.as_str()), ("identifier", "alice")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    assert!(posted.text().await.unwrap().contains(sentence));
}

#[tokio::test]
async fn the_sign_in_page_links_to_it_and_the_flow_is_carried_back() {
    let (_sink, app) = email_app().await;
    let login = app.get("/login?then=account").await.text().await.unwrap();
    assert!(
        login.contains(r#"/forgot-password?then=account">Forgot your password?</a>"#),
        "{login}"
    );
    let page = app.get("/forgot-password?then=account").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert_eq!(hidden_field(&html, "then").as_deref(), Some("account"));
    let answer = app
        .submit_form(
            app.get("/forgot-password?then=account").await,
            "/forgot-password",
            &[("identifier", "nobody")],
        )
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let sent = answer.text().await.unwrap().replace("&#x2F;", "/");
    assert!(
        sent.contains(r#"/login?then=account">Back to sign in</a>"#),
        "{sent}"
    );
}

#[tokio::test]
async fn a_form_without_its_csrf_token_sends_nothing() {
    let (sink, app) = email_app().await;
    app.csrf_of(&app.browser, "/forgot-password").await;
    let forged = app
        .browser
        .post(app.url("/forgot-password"))
        .form(&[("csrf", "forged"), ("identifier", "alice")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged
        .text()
        .await
        .unwrap()
        .contains("This form had expired, so nothing was sent. Please try again."));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_link_asked_for_while_smtp_is_down_arrives_when_it_is_back() {
    let port = smtp::free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(|c| c.smtp_url = Some(url.as_str().into())).await;
    let answer = app.ask_for_link(&app.browser, "alice").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer.text().await.unwrap().contains(SENT));
    // The first attempt fails: nothing listens.
    let started = Instant::now();
    loop {
        let waiting = app.provider.store.outbox(None, 10).await.unwrap();
        if waiting.first().is_some_and(|m| m.attempts >= 1) {
            assert_eq!(waiting.len(), 1);
            assert_eq!(waiting[0].kind, "reset");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no failed attempt: {waiting:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sink = SmtpSink::start_on(port).await;
    app.clock.advance(60);
    let mails = sink.wait_for(ALICE, 1).await;
    let link = app.reset_link(&mails[0]);
    assert_eq!(
        app.browser.get(&link).send().await.unwrap().status(),
        StatusCode::OK
    );
    sink.stop().await;
}

#[tokio::test]
async fn a_link_stops_working_once_the_address_changed() {
    let (sink, app) = email_app().await;
    let link = alice_link(&sink, &app).await;
    let token = app.admin_token().await;
    let (status, _) = app
        .api_json(
            reqwest::Method::PATCH,
            "/users/alice",
            &token,
            Some(serde_json::json!({ "email": "alice@new.example" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = app.browser.get(&link).send().await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::GONE,
        "the link no longer opens its form"
    );
    let csrf = app.csrf_of(&app.browser, "/forgot-password").await;
    let late = app
        .browser
        .post(app.url("/reset-password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("token", link.split("token=").nth(1).unwrap()),
            ("new_password", NEW_PASSWORD),
            ("repeat_password", NEW_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::GONE);
    assert_eq!(
        sign_in_status(&app, NEW_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "the old mailbox set nothing"
    );
    sink.stop().await;
}
