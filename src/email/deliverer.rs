//! The outbox's delivery rounds, shared by every channel (email over SMTP,
//! logout tokens posted to clients): each round finds the due rows of one
//! channel and claims each just before delivering it (a lease of [`LEASE`]
//! seconds, taken with a conditional update so replicas never share one),
//! delivers it through the channel's [`Courier`], and records the result:
//! sent (its bodies and payload erased), due again after a backoff that
//! doubles from [`FIRST_BACKOFF`] up to [`MAX_BACKOFF`], or parked after
//! `email_max_attempts` failures (or at once when the failure is permanent).
//! A round runs every second, and at once when the task is woken after a
//! row was written. A courier may also settle a row without sending it
//! ([`Delivered::Dropped`]: there is no one to send it to any more), and
//! may take a round's rows several at a time ([`Courier::concurrency`]), so
//! that one slow receiver does not hold up the others; each row is still
//! claimed on its own just before it is delivered.

use crate::model::OutboxRecord;
use crate::state::Provider;
use crate::store::StoreError;
use futures_util::StreamExt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long a claim holds, in seconds: longer than one delivery may take
/// (the SMTP and HTTP timeouts), so a row is delivered twice only when its
/// deliverer died.
pub const LEASE: i64 = 300;
/// The wait after the first failure, in seconds.
pub const FIRST_BACKOFF: i64 = 5;
/// The longest wait between two attempts, in seconds.
pub const MAX_BACKOFF: i64 = 3600;
/// Rows claimed in one round.
const BATCH: i64 = 20;
/// How often the outbox is looked at without being woken.
const POLL: Duration = Duration::from_secs(1);

/// The wait before attempt `failures + 1`, after `failures` failures.
pub fn backoff(failures: i64) -> i64 {
    let doublings = u32::try_from(failures.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    (FIRST_BACKOFF << doublings).min(MAX_BACKOFF)
}

/// Why a row was not delivered. `reason` is a line for the outbox and the
/// log: it names the failure, never a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// What happened.
    pub reason: String,
    /// Whether trying again would fail the same way (the row is parked at
    /// once).
    pub permanent: bool,
}

/// What a courier did with a row it did not fail on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// It went out.
    Sent,
    /// It was settled without going out, for this reason (recorded as the
    /// row's last error): its recipient is gone.
    Dropped(String),
}

/// How a row of an outbox result ended, for a courier's metrics and audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Delivered.
    Sent,
    /// Failed, due again after a backoff.
    Failed,
    /// Failed and parked until an admin retries it.
    Parked,
    /// Settled without being sent ([`Delivered::Dropped`]).
    Dropped,
}

impl Settled {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Settled::Sent => "sent",
            Settled::Failed => "failed",
            Settled::Parked => "parked",
            Settled::Dropped => "dropped",
        }
    }
}

/// One outbox channel's way of delivering a row.
pub trait Courier: Send + Sync + 'static {
    /// The channel whose rows it takes.
    fn channel(&self) -> &'static str;

    /// How many of a round's rows it delivers at once (1: one after
    /// another).
    fn concurrency(&self) -> usize {
        1
    }

    /// Delivers one claimed row.
    fn deliver(
        &self,
        provider: &Provider,
        row: &OutboxRecord,
    ) -> impl Future<Output = Result<Delivered, SendFailure>> + Send;

    /// Called once the result is recorded (metrics, log, audit); `failure`
    /// is set unless it was sent: why it failed, or, for
    /// [`Settled::Dropped`], why it was not sent. `attempt` counts from 1.
    fn settled(
        &self,
        provider: &Provider,
        row: &OutboxRecord,
        attempt: i64,
        result: Settled,
        failure: Option<&SendFailure>,
    ) -> impl Future<Output = ()> + Send;
}

/// Starts a task that delivers `courier`'s channel until the process ends,
/// looking every second and whenever `wake` is notified.
pub fn start<C: Courier>(
    provider: Arc<Provider>,
    courier: C,
    wake: Arc<tokio::sync::Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let claimer = uuid::Uuid::new_v4().to_string();
        loop {
            match deliver_due(&provider, &courier, &claimer).await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, channel = courier.channel(),
                    "outbox: could not read the outbox"),
            }
            if let Ok(counts) = provider.store.outbox_counts().await {
                provider.metrics.outbox_pending.set(counts.pending);
                provider.metrics.outbox_parked.set(counts.parked);
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

/// One round: finds the due rows of the courier's channel and, up to
/// [`Courier::concurrency`] at a time, claims each (a lease of [`LEASE`]
/// seconds from the moment it is claimed, so a slow receiver cannot make a
/// later row's lease lapse while it waits), delivers it and records the
/// result. Returns how many were due; the first store error, if any, after
/// every row had its turn.
pub async fn deliver_due<C: Courier>(
    provider: &Provider,
    courier: &C,
    claimer: &str,
) -> Result<usize, StoreError> {
    let due = provider
        .store
        .due_mail(courier.channel(), provider.now(), BATCH)
        .await?;
    let first_error = std::sync::Mutex::new(None);
    futures_util::stream::iter(&due)
        .for_each_concurrent(courier.concurrency().max(1), |id| async {
            if let Err(e) = deliver_one(provider, courier, claimer, id).await {
                first_error
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get_or_insert(e);
            }
        })
        .await;
    match first_error
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        Some(e) => Err(e),
        None => Ok(due.len()),
    }
}

/// Claims row `id`, delivers it and records the result.
async fn deliver_one<C: Courier>(
    provider: &Provider,
    courier: &C,
    claimer: &str,
    id: &str,
) -> Result<(), StoreError> {
    let store = &provider.store;
    let channel = courier.channel();
    let now = provider.now();
    let Some(row) = store
        .claim_mail(id, channel, claimer, now, now + LEASE)
        .await?
    else {
        // Another deliverer has it (or it went out meanwhile).
        return Ok(());
    };
    let attempt = row.attempts + 1;
    match courier.deliver(provider, &row).await {
        Ok(Delivered::Sent) => {
            if store.mail_sent(&row.id, claimer, provider.now()).await? {
                courier
                    .settled(provider, &row, attempt, Settled::Sent, None)
                    .await;
            } else {
                // Only if this deliverer outlived its lease: the row may
                // go out again, under the same id.
                tracing::warn!(message_id = %row.message_id, channel,
                    "outbox: delivered after its claim lapsed");
            }
        }
        Ok(Delivered::Dropped(note)) => {
            if store
                .mail_dropped(&row.id, claimer, &note, provider.now())
                .await?
            {
                let why = SendFailure {
                    reason: note,
                    permanent: true,
                };
                courier
                    .settled(provider, &row, attempt, Settled::Dropped, Some(&why))
                    .await;
            }
        }
        Err(failure) => {
            let park = failure.permanent || attempt >= provider.config.email_max_attempts;
            let retry_at = (!park).then(|| provider.now() + backoff(attempt));
            if !store
                .mail_failed(&row.id, claimer, &failure.reason, retry_at)
                .await?
            {
                tracing::warn!(message_id = %row.message_id, channel,
                    "outbox: a failure recorded after its claim lapsed was dropped");
                return Ok(());
            }
            let result = if park {
                Settled::Parked
            } else {
                Settled::Failed
            };
            courier
                .settled(provider, &row, attempt, result, Some(&failure))
                .await;
        }
    }
    Ok(())
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
