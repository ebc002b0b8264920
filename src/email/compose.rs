//! Composing a message: the template rendered with the product's name,
//! colour and logo, links built from the issuer URL, and a `Message-ID` of
//! its own that every delivery attempt repeats.

use super::templates;
use crate::config::Config;
use crate::model::{MailKind, NewMail};
use serde_json::{json, Value};

/// A message template failed to render: a fault in the binary, not in the
/// request.
#[derive(Debug, thiserror::Error)]
#[error("email template {template} did not render: {source}")]
pub struct ComposeError {
    template: &'static str,
    source: tera::Error,
}

impl crate::failure::Failure for ComposeError {
    fn is_unavailable(&self) -> bool {
        false
    }
}

/// What a message says, before it is rendered.
#[derive(Debug, Clone)]
pub struct Letter<'a> {
    /// Why it is sent.
    pub kind: MailKind,
    /// The template (`verify`, `reset`, `invite`, `already_registered`,
    /// `notice`).
    pub template: &'static str,
    /// The recipient's address.
    pub recipient: &'a str,
    /// The subject, which is also the heading.
    pub subject: String,
    /// The one link the message is about.
    pub link: String,
    /// The words on its button.
    pub action: &'a str,
    /// The template's own values (`name`, `username`, …).
    pub values: Value,
}

/// The logo's absolute address: the deployment's, or Gatehouse's.
fn logo_url(config: &Config) -> String {
    match config.logo_file {
        Some(_) => config.endpoint("/static/logo"),
        None => config.endpoint("/static/favicon.svg"),
    }
}

/// A fresh `Message-ID` at the issuer's host (RFC 5322 §3.6.4).
pub fn new_message_id(config: &Config) -> String {
    let host = url::Url::parse(&config.issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "localhost".into());
    format!("<{}@{host}>", uuid::Uuid::new_v4().simple())
}

/// Renders `letter` into a message ready for the outbox.
pub fn compose(config: &Config, letter: Letter<'_>) -> Result<NewMail, ComposeError> {
    let mut values = json!({
        "product": config.product_name,
        "accent": config.accent_color,
        "logo_url": logo_url(config),
        "issuer": config.issuer,
        "recipient": letter.recipient,
        "subject": letter.subject,
        "heading": letter.subject,
        "link": letter.link,
        "action": letter.action,
    });
    if let (Some(all), Value::Object(own)) = (values.as_object_mut(), letter.values) {
        all.extend(own);
    }
    let (html_body, text_body) =
        templates::render(letter.template, &values).map_err(|source| ComposeError {
            template: letter.template,
            source,
        })?;
    Ok(NewMail {
        id: uuid::Uuid::now_v7().to_string(),
        message_id: new_message_id(config),
        kind: letter.kind,
        recipient: letter.recipient.to_string(),
        subject: letter.subject,
        text_body,
        html_body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(template: &'static str) -> Letter<'static> {
        Letter {
            kind: MailKind::Notice,
            template,
            recipient: "alice@example.com",
            subject: "A <subject>".into(),
            link: "https://id.example.com/reset-password?token=abc".into(),
            action: "Open",
            values: json!({
                "name": "Alice <b>", "username": "alice", "address": "alice@example.com",
                "lifetime": "30 minutes", "what": "Your password was changed.",
                "when": "2026-12-01 09:00 UTC", "device": "Firefox", "ip": "192.0.2.1",
            }),
        }
    }

    #[test]
    fn every_template_renders_both_parts_with_the_brand_and_the_link() {
        let config = Config {
            issuer: "https://id.example.com".into(),
            product_name: "Acme ID".into(),
            accent_color: "#aa3300".into(),
            ..Config::default()
        };
        for name in templates::MESSAGES {
            let mut mail = compose(&config, letter(name)).unwrap();
            // Autoescaping writes "/" as &#x2F;, which HTML readers decode.
            mail.html_body = mail.html_body.replace("&#x2F;", "/");
            assert!(mail.html_body.contains("Acme ID"), "{name}");
            assert!(mail.html_body.contains("#aa3300"), "{name}");
            assert!(mail
                .html_body
                .contains("https://id.example.com/static/favicon.svg"));
            assert!(
                mail.text_body
                    .contains("https://id.example.com/reset-password?token=abc"),
                "{name}"
            );
            assert!(mail
                .html_body
                .contains("https://id.example.com/reset-password?token=abc"));
            // HTML is escaped, text is not.
            assert!(mail.html_body.contains("A &lt;subject&gt;"), "{name}");
            assert!(!mail.html_body.contains("Alice <b>"), "{name}");
            assert!(!mail.text_body.contains("&lt;"), "{name}");
            assert!(mail.message_id.ends_with("@id.example.com>"));
        }
    }
}
