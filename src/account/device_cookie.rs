//! Device cookies (OWASP Authentication Cheat Sheet, "Slow Down Online
//! Guessing Attacks with Device Cookies"): after a complete sign-in the
//! browser gets a random 256-bit value, kept in the database only as its
//! SHA-256 hash together with the account it is trusted for. Presented
//! again, it proves the browser signed in to that account before; a value
//! the database does not hold for that account (forged, expired, or
//! another account's) proves nothing. Every replica sees the same table.

use super::AccountError;
use crate::crypto::{random_token, token_hash};
use crate::store::Store;

/// How long a browser stays trusted after its last complete sign-in.
pub const LIFETIME: i64 = 365 * 86_400;

/// The length of a value this module hands out (`random_token`).
const VALUE_LEN: usize = 43;

/// The hash naming the browser, when `cookie` is trusted for `account` now.
pub(super) async fn trusted(
    store: &Store,
    account: &str,
    cookie: Option<&str>,
    now: i64,
) -> Result<Option<String>, AccountError> {
    let Some(cookie) = cookie.filter(|c| c.len() == VALUE_LEN) else {
        return Ok(None);
    };
    let hash = token_hash(cookie);
    Ok(store
        .device_trusted(&hash, account, now)
        .await?
        .then_some(hash))
}

/// A value handed to a browser, with the hashes that name it and the value
/// it replaces in the database.
pub(super) struct Issued {
    /// The value: the only copy, for the cookie.
    pub value: String,
    /// Its hash.
    pub hash: String,
    /// The hash of the value it replaces, if the browser sent one.
    pub previous_hash: Option<String>,
}

/// A new value for the browser, trusted for `account`; the accounts its
/// `previous` value was trusted for carry over to it.
pub(super) async fn issue(
    store: &Store,
    account: &str,
    previous: Option<&str>,
    now: i64,
) -> Result<Issued, AccountError> {
    let value = random_token();
    let hash = token_hash(&value);
    let previous_hash = previous.map(token_hash);
    store
        .trust_device(
            &hash,
            account,
            previous_hash.as_deref(),
            now,
            now + LIFETIME,
        )
        .await?;
    Ok(Issued {
        value,
        hash,
        previous_hash,
    })
}
