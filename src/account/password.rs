//! Passwords: hashing, verifying, and checking one at sign-in. argon2id runs
//! on the blocking pool; an unknown or disabled user costs the same time as
//! a wrong password, and gets the same answer, so neither timing nor wording
//! reveals which usernames exist.

use super::AccountError;
use crate::crypto::password;
use crate::model::UserRecord;
use crate::store::Store;
use std::sync::OnceLock;
use tokio::sync::Semaphore;

/// How many argon2 computations run at once: one fewer than the cores (at
/// least one), in threads at a lower priority (`crate::crypto::run_heavy`),
/// so that a storm of sign-ins leaves a core for everything else, and memory
/// stays bounded (each takes 19 MiB). More sign-ins wait their turn here,
/// without holding a thread. One a core was tried: on two cores it took
/// sign-ins from 42 to 70 a second, but the benchmark's storm probe saw JWKS
/// p99 go from 4.8 to 22 ms on SQLite, so the rest comes first.
fn argon2_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Semaphore::new(cores.saturating_sub(1).max(1))
    })
}

/// Runs an argon2 computation on the blocking pool, when a slot is free.
async fn with_argon2<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AccountError> {
    let _slot = argon2_slots()
        .acquire()
        .await
        .map_err(|_| AccountError::Cancelled)?;
    crate::crypto::run_heavy(work)
        .await
        .map_err(|_| AccountError::Cancelled)
}

/// Whether `password` matches the PHC string `hash`.
pub async fn verify_hash(hash: String, password: String) -> Result<bool, AccountError> {
    with_argon2(move || password::verify_password(&hash, &password)).await
}

/// Checks a username and password: the user of that name, if there is one,
/// and whether the password matches their hash. An unknown name costs a
/// hash against a dummy all the same. Whether a disabled user may go on is
/// the caller's decision.
#[tracing::instrument(skip(store, password), fields(username = %username))]
pub async fn check_password(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<(Option<UserRecord>, bool), AccountError> {
    let user = store.user_by_username(username.trim()).await?;
    let password = password.to_string();
    match user {
        // An account made through an upstream has no password yet: it
        // costs the same time as a wrong one.
        Some(user) if user.password_hash.is_empty() => {
            with_argon2(move || password::verify_against_dummy(&password)).await?;
            Ok((Some(user), false))
        }
        Some(user) => {
            let matches = verify_hash(user.password_hash.clone(), password).await?;
            Ok((Some(user), matches))
        }
        None => {
            with_argon2(move || password::verify_against_dummy(&password)).await?;
            Ok((None, false))
        }
    }
}

/// Hashes a password on the blocking pool.
pub async fn hash_password(password: String) -> Result<String, AccountError> {
    with_argon2(move || password::hash_password(&password)).await
}
