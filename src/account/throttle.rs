//! Per-account sign-in throttling: a growing delay after repeated wrong
//! passwords or codes, kept in the database so it holds across replicas.
//! It follows the OWASP Authentication Cheat Sheet's "Slow Down Online
//! Guessing Attacks with Device Cookies", so that an attacker can slow an
//! account down everywhere but in the browsers its owner already uses:
//!
//! - A browser holding a device cookie trusted for the account
//!   (`device_cookie`) is checked only against its own counter: failures
//!   from anywhere else never delay it, and one that keeps failing itself
//!   is delayed up to 15 minutes.
//! - Any other browser is unknown. Its failures count against its address
//!   and against the account's unknown browsers as a whole; both delays
//!   grow up to 15 minutes and hold back every unknown browser, so a
//!   distributed attack gets a few guesses an hour while the owner signs in
//!   from a trusted browser, or an administrator clears the counters.
//!
//! Accounts are keyed by a hash of the username, so unknown names are
//! throttled exactly like real ones and the delay reveals nothing about
//! which accounts exist. A successful sign-in clears the counters it was
//! checked against, and makes the browser trusted.

use super::{device_cookie, AccountError};
use crate::crypto::token_hash;
use crate::store::Store;

/// Failures before delays start, and the longest delay in seconds.
type Policy = (i64, i64);
/// Unknown browsers, per address.
const PER_ADDRESS: Policy = (3, 15 * 60);
/// Unknown browsers, from every address together.
const UNKNOWN_BROWSERS: Policy = (10, 15 * 60);
/// One trusted browser.
const PER_DEVICE: Policy = (5, 15 * 60);
/// The source name of the account's unknown browsers as a whole.
const UNKNOWN: &str = "*";
/// The prefix of a trusted browser's source name (then its cookie's hash).
const DEVICE: &str = "device:";

/// The delay after `failures` failures: none up to `free`, then doubling
/// from one second, capped at `cap`.
pub fn delay(failures: i64, (free, cap): Policy) -> i64 {
    if failures < free {
        return 0;
    }
    let exponent = (failures - free).min(20) as u32;
    (1i64 << exponent).min(cap)
}

/// The account's name in the throttle tables: the username as the
/// sign-in looks it up (trimmed, and case-sensitive like the lookup, so
/// "Bob" and "bob", two accounts, never share counters or trusted
/// browsers), hashed so unknown and known names are kept alike.
fn account_key(username: &str) -> String {
    token_hash(username.trim())
}

/// One attempt to prove a secret for an account: the counters it is
/// checked against and that its failure grows.
pub struct Attempt {
    account: String,
    sources: Vec<(String, Policy)>,
}

impl Attempt {
    /// The attempt for `username` from `address`, by a browser that sent
    /// `device` as its device cookie (if any).
    pub async fn begin(
        store: &Store,
        username: &str,
        address: &str,
        device: Option<&str>,
        now: i64,
    ) -> Result<Attempt, AccountError> {
        let account = account_key(username);
        let sources = match device_cookie::trusted(store, &account, device, now).await? {
            Some(hash) => vec![(format!("{DEVICE}{hash}"), PER_DEVICE)],
            None => vec![
                (address.to_string(), PER_ADDRESS),
                (UNKNOWN.to_string(), UNKNOWN_BROWSERS),
            ],
        };
        Ok(Attempt { account, sources })
    }

    /// Whether the browser is trusted for the account.
    pub fn trusted(&self) -> bool {
        self.sources.iter().any(|(s, _)| s.starts_with(DEVICE))
    }

    fn source_names(&self) -> Vec<&str> {
        self.sources.iter().map(|(s, _)| s.as_str()).collect()
    }

    /// Seconds to wait before this attempt may go ahead; 0 when it may.
    pub async fn wait(&self, store: &Store, now: i64) -> Result<i64, AccountError> {
        let until = store
            .sign_in_blocked_until(&self.account, &self.source_names())
            .await?;
        Ok((until - now).max(0))
    }

    /// Counts the attempt as a failure.
    pub async fn failed(&self, store: &Store, now: i64) -> Result<(), AccountError> {
        for (source, policy) in &self.sources {
            let failures = store
                .add_sign_in_failure(&self.account, source, now)
                .await?;
            let wait = delay(failures, *policy);
            if wait > 0 {
                store
                    .block_sign_in(&self.account, source, now + wait)
                    .await?;
            }
        }
        Ok(())
    }

    /// Clears the counters this attempt was checked against: a trusted
    /// browser's own, or an unknown browser's address and the account's
    /// unknown browsers (the owner got in from one). Failures from other
    /// addresses keep counting.
    pub async fn succeeded(&self, store: &Store) -> Result<(), AccountError> {
        Ok(store
            .clear_sign_in_sources(&self.account, &self.source_names())
            .await?)
    }
}

/// Makes the browser that just signed in as `username` trusted for that
/// account: a new device cookie value, carrying over the accounts its
/// `previous` one was trusted for, and the failures counted against it.
/// Otherwise a stolen cookie could reset its own counter by signing in to
/// an account of the thief's.
pub async fn trust_browser(
    store: &Store,
    username: &str,
    previous: Option<&str>,
    now: i64,
) -> Result<String, AccountError> {
    let issued = device_cookie::issue(store, &account_key(username), previous, now).await?;
    if let Some(previous_hash) = &issued.previous_hash {
        store
            .rename_sign_in_source(
                &format!("{DEVICE}{previous_hash}"),
                &format!("{DEVICE}{}", issued.hash),
            )
            .await?;
    }
    Ok(issued.value)
}

/// Whether the account has signed in from any browser still trusted: if
/// not, a sign-in is its first (within a trust's lifetime) rather than one
/// from a new browser.
pub async fn signed_in_before(
    store: &Store,
    username: &str,
    now: i64,
) -> Result<bool, AccountError> {
    Ok(store
        .any_device_trusted(&account_key(username), now)
        .await?)
}

/// Seconds until every delay on the account has passed (0 when none is
/// running), for the administrator.
pub async fn delayed_for(store: &Store, username: &str, now: i64) -> Result<i64, AccountError> {
    let until = store.latest_sign_in_block(&account_key(username)).await?;
    Ok((until - now).max(0))
}

/// Clears every counter of the account, trusted browsers' included (an
/// administrator's unlock); the trusted browsers stay trusted.
pub async fn clear(store: &Store, username: &str) -> Result<(), AccountError> {
    Ok(store.clear_sign_in_failures(&account_key(username)).await?)
}

/// Forgets the account's counters and the browsers trusted for it: when it
/// is deleted, and after a password reset or change, so that a browser an
/// intruder signed in from does not stay exempt from the unknown browsers'
/// delays.
pub async fn forget(store: &Store, username: &str) -> Result<(), AccountError> {
    let account = account_key(username);
    store.clear_sign_in_failures(&account).await?;
    store.forget_devices(&account).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stop_growing() {
        assert_eq!(delay(2, PER_ADDRESS), 0);
        assert_eq!(delay(3, PER_ADDRESS), 1);
        assert_eq!(delay(4, PER_ADDRESS), 2);
        assert_eq!(delay(12, PER_ADDRESS), 512);
        assert_eq!(delay(13, PER_ADDRESS), 900);
        assert_eq!(delay(1_000, PER_ADDRESS), 900);
        assert_eq!(delay(9, UNKNOWN_BROWSERS), 0);
        assert_eq!(delay(10, UNKNOWN_BROWSERS), 1);
        assert_eq!(delay(1_000, UNKNOWN_BROWSERS), 900);
        assert_eq!(delay(4, PER_DEVICE), 0);
        assert_eq!(delay(5, PER_DEVICE), 1);
        assert_eq!(delay(1_000, PER_DEVICE), 900);
    }

    #[test]
    fn usernames_are_keyed_as_the_sign_in_looks_them_up() {
        assert_eq!(account_key("alice "), account_key("alice"));
        assert_ne!(account_key("Alice"), account_key("alice"));
    }
}
