//! The outbox as admins see it, for the admin screen and the admin API:
//! messages by state (pending, parked, sent) with their attempts and last
//! error, and putting a parked message back in line. A message's bodies are
//! never handed out: they may hold a one-time link.

use super::{AdminError, Context};
use crate::model::{OutboxRecord, OutboxState};
use crate::store::OutboxCounts;

/// The most messages one list shows.
pub const MAX_LIST: i64 = 200;

/// Reads a state filter: empty or `all` for every state.
pub fn parse_state(text: Option<&str>) -> Result<Option<OutboxState>, AdminError> {
    match text.map(str::trim).unwrap_or("") {
        "" | "all" => Ok(None),
        other => OutboxState::parse(other).map(Some).ok_or_else(|| {
            AdminError::Invalid(format!(
                "There is no message state {other:?}: use pending, parked or sent."
            ))
        }),
    }
}

/// The newest messages first, of one state or all, at most `limit` (1 to
/// [`MAX_LIST`]).
pub async fn list(
    ctx: &Context<'_>,
    state: Option<OutboxState>,
    limit: i64,
) -> Result<Vec<OutboxRecord>, AdminError> {
    Ok(ctx.store.outbox(state, limit.clamp(1, MAX_LIST)).await?)
}

/// How many messages wait and how many are parked.
pub async fn counts(ctx: &Context<'_>) -> Result<OutboxCounts, AdminError> {
    Ok(ctx.store.outbox_counts().await?)
}

/// One message, or `NotFound`.
pub async fn find(ctx: &Context<'_>, id: &str) -> Result<OutboxRecord, AdminError> {
    ctx.store
        .outbox_message(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("There is no message {id:?} in the outbox.")))
}

/// Puts a parked message back in line, due now with its failures
/// forgotten; `Conflict` if it is not parked. The caller wakes the sender.
pub async fn retry(ctx: &Context<'_>, id: &str) -> Result<OutboxRecord, AdminError> {
    let mail = find(ctx, id).await?;
    if !ctx.store.retry_mail(&mail.id, ctx.now).await? {
        return Err(AdminError::Conflict(format!(
            "The message {id:?} is not parked (it is {}): only a parked message can be retried.",
            mail.state.as_str()
        )));
    }
    if mail.channel == crate::model::CHANNEL_BACKCHANNEL_LOGOUT {
        // The email sender is woken by the caller; this one lives by the store.
        ctx.store.logout_wake().notify_one();
    }
    ctx.record("admin.outbox.retry", |e| {
        e.detail("message_id", mail.message_id.clone())
            .detail("kind", mail.kind.clone())
            .detail("channel", mail.channel.clone())
            .detail("attempts", mail.attempts.to_string())
    })
    .await;
    find(ctx, id).await
}
