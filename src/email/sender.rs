//! The sender task: delivers what the outbox holds. Each round finds the
//! due messages and claims each just before sending it (a lease of
//! [`LEASE`] seconds, taken with a conditional update so replicas never
//! share one), sends it, and records the result:
//! sent (its bodies erased), due again after a backoff that doubles from
//! [`FIRST_BACKOFF`] up to [`MAX_BACKOFF`], or parked after
//! `email_max_attempts` failures (or at once when the SMTP server refuses
//! it for good, a 5xx). A round runs every second, and at once when a
//! request wakes the task after writing a message.

use super::smtp::SmtpSender;
use crate::state::Provider;
use crate::store::StoreError;
use std::sync::Arc;
use std::time::Duration;

/// How long a claim holds, in seconds: longer than one delivery may take
/// (the SMTP timeouts), so a message is sent twice only when its sender
/// died.
pub const LEASE: i64 = 300;
/// The wait after the first failure, in seconds.
pub const FIRST_BACKOFF: i64 = 5;
/// The longest wait between two attempts, in seconds.
pub const MAX_BACKOFF: i64 = 3600;
/// Messages claimed at once.
const BATCH: i64 = 20;
/// How often the outbox is looked at without being woken.
const POLL: Duration = Duration::from_secs(1);

/// The wait before attempt `failures + 1`, after `failures` failures.
pub fn backoff(failures: i64) -> i64 {
    let doublings = u32::try_from(failures.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    (FIRST_BACKOFF << doublings).min(MAX_BACKOFF)
}

/// Starts the sender task; it runs until the process ends.
pub fn start(provider: Arc<Provider>, smtp: SmtpSender) -> tokio::task::JoinHandle<()> {
    tracing::info!(smtp = %smtp.describe, "email: sending through SMTP");
    tokio::spawn(async move {
        let claimer = uuid::Uuid::new_v4().to_string();
        loop {
            match deliver_due(&provider, &smtp, &claimer).await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "email: could not read the outbox"),
            }
            if let Ok(counts) = provider.store.outbox_counts().await {
                provider.metrics.outbox_pending.set(counts.pending);
                provider.metrics.outbox_parked.set(counts.parked);
            }
            tokio::select! {
                _ = provider.outbox_wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

/// One round: finds the due messages and, one at a time, claims each
/// (a lease of [`LEASE`] seconds from the moment it is claimed, so a slow
/// server cannot make a later message's lease lapse while it waits), sends
/// it and records the result. Returns how many were due.
pub async fn deliver_due(
    provider: &Provider,
    smtp: &SmtpSender,
    claimer: &str,
) -> Result<usize, StoreError> {
    let store = &provider.store;
    let due = store.due_mail(provider.now(), BATCH).await?;
    for id in &due {
        let now = provider.now();
        let Some(mail) = store.claim_mail(id, claimer, now, now + LEASE).await? else {
            // Another sender has it (or it went out meanwhile).
            continue;
        };
        match smtp.send(&mail).await {
            Ok(()) => {
                if store.mail_sent(&mail.id, claimer, provider.now()).await? {
                    provider.metrics.emails.with_label_values(&["sent"]).inc();
                    tracing::info!(message_id = %mail.message_id, kind = %mail.kind,
                        attempt = mail.attempts + 1, "email: sent");
                } else {
                    // Only if this sender outlived its lease: the message
                    // may go out again, under the same Message-ID.
                    tracing::warn!(message_id = %mail.message_id,
                        "email: sent after its claim lapsed");
                }
            }
            Err(failure) => {
                let failures = mail.attempts + 1;
                let park = failure.permanent || failures >= provider.config.email_max_attempts;
                let retry_at = (!park).then(|| provider.now() + backoff(failures));
                if !store
                    .mail_failed(&mail.id, claimer, &failure.reason, retry_at)
                    .await?
                {
                    tracing::warn!(message_id = %mail.message_id,
                        "email: a failure recorded after its claim lapsed was dropped");
                    continue;
                }
                let result = if park { "parked" } else { "failed" };
                provider.metrics.emails.with_label_values(&[result]).inc();
                tracing::warn!(message_id = %mail.message_id, kind = %mail.kind,
                    attempt = failures, parked = park, error = %failure.reason,
                    "email: not sent");
            }
        }
    }
    Ok(due.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), 5);
        assert_eq!(backoff(2), 10);
        assert_eq!(backoff(3), 20);
        assert_eq!(backoff(11), 3600);
        assert_eq!(backoff(1000), 3600);
    }
}
