//! Sending through a real SMTP server: the From of `email_from`, a
//! multipart message with a text and an HTML part and its own Message-ID,
//! the credentials of `smtp_url` (or `smtp_password`), and metrics.

use crate::helpers::smtp::SmtpSink;
use crate::helpers::*;
use reqwest::StatusCode;

async fn change_password(app: &TestApp) {
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let changed = app
        .change_password(ALICE_PASSWORD, "a brand new passphrase")
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_message_is_multipart_from_the_configured_address_with_its_own_id() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url.as_str().into());
        c.email_from = Some("Acme Identity <id@acme.example>".into());
    })
    .await;
    change_password(&app).await;
    let mail = sink.wait_for("alice@example.com", 1).await.remove(0);
    assert_eq!(mail.from, "Acme Identity <id@acme.example>");
    assert_eq!(mail.mail_from, "id@acme.example");
    assert_eq!(mail.to, "alice@example.com");
    assert_eq!(mail.rcpt_tos, ["alice@example.com"]);
    assert_eq!(mail.auth_user, None, "no credentials, no AUTH");
    assert!(mail.raw.contains("multipart/alternative"));
    assert!(mail
        .raw
        .contains(&format!("Message-ID: {}", mail.message_id)));
    assert!(mail
        .html
        .unwrap()
        .contains("Your Gatehouse password was changed"));
    // The sender counts a message once the server's answer is recorded,
    // a moment after the server has it.
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = app.get("/metrics").await.text().await.unwrap();
        if metrics.contains("gatehouse_emails_total{result=\"sent\"} 1") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        metrics.contains("gatehouse_emails_total{result=\"sent\"} 1"),
        "{metrics}"
    );
    sink.stop().await;
}

#[tokio::test]
async fn the_user_of_smtp_url_authenticates_with_its_password_or_smtp_password() {
    let sink = SmtpSink::start().await;
    let url = sink.url().replace("smtp://", "smtp://mailer:in-url@");
    let app = spawn_app_with(|c| c.smtp_url = Some(url.as_str().into())).await;
    change_password(&app).await;
    let mail = sink.wait_for("alice@example.com", 1).await.remove(0);
    assert_eq!(mail.auth_user.as_deref(), Some("mailer"));
    assert_eq!(mail.auth_password.as_deref(), Some("in-url"));
    sink.stop().await;

    let sink = SmtpSink::start().await;
    let url = sink.url().replace("smtp://", "smtp://relay-user@");
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url.as_str().into());
        c.smtp_password = Some("from-its-own-setting".into());
    })
    .await;
    change_password(&app).await;
    let mail = sink.wait_for("alice@example.com", 1).await.remove(0);
    assert_eq!(mail.auth_user.as_deref(), Some("relay-user"));
    assert_eq!(mail.auth_password.as_deref(), Some("from-its-own-setting"));
    sink.stop().await;
}
