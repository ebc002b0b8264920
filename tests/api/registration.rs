//! Self-registration through a real SMTP server: closed by default; with
//! verification (the default) no account exists before the link is
//! opened; a taken address gets the same answer, after the same work, and
//! its owner a message; domains can be limited; without verification the
//! account is ready at once. The answers for taken and free addresses are
//! compared byte for byte and by time.

use crate::helpers::smtp::{link, SmtpSink};
use crate::helpers::*;
use gatehouse::config::Config;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

async fn open_app(adjust: impl FnOnce(&mut Config)) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url.as_str().into());
        c.self_registration = true;
        adjust(c);
    })
    .await;
    (app, sink)
}

async fn sign_up(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let page = app.get("/register").await;
    assert_eq!(page.status(), StatusCode::OK);
    app.submit_form(
        page,
        "/register",
        &[
            ("email", email),
            ("name", "New Person"),
            ("password", password),
            ("password_again", password),
        ],
    )
    .await
}

async fn password_works(app: &TestApp, username: &str, password: &str) -> bool {
    let browser = new_browser();
    let login = browser.get(app.url("/login")).send().await.unwrap();
    let csrf = hidden_field(&login.text().await.unwrap(), "csrf").unwrap();
    let answer = browser
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    answer.status() == StatusCode::SEE_OTHER
}

/// The page without what differs between two visits (the CSRF token).
fn without_csrf(html: &str) -> String {
    match hidden_field(html, "csrf") {
        Some(csrf) => html.replace(&csrf, "CSRF"),
        None => html.to_string(),
    }
}

#[tokio::test]
async fn sign_up_is_closed_unless_turned_on() {
    let app = spawn_app().await;
    let users = app.user_count().await;
    let page = app.get("/register").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.unwrap().contains("Sign-up is closed"));
    let login = app.get("/login").await.text().await.unwrap();
    assert!(!login.contains("/register"));
    let posted = app
        .submit_form(
            app.get("/login").await,
            "/register",
            &[
                ("email", "new@example.net"),
                ("password", "a long enough pass"),
                ("password_again", "a long enough pass"),
            ],
        )
        .await;
    assert_eq!(posted.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.user_count().await, users);
}

#[tokio::test]
async fn an_account_exists_only_once_its_link_is_opened() {
    let (app, sink) = open_app(|_| {}).await;
    let login = app.get("/login").await.text().await.unwrap();
    assert!(login.contains("No account yet? <a href=\"/register\">Create one</a>"));
    let users = app.user_count().await;
    let answer = sign_up(&app, "New@Example.net", "a long enough pass").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer.text().await.unwrap().contains("Check your email"));
    assert_eq!(app.user_count().await, users, "no account yet");
    assert!(!password_works(&app, "new@example.net", "a long enough pass").await);

    let mail = sink.wait_for("new@example.net", 1).await.remove(0);
    assert_eq!(mail.subject, "Confirm your address to join Gatehouse");
    let url = link(
        &mail.text,
        &format!("{}/register/confirm?token=", app.address),
    );
    let page = app.browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(app.user_count().await, users, "a GET creates nothing");
    let token = url.rsplit('=').next().unwrap();
    // Someone else's sign-up for this address would make an account with a
    // password they know: the link asks for the one chosen at sign-up.
    let wrong = app
        .submit_form(
            page,
            "/register/confirm",
            &[("token", token), ("password", "not the one chosen")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("That is not the password chosen when signing up"));
    assert_eq!(app.user_count().await, users);
    let page = app.browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the link stays");
    let created = app
        .submit_form(
            page,
            "/register/confirm",
            &[("token", token), ("password", "a long enough pass")],
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    assert!(created
        .text()
        .await
        .unwrap()
        .contains("Sign in as <strong>new@example.net</strong>"));
    assert_eq!(app.user_count().await, users + 1);
    assert!(password_works(&app, "new@example.net", "a long enough pass").await);
    let user = app
        .provider
        .store
        .user_by_username("new@example.net")
        .await
        .unwrap()
        .unwrap();
    assert!(user.email_verified);
    assert_eq!(user.name.as_deref(), Some("New Person"));
    assert_eq!(app.audit_events("user.registered", None).await.len(), 1);

    // The link worked once.
    let again = app.browser.get(&url).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    sink.stop().await;
}

#[tokio::test]
async fn a_taken_address_gets_the_same_answer_and_its_owner_a_message() {
    let (app, sink) = open_app(|_| {}).await;
    let free = sign_up(&app, "someone@example.net", "a long enough pass").await;
    let taken = sign_up(&app, "ALICE@example.com", "a long enough pass").await;
    assert_eq!(free.status(), taken.status());
    let free = without_csrf(&free.text().await.unwrap()).replace("someone@example.net", "ADDRESS");
    let taken = without_csrf(&taken.text().await.unwrap()).replace("alice@example.com", "ADDRESS");
    assert_eq!(free, taken);

    let mail = sink.wait_for("alice@example.com", 1).await.remove(0);
    assert_eq!(mail.subject, "You already have a Gatehouse account");
    assert!(mail
        .text
        .contains(&format!("{}/forgot-password", app.address)));
    assert!(
        password_works(&app, "alice", ALICE_PASSWORD).await,
        "the owner's password is untouched"
    );
    sink.stop().await;
}

#[tokio::test]
async fn the_answer_takes_as_long_for_a_taken_address_as_for_a_free_one() {
    let (app, sink) = open_app(|_| {}).await;
    const PAIRS: usize = 10;
    for i in 0..PAIRS {
        app.create_admin_user(&format!("owner{i}"), "irrelevant pass 1")
            .await;
    }
    let sign_up = |email: String| {
        let app = &app;
        async move {
            let page = app.get("/register").await;
            let csrf = hidden_field(&page.text().await.unwrap(), "csrf").unwrap();
            let started = Instant::now();
            let answer = app
                .browser
                .post(app.url("/register"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("email", email.as_str()),
                    ("password", "a long enough pass"),
                    ("password_again", "a long enough pass"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::OK);
            answer.bytes().await.unwrap();
            started.elapsed().as_secs_f64() * 1000.0
        }
    };
    // Paired: a free and a taken address back to back (in turn first), so
    // that what else the machine does weighs on both alike; beside them,
    // the cost of the one thing a shortcut would skip, a password hash.
    let mut gaps = Vec::new();
    let mut hashes = Vec::new();
    for i in 0..PAIRS {
        // Each address once: the per-address limit never cuts the work short.
        let (free, taken) = (
            format!("free{i}@example.net"),
            format!("owner{i}@example.com"),
        );
        let (free_ms, taken_ms) = if i % 2 == 0 {
            let free_ms = sign_up(free).await;
            (free_ms, sign_up(taken).await)
        } else {
            let taken_ms = sign_up(taken).await;
            (sign_up(free).await, taken_ms)
        };
        gaps.push(taken_ms - free_ms);
        let started = Instant::now();
        tokio::task::spawn_blocking(|| {
            gatehouse::crypto::password::hash_password("a long enough pass")
        })
        .await
        .unwrap();
        hashes.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (gap, hash) = (median(&mut gaps), median(&mut hashes));
    // Both answers hash the password and write once; what differs is a
    // read and which rows are written. An answer that skipped the hash for
    // a taken address would be a whole hash faster.
    assert!(
        gap.abs() < hash / 2.0,
        "taken minus free: {gap:.1} ms (median of {PAIRS} pairs); a hash: {hash:.1} ms"
    );
    eprintln!("sign-up answers, taken minus free: {gap:.1} ms; a password hash: {hash:.1} ms");
    sink.stop().await;
}

#[tokio::test]
async fn only_listed_domains_may_sign_up() {
    let (app, sink) = open_app(|c| c.self_registration_domains = vec!["example.net".into()]).await;
    let page = app.get("/register").await.text().await.unwrap();
    assert!(page.contains("For addresses at example.net."));
    let refused = sign_up(&app, "someone@elsewhere.org", "a long enough pass").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Sign-up here is open to addresses at example.net only."));
    let weak = sign_up(&app, "someone@example.net", "short").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak
        .text()
        .await
        .unwrap()
        .contains("Choose a password of at least 8 characters."));
    let accepted = sign_up(&app, "someone@example.net", "a long enough pass").await;
    assert_eq!(accepted.status(), StatusCode::OK);
    sink.wait_for("someone@example.net", 1).await;
    sink.stop().await;
}

#[tokio::test]
async fn at_most_three_messages_a_hour_go_to_one_address() {
    let (app, sink) = open_app(|_| {}).await;
    for _ in 0..5 {
        let answer = sign_up(&app, "target@example.net", "a long enough pass").await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    sink.wait_for("target@example.net", 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages_to("target@example.net").len(), 3);
    app.clock.advance(3601);
    sign_up(&app, "target@example.net", "a long enough pass").await;
    sink.wait_for("target@example.net", 4).await;
    sink.stop().await;
}

#[tokio::test]
async fn without_email_verification_cannot_be_required() {
    let app = spawn_app_with(|c| c.self_registration = true).await;
    let page = app.get("/register").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("this server cannot send email"));
}

#[tokio::test]
async fn without_verification_the_account_is_ready_at_once() {
    let (app, sink) = open_app(|c| c.self_registration_verify_email = false).await;
    let answer = sign_up(&app, "quick@example.net", "a long enough pass").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer
        .text()
        .await
        .unwrap()
        .contains("its account is ready"));
    assert!(password_works(&app, "quick@example.net", "a long enough pass").await);
    let user = app
        .provider
        .store
        .user_by_username("quick@example.net")
        .await
        .unwrap()
        .unwrap();
    assert!(!user.email_verified, "verified only through the link");
    let mail = sink.wait_for("quick@example.net", 1).await.remove(0);
    assert_eq!(mail.subject, "Confirm your email address for Gatehouse");
    sink.stop().await;
}
