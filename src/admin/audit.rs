//! The audit log as admins read it: events newest first, filtered by user,
//! client, event type or time.

use super::{AdminError, Context};
use crate::model::{AuditFilter, AuditRecord};

/// Up to `limit` events matching `filter`, newest first. Events still
/// queued for writing are written first, so what a request just did shows.
pub async fn events(
    ctx: &Context<'_>,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRecord>, AdminError> {
    ctx.audit.flush().await;
    Ok(ctx.store.audit_events(filter, limit).await?)
}
