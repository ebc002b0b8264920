//! Verifying an address (OIDC Core §5.1 `email_verified`): the claim is
//! true only after the user opened a link sent to that address, or an
//! admin said so (audited, `admin::users`). Changing the address makes it
//! false and sends a new link (`self_service::update_profile`); the
//! account page can send another. The link's page asks for a click before
//! it uses the link up: mail scanners open links on their own.

use super::{email_links, AccountError};
use crate::audit_log::Event;
use crate::model::{EmailTokenPurpose, EmailTokenRecord, UserRecord};
use crate::state::Provider;

/// How long after one link another may be asked for, in seconds.
pub const RESEND_AFTER: i64 = 60;

/// What asking for a new verification link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resend {
    /// A link is on its way to this address.
    Sent(String),
    /// The account has no address.
    NoAddress,
    /// The address is verified already.
    AlreadyVerified,
    /// No email can be sent here.
    EmailOff,
    /// A link went out less than [`RESEND_AFTER`] seconds ago.
    TooSoon,
}

/// Sends `user` a new link for their current address.
pub async fn resend(
    provider: &Provider,
    user: &UserRecord,
    ip: &str,
) -> Result<Resend, AccountError> {
    let Some(email) = user.email.clone() else {
        return Ok(Resend::NoAddress);
    };
    if user.email_verified {
        return Ok(Resend::AlreadyVerified);
    }
    if !provider.config.email_enabled() {
        return Ok(Resend::EmailOff);
    }
    let since = provider.now() - RESEND_AFTER;
    if provider
        .store
        .email_token_issued_since(&user.id, EmailTokenPurpose::Verify, since)
        .await?
    {
        return Ok(Resend::TooSoon);
    }
    email_links::send(provider, user, &email, EmailTokenPurpose::Verify).await?;
    let event = Event::by_user("email.verification_sent", user).ip(ip);
    provider.audit.record(provider.now(), event).await;
    Ok(Resend::Sent(email))
}

/// The live link behind `token`, without using it up.
pub async fn pending(
    provider: &Provider,
    token: &str,
) -> Result<Option<EmailTokenRecord>, AccountError> {
    Ok(provider
        .store
        .email_token(
            &email_links::hash(token),
            EmailTokenPurpose::Verify,
            provider.now(),
        )
        .await?)
}

/// Uses the link up: the address it was sent to becomes verified, if it
/// is still the user's. `None` when the link is not live (used, expired,
/// replaced by a newer one) or the address changed since.
pub async fn confirm(
    provider: &Provider,
    token: &str,
    ip: &str,
) -> Result<Option<EmailTokenRecord>, AccountError> {
    let verified = provider
        .store
        .verify_email_by_token(&email_links::hash(token), provider.now())
        .await?;
    if let Some(record) = &verified {
        tracing::info!(user_id = %record.user_id, "email address verified");
        if let Some(user) = provider.store.user_by_id(&record.user_id).await? {
            let event = Event::by_user("email.verified", &user).ip(ip);
            provider.audit.record(provider.now(), event).await;
        }
    }
    Ok(verified)
}
