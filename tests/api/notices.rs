//! Security notices through a real SMTP server: each change to the way
//! into an account tells its verified address, once; a first sign-in is
//! not news, a sign-in from a second browser is; an unverified address
//! hears nothing; each kind can be turned off.

use crate::helpers::smtp::SmtpSink;
use crate::helpers::*;
use gatehouse::config::Config;
use reqwest::{Method, StatusCode};

async fn app_with_mail(adjust: impl FnOnce(&mut Config)) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url.as_str().into());
        adjust(c);
    })
    .await;
    (app, sink)
}

/// Waits until the outbox holds nothing pending, so that "nothing was
/// sent" is a fact rather than a race.
async fn outbox_drained(app: &TestApp) {
    for _ in 0..200 {
        let counts = app.provider.store.outbox_counts().await.unwrap();
        if counts.pending == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the outbox did not drain");
}

fn subjects(sink: &SmtpSink, to: &str) -> Vec<String> {
    sink.messages_to(to)
        .into_iter()
        .map(|m| m.subject)
        .collect()
}

#[tokio::test]
async fn a_password_change_is_notified_once_and_a_first_sign_in_is_not() {
    let (app, sink) = app_with_mail(|_| {}).await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let changed = app
        .change_password(ALICE_PASSWORD, "a brand new passphrase")
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let mail = sink.wait_for("alice@example.com", 1).await.remove(0);
    assert_eq!(mail.subject, "Your Gatehouse password was changed");
    assert!(mail
        .text
        .contains("The password of your account was changed"));
    assert!(mail.text.contains(&format!("{}/account", app.address)));
    outbox_drained(&app).await;
    assert_eq!(
        subjects(&sink, "alice@example.com"),
        ["Your Gatehouse password was changed"],
        "the first sign-in sent nothing"
    );
    sink.stop().await;
}

#[tokio::test]
async fn a_sign_in_from_a_second_browser_is_notified_with_its_address() {
    let (app, sink) = app_with_mail(|_| {}).await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    // The same browser again: trusted, nothing to say.
    let again = app.get("/login").await;
    let answer = app
        .submit_form(
            again,
            "/login",
            &[("username", "alice"), ("password", ALICE_PASSWORD)],
        )
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    outbox_drained(&app).await;
    assert!(subjects(&sink, "alice@example.com").is_empty());

    let other = new_browser();
    let login = other.get(app.url("/login")).send().await.unwrap();
    let csrf = hidden_field(&login.text().await.unwrap(), "csrf").unwrap();
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
    let mail = sink.wait_for("alice@example.com", 1).await.remove(0);
    assert_eq!(mail.subject, "New sign-in to your Gatehouse account");
    assert!(mail.text.contains("Address: 127.0.0.1"), "{}", mail.text);
    sink.stop().await;
}

#[tokio::test]
async fn turning_two_step_off_is_notified_to_a_verified_address_only() {
    let (app, sink) = app_with_mail(|_| {}).await;
    // Bob's address is not verified: nothing goes to it.
    app.sign_in_to_account("bob", BOB_PASSWORD).await;
    let changed = app
        .change_password(BOB_PASSWORD, "bob's newer passphrase")
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    outbox_drained(&app).await;
    assert!(sink.messages_to("bob@example.com").is_empty());

    // Verified, bob hears of turning two-step off.
    app.verify_by_admin("bob").await;
    app.clock.advance(30);
    let off = app
        .account_form("/account/mfa/disable", &[("code", &app.totp_code())])
        .await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    let mail = sink.wait_for("bob@example.com", 1).await.remove(0);
    assert_eq!(mail.subject, "Two-step sign-in turned off for Gatehouse");
    assert!(mail.text.contains("a password alone now signs in"));
    sink.stop().await;
}

#[tokio::test]
async fn a_changed_address_is_told_to_the_old_one() {
    let (app, sink) = app_with_mail(|_| {}).await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let saved = app
        .account_form(
            "/account/profile",
            &[("name", "Alice Example"), ("email", "alice@new.example")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let mail = sink.wait_for("alice@example.com", 1).await.remove(0);
    assert_eq!(
        mail.subject,
        "The email address of your Gatehouse account changed"
    );
    assert!(mail
        .text
        .contains("The address of your account was changed to alice@new.example"));
    // The new address gets its verification link, not the notice.
    let new = sink.wait_for("alice@new.example", 1).await.remove(0);
    assert_eq!(new.subject, "Confirm your email address for Gatehouse");
    sink.stop().await;
}

#[tokio::test]
async fn a_notice_turned_off_is_not_sent() {
    let (app, sink) = app_with_mail(|c| c.notify_password_changed = false).await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let changed = app
        .change_password(ALICE_PASSWORD, "a brand new passphrase")
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    outbox_drained(&app).await;
    assert!(sink.messages_to("alice@example.com").is_empty());
    sink.stop().await;
}

#[tokio::test]
async fn adding_a_passkey_is_notified() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.issuer = "http://localhost:8080".into();
        c.smtp_url = Some(url.as_str().into());
    })
    .await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let mut key = app.authenticator();
    app.register_passkey(&app.browser, &mut key, "Laptop").await;
    let mail = sink.wait_for("alice@example.com", 1).await.remove(0);
    assert_eq!(
        mail.subject,
        "A passkey was added to your Gatehouse account"
    );
    assert!(mail.text.contains("A passkey named \u{201c}Laptop\u{201d}"));
    sink.stop().await;
}

#[tokio::test]
async fn an_admin_removing_the_second_factor_is_notified() {
    let (app, sink) = app_with_mail(|_| {}).await;
    app.verify_by_admin("bob").await;
    let reset = app
        .api(
            Method::POST,
            "/users/bob/reset-mfa",
            &app.admin_token().await,
            None,
        )
        .await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let mail = sink.wait_for("bob@example.com", 1).await.remove(0);
    assert_eq!(mail.subject, "Two-step sign-in turned off for Gatehouse");
    sink.stop().await;
}
