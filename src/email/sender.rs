//! The email sender: the outbox's `email` channel, delivered over SMTP
//! through the shared rounds of [`super::deliverer`] (claims with a lease,
//! backoff, parking). An SMTP server that refuses a message for good (a
//! 5xx) parks it at once.

use super::deliverer::{self, Courier, Delivered, SendFailure, Settled};
use super::smtp::SmtpSender;
use crate::model::{OutboxRecord, CHANNEL_EMAIL};
use crate::state::Provider;
use std::sync::Arc;

/// Starts the sender task; it runs until the process ends.
pub fn start(provider: Arc<Provider>, smtp: SmtpSender) -> tokio::task::JoinHandle<()> {
    tracing::info!(smtp = %smtp.describe, "email: sending through SMTP");
    let wake = provider.outbox_wake.clone();
    deliverer::start(provider, Mail(smtp), wake)
}

/// Email rows, sent through one SMTP server.
struct Mail(SmtpSender);

impl Courier for Mail {
    fn channel(&self) -> &'static str {
        CHANNEL_EMAIL
    }

    async fn deliver(
        &self,
        _provider: &Provider,
        row: &OutboxRecord,
    ) -> Result<Delivered, SendFailure> {
        self.0.send(row).await.map(|()| Delivered::Sent)
    }

    async fn settled(
        &self,
        provider: &Provider,
        mail: &OutboxRecord,
        attempt: i64,
        result: Settled,
        failure: Option<&SendFailure>,
    ) {
        provider
            .metrics
            .emails
            .with_label_values(&[result.as_str()])
            .inc();
        match failure {
            None => tracing::info!(message_id = %mail.message_id, kind = %mail.kind,
                attempt, "email: sent"),
            Some(failure) => tracing::warn!(message_id = %mail.message_id, kind = %mail.kind,
                attempt, parked = result == Settled::Parked, error = %failure.reason,
                "email: not sent"),
        }
    }
}
