//! The SMTP connection email leaves by (lettre over tokio and rustls with
//! the system's trusted roots), built from `smtp_url`: plain, STARTTLS
//! (required) or TLS from the first byte (RFC 8314).

use crate::config::Config;
use crate::model::OutboxRecord;
use crate::smtp_url::{SmtpSecurity, SmtpUrl};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one delivery may take: connecting, and each SMTP answer.
const TIMEOUT: Duration = Duration::from_secs(30);

/// An SMTP server to send through, and the `From` of every message.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// For log lines: host, port and protection, never the password.
    pub describe: String,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

impl SmtpSender {
    /// The sender `config` asks for; `None` without `smtp_url`.
    pub fn from_config(config: &Config) -> Result<Option<SmtpSender>, String> {
        let Some(url) = &config.smtp_url else {
            return Ok(None);
        };
        let url = SmtpUrl::parse(&url.0)?;
        let tls = |host: &str| {
            TlsParameters::new(host.to_string())
                .map_err(|e| format!("smtp_url: TLS for {host} cannot be set up: {e}"))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&url.host)
            .port(url.port)
            .timeout(Some(TIMEOUT));
        builder = match url.security {
            SmtpSecurity::Plain => builder.tls(Tls::None),
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls(&url.host)?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls(&url.host)?)),
        };
        let password = config
            .smtp_password
            .as_ref()
            .map(|p| p.0.clone())
            .or(url.password.clone());
        if let Some(username) = &url.username {
            builder = builder.credentials(Credentials::new(
                username.clone(),
                password.unwrap_or_default(),
            ));
        }
        let from = config
            .email_from_address()
            .parse::<Mailbox>()
            .map_err(|e| format!("email_from: {e}"))?;
        Ok(Some(SmtpSender {
            transport: builder.build(),
            from,
            describe: format!("{}:{} ({:?})", url.host, url.port, url.security),
        }))
    }

    /// Sends one message from the outbox.
    pub async fn send(&self, mail: &OutboxRecord) -> Result<(), SendFailure> {
        let permanent = |reason: String| SendFailure {
            reason,
            permanent: true,
        };
        let to = mail
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| permanent(format!("the recipient address is not valid: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .message_id(Some(mail.message_id.clone()))
            .date_now()
            .multipart(MultiPart::alternative_plain_html(
                mail.text_body.clone(),
                mail.html_body.clone(),
            ))
            .map_err(|e| permanent(format!("the message could not be built: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendFailure {
                reason: format!("SMTP: {e}"),
                permanent: refused_for_good(&e),
            })
    }
}

/// Whether the SMTP server refused this message for good: a 5xx about the
/// mailbox (RFC 5321 §4.2.3: 550 unavailable, 551 not local, 552 storage
/// exceeded, 553 name not allowed). Other 5xx answers — 530 or 535 (the
/// server's TLS or credentials), 554 (a relay refusing everything) — are
/// about this server's settings, would park every message at once, and are
/// retried with backoff instead.
fn refused_for_good(error: &lettre::transport::smtp::Error) -> bool {
    error.is_permanent()
        && error
            .status()
            .is_some_and(|code| matches!(code.to_string().as_str(), "550" | "551" | "552" | "553"))
}

pub use super::deliverer::SendFailure;
