//! Sessions, grants and signing keys as admins see them: listing live grants
//! and keys, ending sessions, revoking grants and rotating keys.

use super::{AdminError, Context};
use crate::key_lifecycle::{LoadError, Rotation};
use crate::model::{GrantSummary, KeyRecord};
use crate::store::StoreError;

fn from_load(e: LoadError) -> AdminError {
    match e {
        LoadError::Store(e) => AdminError::Store(e),
        LoadError::Key(e) => AdminError::Store(StoreError::Corrupt(e.to_string())),
    }
}

/// The live grants of a user, of a client, or of both.
pub async fn live_grants(
    ctx: &Context<'_>,
    user_id: Option<&str>,
    client_id: Option<&str>,
) -> Result<Vec<GrantSummary>, AdminError> {
    Ok(ctx.store.live_grants(user_id, client_id, ctx.now).await?)
}

/// Every signing key that is not pruned, newest first.
pub async fn signing_keys(ctx: &Context<'_>) -> Result<Vec<KeyRecord>, AdminError> {
    Ok(ctx.store.signing_keys().await?)
}

/// Ends one browser session of a user.
pub async fn end_session(ctx: &Context<'_>, user_id: &str, sid: &str) -> Result<(), AdminError> {
    let user = super::users::find(ctx, user_id).await?;
    if !ctx
        .store
        .delete_session_of_user(&user.id, sid, ctx.now)
        .await?
    {
        return Err(AdminError::NotFound(
            "That session does not exist or has ended.".into(),
        ));
    }
    ctx.record("admin.session.ended", |e| {
        e.user(&user.id, &user.username).detail("sid", sid)
    })
    .await;
    Ok(())
}

/// Revokes a grant: its refresh and access tokens stop working.
pub async fn revoke_grant(ctx: &Context<'_>, grant_id: &str) -> Result<(), AdminError> {
    let grant = ctx
        .store
        .grant(grant_id)
        .await?
        .filter(|g| g.is_active(ctx.now))
        .ok_or_else(|| AdminError::NotFound("That grant does not exist or has ended.".into()))?;
    ctx.store.revoke_grant(&grant.id, ctx.now).await?;
    ctx.record("admin.grant.revoked", |e| {
        let e = e.client(&grant.client_id).detail("grant_id", grant_id);
        match &grant.user_id {
            Some(user_id) => e.subject(user_id),
            None => e,
        }
    })
    .await;
    Ok(())
}

/// Rotates the signing keys of every algorithm in use, `primary` (the
/// `signing_alg` setting) first (see [`crate::key_lifecycle::rotate`]);
/// servers pick the change up within 30 seconds, the caller's at once if it
/// reloads.
pub async fn rotate_keys(ctx: &Context<'_>, primary: &str) -> Result<Rotation, AdminError> {
    let algs = crate::key_lifecycle::algorithms(ctx.store, primary)
        .await
        .map_err(from_load)?;
    // `rotate` makes whatever keys are missing itself; loading (or creating)
    // them first would rotate twice after a change of algorithm.
    let rotation = crate::key_lifecycle::rotate(ctx.store, &algs, ctx.now)
        .await
        .map_err(from_load)?;
    let algorithms = rotation
        .algorithms
        .iter()
        .map(|r| format!("{}: {} (next {})", r.alg, r.current, r.next))
        .collect::<Vec<_>>()
        .join(", ");
    ctx.record("admin.keys.rotated", |e| {
        e.detail("current", rotation.current.as_str())
            .detail("next", rotation.next.as_str())
            .detail("algorithms", algorithms)
    })
    .await;
    Ok(rotation)
}
