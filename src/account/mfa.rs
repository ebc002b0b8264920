//! The TOTP step after a correct password (RFC 6238). A challenge ties the
//! browser to the user whose password was accepted; each code works once.

use super::AccountError;
use crate::crypto::{random_token, token_hash, totp};
use crate::store::{MfaChallenge, Store, UserRecord};

/// Codes that may be tried per challenge before the password must be
/// entered again.
pub const MAX_ATTEMPTS: i64 = 5;
/// How long the user has to enter a code after the password, in seconds.
pub const CHALLENGE_TTL: i64 = 300;

/// Opens a challenge; returns the cookie value that identifies it.
pub async fn open_challenge(
    store: &Store,
    user_id: &str,
    now: i64,
) -> Result<String, AccountError> {
    let token = random_token();
    store
        .create_mfa_challenge(&token_hash(&token), user_id, now, now + CHALLENGE_TTL)
        .await?;
    Ok(token)
}

/// The live challenge behind a cookie value.
pub async fn challenge(
    store: &Store,
    token: &str,
    now: i64,
) -> Result<Option<MfaChallenge>, AccountError> {
    Ok(store.mfa_challenge(&token_hash(token), now).await?)
}

/// The result of a code.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// Accepted: the challenge is closed.
    Accepted,
    /// Wrong (or replayed); may try again.
    Rejected,
    /// Too many wrong codes: the challenge is closed.
    Exhausted,
}

/// Checks `code` for the challenge's user. An attempt is used up before the
/// code is compared, so parallel guesses count like sequential ones.
pub async fn check_code(
    store: &Store,
    token: &str,
    user: &UserRecord,
    code: &str,
    now: i64,
) -> Result<CodeCheck, AccountError> {
    let hash = token_hash(token);
    let Some(attempts) = store.take_mfa_attempt(&hash, MAX_ATTEMPTS, now).await? else {
        store.delete_mfa_challenge(&hash).await?;
        return Ok(CodeCheck::Exhausted);
    };
    let step = user
        .totp_secret
        .as_deref()
        .and_then(|secret| totp::matching_step(secret, code, now.max(0) as u64));
    if let Some(step) = step {
        if store.claim_totp_step(&user.id, step).await? {
            store.delete_mfa_challenge(&hash).await?;
            return Ok(CodeCheck::Accepted);
        }
        tracing::warn!(user_id = %user.id, "TOTP code replayed");
    }
    if attempts >= MAX_ATTEMPTS {
        store.delete_mfa_challenge(&hash).await?;
        return Ok(CodeCheck::Exhausted);
    }
    Ok(CodeCheck::Rejected)
}
