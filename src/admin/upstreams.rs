//! Managing upstream identity providers: the one place their settings are
//! checked, whether they come from the seed file, the config file, the
//! admin screens, the admin API or the command line. The client secret is
//! taken in and never handed back: [`UpstreamView`] is what every reader
//! gets.

use super::{AdminError, Context};
use crate::model::{ClaimMapping, UpstreamKind, UpstreamRecord};
use crate::oauth::claims;
use crate::upstream_client::acceptable_url;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest id.
pub const ID_MAX: usize = 40;
/// The longest button name.
pub const NAME_MAX: usize = 60;
/// The longest URL (endpoints, issuer, icon).
pub const URL_MAX: usize = 2_000;
/// The longest `data:` icon.
pub const ICON_DATA_MAX: usize = 16_384;

/// An upstream's settings as written in the seed file's `[[upstreams]]`,
/// the config file, the admin API's JSON and (field by field) the command
/// line. On a change, a missing `client_secret` keeps the one stored.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSettings {
    /// `[a-z0-9-]+`.
    pub id: String,
    /// `oidc` or `oauth2`.
    pub kind: String,
    /// The button says "Sign in with {name}".
    pub name: String,
    /// An https URL (or a `data:image/…` URL) of a small icon.
    #[serde(default)]
    pub icon: Option<String>,
    /// OpenID Connect: discovery from here.
    #[serde(default)]
    pub issuer: Option<String>,
    /// OAuth 2.0 (and OpenID Connect overrides).
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// Likewise.
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// Likewise.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// Gatehouse's client id at the upstream.
    pub client_id: String,
    /// Gatehouse's client secret there.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Scopes to ask for (OpenID Connect: `openid profile email` unless
    /// given; `openid` is always added).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Create local accounts on first sign-in (default true).
    #[serde(default)]
    pub jit: Option<bool>,
    /// Link to a local account by an address both sides verified.
    #[serde(default)]
    pub link_by_verified_email: bool,
    /// The upstream's sign-in counts as multi-factor.
    #[serde(default)]
    pub mfa: bool,
    /// Signing out of Gatehouse signs out at the upstream too.
    #[serde(default)]
    pub sign_out_upstream: bool,
    /// Shown and usable (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Which upstream claim fills which local field.
    #[serde(default)]
    pub claims: Option<ClaimSettings>,
    /// Upstream group → local group.
    #[serde(default)]
    pub group_map: BTreeMap<String, String>,
}

impl std::fmt::Debug for UpstreamSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamSettings")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// `[upstreams.claims]`: each field optional, defaulting by kind.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ClaimSettings {
    /// The account's stable id (`sub`; `id` for OAuth 2.0).
    pub subject: Option<String>,
    /// Username (`preferred_username`; `login` for OAuth 2.0).
    pub username: Option<String>,
    /// Email (`email`).
    pub email: Option<String>,
    /// Whether it is verified (`email_verified`).
    pub email_verified: Option<String>,
    /// Display name (`name`).
    pub name: Option<String>,
    /// Group names (`groups`).
    pub groups: Option<String>,
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

/// Claims that name a person but can change or be handed to someone else:
/// never the key an upstream account is linked by.
const CHANGEABLE_CLAIMS: &[&str] = &[
    "email",
    "mail",
    "email_address",
    "emailaddress",
    "samaccountname",
    "preferred_username",
    "upn",
    "unique_name",
    "name",
    "nickname",
    "login",
    "username",
];

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
        signed_out_uri: format!("{issuer}/upstream/{}/signed-out", upstream.id),
        created_at: upstream.created_at,
        updated_at: upstream.updated_at,
    }
}

fn invalid(id: &str, what: impl std::fmt::Display) -> AdminError {
    AdminError::Invalid(format!("Upstream {id:?}: {what}"))
}

/// An optional URL: trimmed, empty meaning none, else acceptable.
fn url_setting(id: &str, name: &str, value: &Option<String>) -> Result<Option<String>, AdminError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(url) if url.len() <= URL_MAX && acceptable_url(url) => Ok(Some(url.to_string())),
        Some(_) => Err(invalid(
            id,
            format!("{name} must be an https URL (http only on localhost)."),
        )),
    }
}

/// A claim path: letters, digits, `_`, `-`, `.`, `:` and `/` (URL-like
/// claim names), at most 200 characters.
fn path_setting(
    id: &str,
    field: &str,
    value: Option<&String>,
    default: &str,
) -> Result<String, AdminError> {
    let path = value.map_or(default, |v| v.trim());
    let ok = !path.is_empty()
        && path.len() <= 200
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c));
    if !ok {
        return Err(invalid(
            id,
            format!("claims.{field} {path:?} is not a claim name or path."),
        ));
    }
    Ok(path.to_string())
}

/// Checks `settings` and makes the record to store; `existing` is the
/// stored upstream being changed (its secret stays when none is given).
pub fn checked(
    settings: &UpstreamSettings,
    existing: Option<&UpstreamRecord>,
    now: i64,
) -> Result<UpstreamRecord, AdminError> {
    let id = settings.id.trim();
    if id.is_empty()
        || id.len() > ID_MAX
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(AdminError::Invalid(format!(
            "An upstream id is 1 to {ID_MAX} of a-z, 0-9 and -; {id:?} is not."
        )));
    }
    let kind = UpstreamKind::parse(settings.kind.trim())
        .ok_or_else(|| invalid(id, "kind must be oidc or oauth2."))?;
    let name = settings.name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(invalid(
            id,
            format!("name must be 1 to {NAME_MAX} characters on one line."),
        ));
    }
    let icon = match settings
        .icon
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(data) if data.starts_with("data:image/") && data.len() <= ICON_DATA_MAX => {
            Some(data.to_string())
        }
        Some(url) if url.starts_with("https://") && url.len() <= URL_MAX && acceptable_url(url) => {
            Some(url.to_string())
        }
        Some(_) => {
            return Err(invalid(
                id,
                "icon must be an https URL or a data:image/ URL of at most 16 KiB.",
            ))
        }
    };
    // Kept exactly as given: it must equal the `iss` the upstream sends,
    // trailing slash and all (Auth0's has one).
    let issuer = url_setting(id, "issuer", &settings.issuer)?;
    let authorization_endpoint = url_setting(
        id,
        "authorization_endpoint",
        &settings.authorization_endpoint,
    )?;
    let token_endpoint = url_setting(id, "token_endpoint", &settings.token_endpoint)?;
    let userinfo_endpoint = url_setting(id, "userinfo_endpoint", &settings.userinfo_endpoint)?;
    match kind {
        UpstreamKind::Oidc if issuer.is_none() => {
            return Err(invalid(id, "an oidc upstream needs its issuer (discovery starts there)."))
        }
        UpstreamKind::Oauth2
            if authorization_endpoint.is_none()
                || token_endpoint.is_none()
                || userinfo_endpoint.is_none() =>
        {
            return Err(invalid(
                id,
                "an oauth2 upstream needs authorization_endpoint, token_endpoint and userinfo_endpoint.",
            ))
        }
        _ => {}
    }
    let client_id = settings.client_id.trim();
    if client_id.is_empty() || client_id.len() > 255 {
        return Err(invalid(id, "client_id must be 1 to 255 characters."));
    }
    let client_secret = match settings.client_secret.as_deref().filter(|s| !s.is_empty()) {
        Some(secret) if secret.len() <= 1_000 => secret.to_string(),
        Some(_) => return Err(invalid(id, "client_secret is longer than 1000 characters.")),
        None => existing
            .map(|e| e.client_secret.clone())
            .ok_or_else(|| invalid(id, "client_secret is required."))?,
    };
    let mut scopes: Vec<String> = match (&settings.scopes, kind) {
        (Some(list), _) => list.iter().map(|s| s.trim().to_string()).collect(),
        (None, UpstreamKind::Oidc) => vec!["openid".into(), "profile".into(), "email".into()],
        (None, UpstreamKind::Oauth2) => vec![],
    };
    if kind == UpstreamKind::Oidc && !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    if scopes.len() > 30
        || scopes.iter().any(|s| {
            s.is_empty()
                || s.len() > 200
                || s.chars()
                    .any(|c| c.is_whitespace() || c == '"' || c == '\\')
        })
    {
        return Err(invalid(
            id,
            "scopes must be at most 30 scope tokens without spaces.",
        ));
    }
    let given = settings.claims.clone().unwrap_or_default();
    let (subject, username) = match kind {
        UpstreamKind::Oidc => ("sub", "preferred_username"),
        UpstreamKind::Oauth2 => ("id", "login"),
    };
    if let Some(subject) = given.subject.as_deref().map(str::trim) {
        let last = subject.rsplit(['.', '/', ':']).next().unwrap_or(subject);
        if CHANGEABLE_CLAIMS.contains(&last.to_ascii_lowercase().as_str()) {
            return Err(invalid(
                id,
                format!("claims.subject {subject:?} can change or pass to someone else; use the upstream's stable id (sub, oid, id)."),
            ));
        }
    }
    let claims = ClaimMapping {
        subject: path_setting(id, "subject", given.subject.as_ref(), subject)?,
        username: path_setting(id, "username", given.username.as_ref(), username)?,
        email: path_setting(id, "email", given.email.as_ref(), "email")?,
        email_verified: path_setting(
            id,
            "email_verified",
            given.email_verified.as_ref(),
            "email_verified",
        )?,
        name: path_setting(id, "name", given.name.as_ref(), "name")?,
        groups: path_setting(id, "groups", given.groups.as_ref(), "groups")?,
    };
    if settings.group_map.len() > 200 {
        return Err(invalid(id, "group_map maps at most 200 groups."));
    }
    let mut group_map = BTreeMap::new();
    for (upstream_group, local) in &settings.group_map {
        if upstream_group.is_empty() || upstream_group.len() > 255 {
            return Err(invalid(id, "a group_map key is 1 to 255 characters."));
        }
        claims::check_group_name(local.trim()).map_err(|e| invalid(id, e))?;
        group_map.insert(upstream_group.clone(), local.trim().to_string());
    }
    Ok(UpstreamRecord {
        id: id.to_string(),
        kind,
        name: name.to_string(),
        icon,
        issuer,
        authorization_endpoint,
        token_endpoint,
        userinfo_endpoint,
        client_id: client_id.to_string(),
        client_secret,
        scopes,
        jit: settings.jit.unwrap_or(true),
        link_by_verified_email: settings.link_by_verified_email,
        mfa: settings.mfa,
        sign_out_upstream: settings.sign_out_upstream,
        enabled: settings.enabled.unwrap_or(true),
        claims,
        group_map,
        created_at: existing.map_or(now, |e| e.created_at),
        updated_at: now,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(issuer: &str) -> UpstreamSettings {
        UpstreamSettings {
            id: "auth0".into(),
            kind: "oidc".into(),
            name: "Auth0".into(),
            issuer: Some(issuer.into()),
            client_id: "gatehouse".into(),
            client_secret: Some("secret".into()),
            ..UpstreamSettings::default()
        }
    }

    #[test]
    fn the_issuer_is_kept_exactly_as_given() {
        let kept = checked(&settings("https://tenant.auth0.com/"), None, 1).unwrap();
        assert_eq!(kept.issuer.as_deref(), Some("https://tenant.auth0.com/"));
    }

    #[test]
    fn a_changeable_claim_is_never_the_subject() {
        for claim in [
            "email",
            "preferred_username",
            "upn",
            "login",
            "Email",
            "user.email",
            "mail",
        ] {
            let mut s = settings("https://idp.example.com");
            s.claims = Some(ClaimSettings {
                subject: Some(claim.into()),
                ..ClaimSettings::default()
            });
            assert!(checked(&s, None, 1).is_err(), "{claim}");
        }
        let mut s = settings("https://idp.example.com");
        s.claims = Some(ClaimSettings {
            subject: Some("oid".into()),
            ..ClaimSettings::default()
        });
        assert_eq!(checked(&s, None, 1).unwrap().claims.subject, "oid");
    }
}
