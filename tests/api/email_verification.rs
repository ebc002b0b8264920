//! Email verification through a real SMTP server: a changed address is
//! unverified until the link sent to it is opened (and confirmed with a
//! click), a link works once and only for the address it was sent to, the
//! account page sends another at most once a minute, and an admin's word
//! on it is audited.

use crate::helpers::smtp::{link, SmtpSink};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn app_with_mail() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| c.smtp_url = Some(url.as_str().into())).await;
    (app, sink)
}

async fn verified(app: &TestApp, username: &str) -> (String, bool) {
    let token = app.admin_token().await;
    let (status, user) = app
        .api_json(Method::GET, &format!("/users/{username}"), &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    (
        user["email"].as_str().unwrap_or_default().to_string(),
        user["email_verified"].as_bool().unwrap(),
    )
}

async fn change_address(app: &TestApp, to: &str) {
    let saved = app
        .account_form(
            "/account/profile",
            &[("name", "Alice Example"), ("email", to)],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_changed_address_is_unverified_until_its_link_is_opened_and_confirmed() {
    let (app, sink) = app_with_mail().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    assert_eq!(
        verified(&app, "alice").await,
        ("alice@example.com".into(), true)
    );
    change_address(&app, "alice@new.example").await;
    assert_eq!(
        verified(&app, "alice").await,
        ("alice@new.example".into(), false)
    );
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("This address is not verified."));
    assert!(page.contains("Send a verification link"));

    let mail = sink.wait_for("alice@new.example", 1).await.remove(0);
    assert_eq!(mail.subject, "Confirm your email address for Gatehouse");
    assert!(mail.message_id.starts_with('<') && mail.message_id.ends_with("@127.0.0.1>"));
    assert!(mail.text.contains("Hello Alice Example,"));
    let url = link(&mail.text, &format!("{}/verify-email?token=", app.address));
    let html = mail.html.expect("an HTML part");
    assert!(html.contains(&url.replace('&', "&amp;")), "{html}");

    // Opening the link only shows a button: mail scanners open links too.
    let opened = app.api.get(&url).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    let opened = opened.text().await.unwrap();
    assert!(opened.contains("Confirm that <strong>alice@new.example</strong> is your address."));
    assert!(!verified(&app, "alice").await.1, "a GET verifies nothing");

    let page = app.browser.get(&url).send().await.unwrap();
    let confirmed = app
        .submit_form(
            page,
            "/verify-email",
            &[("token", url.rsplit('=').next().unwrap())],
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let confirmed = confirmed.text().await.unwrap();
    assert!(confirmed.contains("<strong>alice@new.example</strong> is verified."));
    assert!(verified(&app, "alice").await.1);
    assert_eq!(app.audit_events("email.verified", None).await.len(), 1);

    // The link worked once.
    let page = app.browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("This link no longer works"));
    sink.stop().await;
}

#[tokio::test]
async fn a_link_verifies_only_the_address_it_was_sent_to_and_only_for_a_day() {
    let (app, sink) = app_with_mail().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    change_address(&app, "first@new.example").await;
    let first = sink.wait_for("first@new.example", 1).await.remove(0);
    let first = link(&first.text, &format!("{}/verify-email?token=", app.address));
    change_address(&app, "second@new.example").await;
    let second = sink.wait_for("second@new.example", 1).await.remove(0);
    let second = link(
        &second.text,
        &format!("{}/verify-email?token=", app.address),
    );

    // The first link was replaced by the second.
    let page = app.browser.get(&first).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    // The second lives 24 hours.
    app.clock.advance(24 * 3600 + 1);
    let page = app.browser.get(&second).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let posted = app
        .submit_form(
            app.get("/login").await,
            "/verify-email",
            &[("token", second.rsplit('=').next().unwrap())],
        )
        .await;
    assert_eq!(posted.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        verified(&app, "alice").await,
        ("second@new.example".into(), false)
    );
    sink.stop().await;
}

#[tokio::test]
async fn the_account_page_sends_another_link_at_most_once_a_minute() {
    let (app, sink) = app_with_mail().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    change_address(&app, "alice@new.example").await;
    sink.wait_for("alice@new.example", 1).await;

    let too_soon = app.account_form("/account/verify-email", &[]).await;
    assert_eq!(too_soon.status(), StatusCode::BAD_REQUEST);
    assert!(too_soon
        .text()
        .await
        .unwrap()
        .contains("A link was sent less than a minute ago."));

    app.clock.advance(61);
    let sent = app.account_form("/account/verify-email", &[]).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let page = app.follow(&sent).await.text().await.unwrap();
    assert!(page.contains("We sent a link to your address."));
    let both = sink.wait_for("alice@new.example", 2).await;
    assert_ne!(both[0].message_id, both[1].message_id);
    let newest = link(
        &both[1].text,
        &format!("{}/verify-email?token=", app.address),
    );
    let oldest = link(
        &both[0].text,
        &format!("{}/verify-email?token=", app.address),
    );
    assert_eq!(
        app.browser.get(&oldest).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.browser.get(&newest).send().await.unwrap().status(),
        StatusCode::OK
    );
    sink.stop().await;
}

#[tokio::test]
async fn without_email_no_link_is_offered_and_the_page_says_why() {
    let app = spawn_app().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    change_address(&app, "alice@new.example").await;
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("This address is not verified."));
    assert!(!page.contains("Send a verification link"));
    let refused = app.account_form("/account/verify-email", &[]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("This server sends no email, so addresses cannot be verified here."));
}

#[tokio::test]
async fn an_admin_saying_an_address_is_verified_is_audited() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let (status, _) = app
        .api_json(
            Method::PATCH,
            "/users/bob",
            &token,
            Some(json!({ "email_verified": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(verified(&app, "bob").await.1);
    let events = app.audit_events("admin.user.email_verified", None).await;
    assert_eq!(events.len(), 1);
    assert!(
        events[0].detail.contains("verified=true"),
        "{}",
        events[0].detail
    );
    // Saying it again changes nothing and records nothing.
    app.api_json(
        Method::PATCH,
        "/users/bob",
        &token,
        Some(json!({ "email_verified": true })),
    )
    .await;
    assert_eq!(
        app.audit_events("admin.user.email_verified", None)
            .await
            .len(),
        1
    );
}
