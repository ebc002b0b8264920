//! The forced password change: a password an admin set (a new account's
//! temporary one, or a reset) is replaced by the user's own right after
//! signing in, before anything else.

use super::SignInError;
use crate::account::notices::{compose_notice, Notice};
use crate::account::password::{hash_password, verify_hash};
use crate::account::profile::check_new_password;
use crate::audit_log::Event;
use crate::model::UserRecord;
use crate::state::Provider;

/// How a forced change went.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    /// The new password is in force.
    Changed,
    /// Nothing was due: the user's password is their own.
    NotDue,
    /// The new password was not acceptable: the sentence to show.
    Refused(&'static str),
}

/// Replaces the admin-set password of the signed-in `user`; `ip` is for the
/// audit log.
#[tracing::instrument(skip(provider, user, new, repeated), fields(user_id = %user.id))]
pub async fn choose(
    provider: &Provider,
    user: &UserRecord,
    new: &str,
    repeated: &str,
    ip: &str,
) -> Result<Change, SignInError> {
    if !user.must_change_password {
        return Ok(Change::NotDue);
    }
    if let Err(why) = check_new_password(&user.username, new, repeated) {
        return Ok(Change::Refused(why));
    }
    if verify_hash(user.password_hash.clone(), new.to_string()).await? {
        return Ok(Change::Refused(
            "Choose a new password, not the one you were given.",
        ));
    }
    let hash = hash_password(new.to_string()).await?;
    let notice = compose_notice(provider, user, &Notice::PasswordChanged, None)?;
    provider
        .store
        .set_password_hash(&user.id, &hash, notice.as_ref(), provider.now())
        .await?;
    let event = Event::by_user("password.changed", user)
        .detail("how", "required_change")
        .ip(ip);
    provider.audit.record(provider.now(), event).await;
    Ok(Change::Changed)
}
