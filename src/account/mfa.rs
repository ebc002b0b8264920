//! The second factor (RFC 6238 TOTP, or a single-use recovery code) after a
//! correct password. A challenge ties the browser to the user whose password
//! was accepted; each TOTP code and each recovery code works once.

use super::{recovery, AccountError};
use crate::crypto::{random_token, token_hash, totp};
use crate::model::{MfaChallenge, UserRecord};
use crate::store::Store;

/// Codes that may be tried per challenge before the password must be
/// entered again.
pub const MAX_ATTEMPTS: i64 = 5;
/// How long the user has to enter a code after the password, in seconds.
pub const CHALLENGE_TTL: i64 = 300;

/// What a submitted code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    /// A current TOTP code, now used up.
    Totp,
    /// One of the user's recovery codes, now used up.
    RecoveryCode,
    /// A TOTP code that was valid but has been used already.
    Replayed,
    /// A TOTP code from a few minutes ago.
    Expired,
    /// Nothing the user has.
    Wrong,
}

impl Factor {
    /// Whether the code was accepted.
    pub fn accepted(self) -> bool {
        matches!(self, Factor::Totp | Factor::RecoveryCode)
    }

    /// A word for the audit log.
    pub fn reason(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::RecoveryCode => "recovery_code",
            Factor::Replayed => "replayed",
            Factor::Expired => "expired",
            Factor::Wrong => "wrong_code",
        }
    }

    /// What to tell the person when the code was not accepted.
    pub fn problem(self) -> &'static str {
        match self {
            Factor::Expired => "That code has expired \u{2014} use the newest one in your app.",
            Factor::Replayed => {
                "That code has already been used. Wait for the next one in your app."
            }
            _ => "That code didn't work. Check your authenticator app and enter the code it shows now, or use one of your recovery codes.",
        }
    }
}

/// Checks `code` against the user's TOTP key and recovery codes, using it up
/// when it matches.
pub async fn verify_factor(
    store: &Store,
    user: &UserRecord,
    code: &str,
    now: i64,
) -> Result<Factor, AccountError> {
    let Some(secret) = user.totp_secret.as_deref() else {
        return Ok(Factor::Wrong);
    };
    let clock = now.max(0) as u64;
    if let Some(step) = totp::matching_step(secret, code, clock) {
        return Ok(if store.claim_totp_step(&user.id, step).await? {
            Factor::Totp
        } else {
            Factor::Replayed
        });
    }
    if totp::is_stale(secret, code, clock) {
        return Ok(Factor::Expired);
    }
    if recovery::normalize(code).is_some()
        && store
            .use_recovery_code(&user.id, &recovery::hash(&user.id, code), now)
            .await?
    {
        tracing::warn!(user_id = %user.id, "recovery code used");
        return Ok(Factor::RecoveryCode);
    }
    Ok(Factor::Wrong)
}

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

/// Notes on the challenge behind a cookie value that its first factor was
/// not a password (`amr`), and the upstream it came through.
pub async fn note_first_factor(
    store: &Store,
    token: &str,
    amr: &str,
    federation: &crate::model::Federation,
) -> Result<(), AccountError> {
    store
        .set_challenge_first_factor(&token_hash(token), amr, federation)
        .await?;
    Ok(())
}

/// The live challenge behind a cookie value.
pub async fn challenge(
    store: &Store,
    token: &str,
    now: i64,
) -> Result<Option<MfaChallenge>, AccountError> {
    Ok(store.mfa_challenge(&token_hash(token), now).await?)
}

/// The result of a code entered at the challenge.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// Accepted: the challenge is closed.
    Accepted(Factor),
    /// Not accepted (why, in `Factor`); may try again.
    Rejected(Factor),
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
    let factor = verify_factor(store, user, code, now).await?;
    if factor.accepted() {
        store.delete_mfa_challenge(&hash).await?;
        return Ok(CodeCheck::Accepted(factor));
    }
    if factor == Factor::Replayed {
        tracing::warn!(user_id = %user.id, "TOTP code replayed");
    }
    if attempts >= MAX_ATTEMPTS {
        store.delete_mfa_challenge(&hash).await?;
        return Ok(CodeCheck::Exhausted);
    }
    Ok(CodeCheck::Rejected(factor))
}

/// Uses up one attempt of the challenge for a method that checks its own
/// answer (a passkey): `false` when none is left, and the challenge closes.
pub async fn take_attempt(store: &Store, token: &str, now: i64) -> Result<bool, AccountError> {
    let hash = token_hash(token);
    if store
        .take_mfa_attempt(&hash, MAX_ATTEMPTS, now)
        .await?
        .is_none()
    {
        store.delete_mfa_challenge(&hash).await?;
        return Ok(false);
    }
    Ok(true)
}

/// Closes the challenge: its second factor was given.
pub async fn close_challenge(store: &Store, token: &str) -> Result<(), AccountError> {
    store.delete_mfa_challenge(&token_hash(token)).await?;
    Ok(())
}
