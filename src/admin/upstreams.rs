//! Managing upstream identity providers: adding, changing, turning on and
//! off and removing them, for the admin screens, the admin API and the
//! command line (their settings are checked in `upstream_settings`). The
//! client secret is taken in and never handed back: [`UpstreamView`] is
//! what every reader gets.

pub use super::upstream_settings::{checked, ClaimSettings, UpstreamSettings};
use super::{AdminError, Context};
use crate::model::{ClaimMapping, UpstreamRecord};
use serde::Serialize;
use std::collections::BTreeMap;

fn invalid(id: &str, what: impl std::fmt::Display) -> AdminError {
    AdminError::Invalid(format!("Upstream {id:?}: {what}"))
}

/// An upstream as the screens, the API and the CLI show it: everything but
/// the secret.
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamView {
    /// Its id.
    pub id: String,
    /// `oidc` or `oauth2`.
    pub kind: &'static str,
    /// The button's name.
    pub name: String,
    /// The icon.
    pub icon: Option<String>,
    /// The issuer.
    pub issuer: Option<String>,
    /// Endpoint overrides.
    pub authorization_endpoint: Option<String>,
    /// Endpoint overrides.
    pub token_endpoint: Option<String>,
    /// Endpoint overrides.
    pub userinfo_endpoint: Option<String>,
    /// Client id at the upstream.
    pub client_id: String,
    /// Whether a secret is set (never the secret).
    pub client_secret_set: bool,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// Just-in-time accounts.
    pub jit: bool,
    /// Linking by verified email.
    pub link_by_verified_email: bool,
    /// Counts as MFA.
    pub mfa: bool,
    /// Signs out upstream too.
    pub sign_out_upstream: bool,
    /// Enabled.
    pub enabled: bool,
    /// Claim mapping.
    pub claims: ClaimMapping,
    /// Group map.
    pub group_map: BTreeMap<String, String>,
    /// The redirect URI to register at the upstream.
    pub redirect_uri: String,
    /// The post-logout redirect URI to register there, for signing out
    /// there too.
    pub signed_out_uri: String,
    /// When it was added.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

pub use crate::model::upstream_redirect_uri as redirect_uri;

/// What readers see of `upstream`.
pub fn view(issuer: &str, upstream: &UpstreamRecord) -> UpstreamView {
    UpstreamView {
        id: upstream.id.clone(),
        kind: upstream.kind.as_str(),
        name: upstream.name.clone(),
        icon: upstream.icon.clone(),
        issuer: upstream.issuer.clone(),
        authorization_endpoint: upstream.authorization_endpoint.clone(),
        token_endpoint: upstream.token_endpoint.clone(),
        userinfo_endpoint: upstream.userinfo_endpoint.clone(),
        client_id: upstream.client_id.clone(),
        client_secret_set: !upstream.client_secret.is_empty(),
        scopes: upstream.scopes.clone(),
        jit: upstream.jit,
        link_by_verified_email: upstream.link_by_verified_email,
        mfa: upstream.mfa,
        sign_out_upstream: upstream.sign_out_upstream,
        enabled: upstream.enabled,
        claims: upstream.claims.clone(),
        group_map: upstream.group_map.clone(),
        redirect_uri: redirect_uri(issuer, &upstream.id),
        signed_out_uri: crate::model::upstream_signed_out_uri(issuer, &upstream.id),
        created_at: upstream.created_at,
        updated_at: upstream.updated_at,
    }
}

/// Checks that every local group a group map names exists.
async fn check_groups(ctx: &Context<'_>, upstream: &UpstreamRecord) -> Result<(), AdminError> {
    let known: Vec<String> = ctx
        .store
        .groups()
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    for local in upstream.group_map.values() {
        if !known.contains(local) {
            return Err(invalid(
                &upstream.id,
                format!("there is no group {local:?} to map to."),
            ));
        }
    }
    Ok(())
}

/// Refuses a change that would make the upstream's linked accounts mean
/// other people: another issuer, kind, userinfo source or subject claim,
/// while accounts are linked through it (their subjects would then be
/// looked up at a provider that did not issue them).
pub async fn check_same_accounts(
    store: &crate::store::Store,
    before: &UpstreamRecord,
    after: &UpstreamRecord,
) -> Result<(), AdminError> {
    // The client id too: a provider may give each client its own
    // subjects (Entra's `sub` is pairwise).
    let identity = |u: &UpstreamRecord| {
        (
            u.kind,
            u.issuer.clone(),
            u.userinfo_endpoint.clone(),
            u.client_id.clone(),
            u.claims.subject.clone(),
        )
    };
    if identity(before) == identity(after) {
        return Ok(());
    }
    let linked = store.links_to_upstream(&before.id).await?;
    if linked > 0 {
        return Err(AdminError::Conflict(format!(
            "Upstream {:?} has {linked} linked account(s): its kind, issuer, userinfo endpoint, client id and subject claim cannot change. Add another upstream instead.",
            before.id
        )));
    }
    Ok(())
}

/// Every upstream, by name.
pub async fn list(ctx: &Context<'_>) -> Result<Vec<UpstreamRecord>, AdminError> {
    Ok(ctx.store.upstreams().await?)
}

/// An upstream, or `NotFound`.
pub async fn find(ctx: &Context<'_>, id: &str) -> Result<UpstreamRecord, AdminError> {
    ctx.store
        .upstream(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("There is no upstream {id:?}.")))
}

/// Adds an upstream.
pub async fn create(
    ctx: &Context<'_>,
    settings: &UpstreamSettings,
) -> Result<UpstreamRecord, AdminError> {
    let upstream = checked(settings, None, ctx.now)?;
    check_groups(ctx, &upstream).await?;
    if !ctx.store.insert_upstream(&upstream).await? {
        return Err(AdminError::Conflict(format!(
            "An upstream with id {:?} already exists.",
            upstream.id
        )));
    }
    ctx.record("admin.upstream.created", |e| {
        e.detail("upstream", upstream.id.clone())
    })
    .await;
    Ok(upstream)
}

/// Replaces an upstream's settings (its id stays; a missing secret keeps
/// the stored one).
pub async fn update(
    ctx: &Context<'_>,
    id: &str,
    settings: &UpstreamSettings,
) -> Result<UpstreamRecord, AdminError> {
    let existing = find(ctx, id).await?;
    if settings.id.trim() != id {
        return Err(invalid(
            id,
            "the id cannot change (delete it and add another).",
        ));
    }
    let upstream = checked(settings, Some(&existing), ctx.now)?;
    check_groups(ctx, &upstream).await?;
    check_same_accounts(ctx.store, &existing, &upstream).await?;
    if !ctx.store.update_upstream(&upstream).await? {
        return Err(AdminError::NotFound(format!(
            "There is no upstream {id:?}."
        )));
    }
    ctx.record("admin.upstream.updated", |e| {
        e.detail("upstream", id.to_string())
    })
    .await;
    Ok(upstream)
}

/// Turns an upstream on or off.
pub async fn set_enabled(ctx: &Context<'_>, id: &str, enabled: bool) -> Result<(), AdminError> {
    let mut upstream = find(ctx, id).await?;
    upstream.enabled = enabled;
    upstream.updated_at = ctx.now;
    ctx.store.update_upstream(&upstream).await?;
    let name = if enabled {
        "admin.upstream.enabled"
    } else {
        "admin.upstream.disabled"
    };
    ctx.record(name, |e| e.detail("upstream", id.to_string()))
        .await;
    Ok(())
}

/// Removes an upstream and every link to it: its users keep their local
/// accounts, and sign in another way.
pub async fn delete(ctx: &Context<'_>, id: &str) -> Result<(), AdminError> {
    if !ctx.store.delete_upstream(id).await? {
        return Err(AdminError::NotFound(format!(
            "There is no upstream {id:?}."
        )));
    }
    ctx.record("admin.upstream.deleted", |e| {
        e.detail("upstream", id.to_string())
    })
    .await;
    Ok(())
}
