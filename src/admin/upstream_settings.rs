//! An upstream provider's settings as written (the seed file's
//! `[[upstreams]]`, the config file, the admin API's JSON, the screens'
//! and the command line's fields) and the one place they are checked and
//! made into the record to store ([`checked`]).

use super::AdminError;
use crate::model::{is_upstream_id, ClaimMapping, UpstreamKind, UpstreamRecord};
use crate::oauth::claims;
use crate::upstream_client::acceptable_url;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The longest id.
pub const ID_MAX: usize = crate::model::UPSTREAM_ID_MAX;
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
    if !is_upstream_id(id) {
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
