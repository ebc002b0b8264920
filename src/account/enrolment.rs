//! Enrolling, removing and renewing the second factor from the account page
//! (RFC 6238). A new key is kept as pending until the user proves their app
//! holds it by entering a current code; only then does it take effect, with
//! a fresh set of recovery codes shown once.

use super::mfa::{verify_factor, Factor};
use super::{recovery, AccountError};
use crate::account::notices::{compose_notice, Notice};
use crate::crypto::totp;
use crate::model::UserRecord;
use crate::state::Provider;
use crate::store::Store;

/// What the enrolment screen shows.
#[derive(Debug, Clone)]
pub struct PendingKey {
    /// The key in base32, for typing into an app by hand.
    pub secret: String,
    /// The `otpauth://` URI the QR code encodes.
    pub uri: String,
}

/// Starts enrolment, or resumes it with the same key so that a reload does
/// not invalidate a QR code already scanned. `None` if the user already has
/// a second factor.
pub async fn begin(
    store: &Store,
    user: &UserRecord,
    issuer_name: &str,
    now: i64,
) -> Result<Option<PendingKey>, AccountError> {
    if user.totp_secret.is_some() {
        return Ok(None);
    }
    let secret = match &user.totp_pending_secret {
        Some(s) if totp::is_valid_secret(s) => s.clone(),
        _ => {
            let s = totp::new_secret();
            store.set_pending_totp(&user.id, &s, now).await?;
            s
        }
    };
    let account = user.email.as_deref().unwrap_or(&user.username);
    let uri = totp::otpauth_uri(&secret, issuer_name, account);
    Ok(Some(PendingKey { secret, uri }))
}

/// How a confirmation went.
#[derive(Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// The key is enrolled; these recovery codes are to be shown once.
    Enrolled(Vec<String>),
    /// The code did not match the pending key (the reason, for the page).
    Rejected(&'static str),
    /// Nothing is pending (already enrolled, or enrolment never started).
    NothingPending,
}

/// Confirms the pending key with a code from the user's app.
pub async fn confirm(
    provider: &Provider,
    user: &UserRecord,
    code: &str,
) -> Result<Confirmation, AccountError> {
    let (store, now) = (&provider.store, provider.now());
    let (None, Some(secret)) = (&user.totp_secret, &user.totp_pending_secret) else {
        return Ok(Confirmation::NothingPending);
    };
    let clock = now.max(0) as u64;
    let Some(step) = totp::matching_step(secret, code, clock) else {
        let why = if totp::is_stale(secret, code, clock) {
            Factor::Expired.problem()
        } else {
            "That code doesn't match. Make sure you added the key shown here, then enter the 6-digit code your app shows now."
        };
        return Ok(Confirmation::Rejected(why));
    };
    let (codes, hashes) = recovery::generate(&user.id);
    let notice = compose_notice(provider, user, &Notice::MfaOn, None)?;
    if !store
        .confirm_totp(&user.id, secret, step, &hashes, notice.as_ref(), now)
        .await?
    {
        return Ok(Confirmation::NothingPending);
    }
    tracing::info!(user_id = %user.id, "two-step verification enrolled");
    Ok(Confirmation::Enrolled(codes))
}

/// Removes the second factor, given a current code (or a recovery code).
/// Returns why not, if the code was not accepted.
pub async fn remove(
    provider: &Provider,
    user: &UserRecord,
    code: &str,
) -> Result<Result<(), &'static str>, AccountError> {
    let (store, now) = (&provider.store, provider.now());
    let factor = verify_factor(store, user, code, now).await?;
    if !factor.accepted() {
        return Ok(Err(factor.problem()));
    }
    let notice = compose_notice(provider, user, &Notice::MfaOff, None)?;
    store.remove_totp(&user.id, notice.as_ref(), now).await?;
    tracing::info!(user_id = %user.id, "two-step verification removed");
    Ok(Ok(()))
}

/// Replaces the recovery codes, given a current code; the new codes are to
/// be shown once.
pub async fn renew_recovery_codes(
    store: &Store,
    user: &UserRecord,
    code: &str,
    now: i64,
) -> Result<Result<Vec<String>, &'static str>, AccountError> {
    let factor = verify_factor(store, user, code, now).await?;
    if !factor.accepted() {
        return Ok(Err(factor.problem()));
    }
    let (codes, hashes) = recovery::generate(&user.id);
    store.replace_recovery_codes(&user.id, &hashes, now).await?;
    tracing::info!(user_id = %user.id, "recovery codes renewed");
    Ok(Ok(codes))
}
