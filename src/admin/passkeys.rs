//! A user's passkeys as admins see them: listing them, and removing one
//! whose authenticator was lost, stolen or handed back. Both run the
//! account's own use cases, so an admin's removal leaves the same
//! `passkey.removed` event as the owner's, with the admin as its actor.

use super::users::find;
use super::{AdminError, Context};
use crate::account::passkey_problem::Problem;
use crate::account::passkeys;
use crate::model::PasskeyRecord;

/// The passkeys of the user with this id or username, oldest first.
pub async fn list(ctx: &Context<'_>, user_id: &str) -> Result<Vec<PasskeyRecord>, AdminError> {
    let user = find(ctx, user_id).await?;
    Ok(passkeys::list_in(ctx.store, &user.id).await?)
}

/// Removes one of the user's passkeys: it no longer signs them in, nor
/// confirms a second step.
pub async fn remove(
    ctx: &Context<'_>,
    user_id: &str,
    passkey_id: &str,
) -> Result<PasskeyRecord, AdminError> {
    let user = find(ctx, user_id).await?;
    let held = (ctx.store, ctx.audit, ctx.now);
    let actor = ctx.actor.clone();
    let removed = passkeys::remove_in(held, &user, actor, ctx.ip.as_deref(), passkey_id).await?;
    match removed {
        Ok(removed) => Ok(removed),
        Err(Problem::NotFound) => Err(AdminError::NotFound(format!(
            "{} has no passkey {passkey_id:?}; it may have been removed already.",
            user.username
        ))),
        // Removing refuses nothing else today; should it one day, the
        // sentence is still the one to show.
        Err(other) => Err(AdminError::Invalid(other.sentence().into())),
    }
}
