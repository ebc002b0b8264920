//! Per-account sign-in throttling: a growing delay after repeated wrong
//! passwords or TOTP codes, kept in the database so it holds across
//! replicas, cleared by a successful sign-in.
//!
//! Two counters work together so an attacker can slow an account down but
//! never lock its owner out for good: failures from one address grow that
//! address's delay up to 15 minutes; failures from everywhere grow the
//! account's delay only up to one minute. Accounts are keyed by a hash of
//! the username, so unknown names are throttled exactly like real ones and
//! the delay reveals nothing about which accounts exist.

use super::AccountError;
use crate::crypto::token_hash;
use crate::store::Store;

/// Failures from one address before delays start, and the longest delay.
const PER_ADDRESS: (i64, i64) = (3, 15 * 60);
/// Failures from anywhere before delays start, and the longest delay.
const PER_ACCOUNT: (i64, i64) = (10, 60);
/// The source name of the account-wide counter.
const EVERYWHERE: &str = "*";

/// The delay after `failures` failures: none up to `free`, then doubling
/// from one second, capped at `cap`.
pub fn delay(failures: i64, (free, cap): (i64, i64)) -> i64 {
    if failures < free {
        return 0;
    }
    let exponent = (failures - free).min(20) as u32;
    (1i64 << exponent).min(cap)
}

fn account_key(username: &str) -> String {
    token_hash(&username.trim().to_lowercase())
}

/// Seconds the user must still wait before trying from `address`; 0 when
/// an attempt may go ahead.
pub async fn wait_before_attempt(
    store: &Store,
    username: &str,
    address: &str,
    now: i64,
) -> Result<i64, AccountError> {
    let until = store
        .sign_in_blocked_until(&account_key(username), &[address, EVERYWHERE])
        .await?;
    Ok((until - now).max(0))
}

/// Records a failed password or TOTP code for `username` from `address`.
pub async fn record_failure(
    store: &Store,
    username: &str,
    address: &str,
    now: i64,
) -> Result<(), AccountError> {
    let account = account_key(username);
    for (source, policy) in [(address, PER_ADDRESS), (EVERYWHERE, PER_ACCOUNT)] {
        let failures = store.add_sign_in_failure(&account, source, now).await?;
        let wait = delay(failures, policy);
        if wait > 0 {
            store.block_sign_in(&account, source, now + wait).await?;
        }
    }
    Ok(())
}

/// Clears the counters after a successful sign-in.
pub async fn record_success(store: &Store, username: &str) -> Result<(), AccountError> {
    Ok(store.clear_sign_in_failures(&account_key(username)).await?)
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
        assert_eq!(delay(9, PER_ACCOUNT), 0);
        assert_eq!(
            delay(1_000, PER_ACCOUNT),
            60,
            "the owner is never locked out for long"
        );
    }

    #[test]
    fn usernames_are_keyed_case_insensitively() {
        assert_eq!(account_key("Alice "), account_key("alice"));
    }
}
