//! Password sign-in. argon2id runs on the blocking pool; an unknown or
//! disabled user costs the same time as a wrong password, and gets the same
//! answer, so neither timing nor wording reveals which usernames exist.

use super::AccountError;
use crate::crypto::password;
use crate::store::{Store, UserRecord};

/// Checks a username and password; `Some(user)` only for an enabled user
/// whose password matches.
#[tracing::instrument(skip(store, password), fields(username = %username))]
pub async fn check_password(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<Option<UserRecord>, AccountError> {
    let user = store.user_by_username(username.trim()).await?;
    let password = password.to_string();
    match user {
        Some(user) => {
            let hash = user.password_hash.clone();
            let ok =
                tokio::task::spawn_blocking(move || password::verify_password(&hash, &password))
                    .await
                    .map_err(|_| AccountError::Cancelled)?;
            Ok((ok && !user.disabled).then_some(user))
        }
        None => {
            tokio::task::spawn_blocking(move || password::verify_against_dummy(&password))
                .await
                .map_err(|_| AccountError::Cancelled)?;
            Ok(None)
        }
    }
}

/// Hashes a password on the blocking pool.
pub async fn hash_password(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || password::hash_password(&password))
        .await
        .map_err(|_| AccountError::Cancelled)
}
