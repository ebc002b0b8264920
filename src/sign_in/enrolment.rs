//! Setting up two-step verification (RFC 6238) in the middle of a sign-in,
//! when the client requires it and the user has none yet, or from the
//! account page. The code that confirms the key also proves the second
//! factor in this browser, so the session counts as two-step from then on.

use super::SignInError;
use crate::account::enrolment::{self, Confirmation, PendingKey};
use crate::audit_log::Event;
use crate::model::{SessionRecord, UserRecord};
use crate::state::Provider;

/// The key to show: the pending one (so a reload keeps a scanned QR code
/// valid) or a new one; `None` when the user already has a second factor.
pub async fn begin(
    provider: &Provider,
    user: &UserRecord,
) -> Result<Option<PendingKey>, SignInError> {
    enrolment::begin(
        &provider.store,
        user,
        &provider.config.product_name,
        provider.now(),
    )
    .await
}

/// Confirms the pending key with a code from the user's app; on success
/// records the enrolment and marks `session` as two-step (`otp`).
pub async fn confirm(
    provider: &Provider,
    session: &SessionRecord,
    user: &UserRecord,
    code: &str,
    ip: &str,
) -> Result<Confirmation, SignInError> {
    let confirmation = enrolment::confirm(provider, user, code).await?;
    if let Confirmation::Enrolled(_) = &confirmation {
        let event = Event::by_user("mfa.enrolled", user).ip(ip);
        provider.audit.record(provider.now(), event).await;
        if !session.amr.split(' ').any(|m| m == "otp") {
            let amr = format!("{} otp", session.amr);
            provider.store.set_session_amr(&session.sid, &amr).await?;
        }
    }
    Ok(confirmation)
}
