//! Registering and managing clients (relying parties): the checks every way
//! in (seed file, admin UI, admin API, CLI) shares, secrets generated here
//! and shown once, stored as SHA-256 hashes.

use super::{AdminError, Context};
use crate::crypto::{random_token, token_hash};
use crate::model::{ClientRecord, Lifetimes, NewClient, Roles};
use crate::oauth::scopes::ADMIN_SCOPE;
use crate::oauth::{claims, resource};
use crate::store::Store;

/// Grant types a client may register.
pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "client_credentials",
    crate::model::DEVICE_CODE_GRANT,
];

/// Everything that describes a client but its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSpec {
    /// Public identifier.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// No secret: a browser or native app, which must use PKCE.
    pub public: bool,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Exact post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types.
    pub grant_types: Vec<String>,
    /// Scopes it may ask for.
    pub scopes: Vec<String>,
    /// Ask users for consent.
    pub require_consent: bool,
    /// Require a second factor.
    pub require_mfa: bool,
    /// May obtain `gatehouse:admin` with client_credentials.
    pub is_admin: bool,
    /// Token lifetimes; `None` fields use the server's.
    pub lifetimes: Lifetimes,
    /// APIs, allowed groups, introspection and roles.
    pub access: ClientAccess,
    /// Back-channel logout (Back-Channel Logout 1.0 §2.2).
    pub backchannel: Backchannel,
}

/// Where and how a client is told of logouts (Back-Channel Logout 1.0
/// §2.2), registered as `backchannel_logout_uri` and
/// `backchannel_logout_session_required`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backchannel {
    /// Where logout tokens are posted; `None` for none.
    pub uri: Option<String>,
    /// Whether it needs `sid` in them.
    pub session_required: bool,
}

/// Who may use a client and what it may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAccess {
    /// APIs it may ask tokens for with `resource`.
    pub apis: Vec<String>,
    /// When not empty, only members of these groups may sign in to it.
    pub allowed_groups: Vec<String>,
    /// APIs whose tokens it may introspect (confidential clients only).
    pub introspects: Vec<String>,
    /// Its roles and the groups that hold them.
    pub roles: Roles,
}

impl ClientAccess {
    /// Checks the shape of every entry, and puts lists in canonical form.
    fn validated(mut self, public: bool) -> Result<ClientAccess, AdminError> {
        let invalid = |why: String| Err(AdminError::Invalid(why));
        for list in [
            &mut self.apis,
            &mut self.allowed_groups,
            &mut self.introspects,
        ] {
            canonical_list(list);
        }
        for api in self.apis.iter().chain(&self.introspects) {
            if let Err(why) = resource::check_identifier(api) {
                return invalid(format!("API {why}"));
            }
        }
        if public && !self.introspects.is_empty() {
            return invalid("a public client cannot introspect tokens: it has no secret".into());
        }
        for group in &self.allowed_groups {
            claims::check_group_name(group).map_err(AdminError::Invalid)?;
        }
        check_roles(&mut self.roles)?;
        Ok(self)
    }

    /// Checks that every API and group named exists.
    pub async fn check_references(&self, store: &Store) -> Result<(), AdminError> {
        let groups: Vec<String> = store.groups().await?.into_iter().map(|g| g.name).collect();
        for group in self
            .allowed_groups
            .iter()
            .chain(self.roles.values().flatten())
        {
            if !groups.contains(group) {
                return Err(AdminError::Invalid(format!("there is no group {group:?}")));
            }
        }
        for api in self.apis.iter().chain(&self.introspects) {
            if store.api(api).await?.is_none() {
                return Err(AdminError::Invalid(format!("there is no API {api:?}")));
            }
        }
        Ok(())
    }
}

/// Trims every entry of `list` and drops the empty ones and repeats,
/// keeping the first occurrence's place (redirect URIs keep their order).
fn canonical_list(list: &mut Vec<String>) {
    let mut seen: Vec<String> = Vec::with_capacity(list.len());
    for item in list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !seen.iter().any(|s| s == item) {
            seen.push(item.to_string());
        }
    }
    *list = seen;
}

/// Checks role names and the group names holding them; sorts and dedups
/// the holders.
pub fn check_roles(roles: &mut Roles) -> Result<(), AdminError> {
    for (role, holders) in roles.iter_mut() {
        claims::check_role_name(role).map_err(AdminError::Invalid)?;
        for group in holders.iter() {
            claims::check_group_name(group).map_err(AdminError::Invalid)?;
        }
        holders.sort();
        holders.dedup();
    }
    Ok(())
}

impl ClientSpec {
    /// The spec of a stored client.
    pub fn of(record: &ClientRecord) -> ClientSpec {
        ClientSpec {
            client_id: record.client_id.clone(),
            name: record.name.clone(),
            public: record.is_public(),
            redirect_uris: record.redirect_uris.clone(),
            post_logout_redirect_uris: record.post_logout_redirect_uris.clone(),
            grant_types: record.grant_types.clone(),
            scopes: record.scopes.clone(),
            require_consent: record.require_consent,
            require_mfa: record.require_mfa,
            is_admin: record.is_admin,
            lifetimes: record.lifetimes,
            access: ClientAccess {
                apis: record.apis.clone(),
                allowed_groups: record.allowed_groups.clone(),
                introspects: record.introspects.clone(),
                roles: record.roles.clone(),
            },
            backchannel: Backchannel {
                uri: record.backchannel_logout_uri.clone(),
                session_required: record.backchannel_logout_session_required,
            },
        }
    }

    /// Checks the spec and puts it in canonical form (trimmed, no duplicate
    /// entries, the admin scope present exactly for admin clients).
    pub fn validated(mut self) -> Result<ClientSpec, AdminError> {
        let invalid = |why: String| Err(AdminError::Invalid(why));
        self.client_id = self.client_id.trim().to_string();
        self.name = self.name.trim().to_string();
        let id = &self.client_id;
        if id.is_empty()
            || id.len() > 100
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return invalid(format!(
                "client_id {id:?}: use 1 to 100 letters, digits, '-', '.', '_' or '~'"
            ));
        }
        if matches!(id.as_str(), "new" | "." | "..") {
            // Taken by the admin screens' paths.
            return invalid(format!("client_id {id:?} is reserved; choose another"));
        }
        if uuid::Uuid::parse_str(id).is_ok() {
            // Users' subject identifiers are UUIDs; a client's own tokens
            // carry its client_id as `sub`, which must never look like one.
            return invalid(format!("client_id {id:?} must not be a UUID"));
        }
        if self.name.is_empty() {
            self.name = self.client_id.clone();
        }
        if self.name.chars().count() > 200 || self.name.chars().any(char::is_control) {
            return invalid("the name can have up to 200 characters, without line breaks".into());
        }
        for list in [
            &mut self.redirect_uris,
            &mut self.post_logout_redirect_uris,
            &mut self.grant_types,
            &mut self.scopes,
        ] {
            canonical_list(list);
        }
        for uri in self
            .redirect_uris
            .iter()
            .chain(&self.post_logout_redirect_uris)
        {
            if let Err(why) = crate::redirect_uri::validate_redirect_uri(uri) {
                return invalid(format!("redirect URI {uri:?}: {why}"));
            }
        }
        if self.grant_types.is_empty() {
            self.grant_types = vec!["authorization_code".into()];
        }
        for g in &self.grant_types {
            if !GRANT_TYPES.contains(&g.as_str()) {
                return invalid(format!(
                    "unknown grant type {g:?}: use authorization_code, refresh_token, client_credentials or {}",
                    crate::model::DEVICE_CODE_GRANT
                ));
            }
        }
        if self.public && self.allows("client_credentials") {
            return invalid("a public client cannot use client_credentials".into());
        }
        if self.allows("authorization_code") && self.redirect_uris.is_empty() {
            return invalid(
                "a client using authorization_code needs at least one redirect URI".into(),
            );
        }
        for s in &self.scopes {
            if s.bytes()
                .any(|b| b <= b' ' || b == b'"' || b == b'\\' || b >= 0x7f)
            {
                return invalid(format!("scope {s:?} has characters a scope cannot have"));
            }
        }
        self.scopes.retain(|s| s != ADMIN_SCOPE);
        if self.is_admin {
            // Its tokens open the admin API: they must be the client's own,
            // never a user's, so the user-facing grants are refused.
            if self.public || self.grant_types != ["client_credentials"] {
                return invalid(
                    "an admin client must be confidential and use client_credentials only".into(),
                );
            }
            self.scopes.push(ADMIN_SCOPE.into());
        }
        let l = self.lifetimes;
        for (name, ttl) in [
            ("access token lifetime", l.access_token),
            ("refresh token idle lifetime", l.refresh_token_idle),
            ("refresh token absolute lifetime", l.refresh_token_absolute),
        ] {
            if ttl.is_some_and(|t| t <= 0 || t > 10 * 365 * 86_400) {
                return invalid(format!("the {name} must be a positive number of seconds"));
            }
        }
        self.access = self.access.validated(self.public)?;
        self.backchannel.uri = self
            .backchannel
            .uri
            .as_deref()
            .map(str::trim)
            .filter(|uri| !uri.is_empty())
            .map(str::to_string);
        if let Some(uri) = &self.backchannel.uri {
            if uri.len() > crate::model::limits::REDIRECT_URI {
                return invalid(format!(
                    "the backchannel_logout_uri is longer than {} bytes",
                    crate::model::limits::REDIRECT_URI
                ));
            }
            if let Err(why) =
                crate::redirect_uri::validate_backchannel_logout_uri(uri, &self.redirect_uris)
            {
                return invalid(format!("backchannel_logout_uri {uri:?}: {why}"));
            }
        }
        Ok(self)
    }

    fn allows(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// The row to store, with this secret hash.
    pub fn to_new_client(&self, secret_hash: Option<String>) -> NewClient {
        NewClient {
            client_id: self.client_id.clone(),
            name: self.name.clone(),
            secret_hash,
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            grant_types: self.grant_types.clone(),
            scopes: self.scopes.clone(),
            require_consent: self.require_consent,
            require_mfa: self.require_mfa,
            is_admin: self.is_admin,
            lifetimes: self.lifetimes,
            apis: self.access.apis.clone(),
            allowed_groups: self.access.allowed_groups.clone(),
            introspects: self.access.introspects.clone(),
            roles: self.access.roles.clone(),
            backchannel_logout_uri: self.backchannel.uri.clone(),
            backchannel_logout_session_required: self.backchannel.session_required,
        }
    }
}

/// Every registered client.
pub async fn list(ctx: &Context<'_>) -> Result<Vec<ClientRecord>, AdminError> {
    Ok(ctx.store.list_clients().await?)
}

/// A stored client, or `NotFound`.
pub async fn find(ctx: &Context<'_>, client_id: &str) -> Result<ClientRecord, AdminError> {
    ctx.store
        .client(client_id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("There is no client {client_id:?}.")))
}

/// Registers a client; returns its secret (to show once) if confidential.
pub async fn create(ctx: &Context<'_>, spec: ClientSpec) -> Result<Option<String>, AdminError> {
    let spec = spec.validated()?;
    spec.access.check_references(ctx.store).await?;
    let secret = (!spec.public).then(random_token);
    let row = spec.to_new_client(secret.as_deref().map(token_hash));
    if !ctx.store.insert_client(&row, ctx.now).await? {
        return Err(AdminError::Conflict(format!(
            "A client with the id {:?} already exists.",
            spec.client_id
        )));
    }
    ctx.record("admin.client.created", |e| {
        e.client(&spec.client_id)
            .detail("public", spec.public.to_string())
            .detail("admin", spec.is_admin.to_string())
    })
    .await;
    Ok(secret)
}

/// Changes a client's settings; its id, type and secret stay.
pub async fn update(ctx: &Context<'_>, spec: ClientSpec) -> Result<(), AdminError> {
    let current = find(ctx, &spec.client_id).await?;
    let spec = ClientSpec {
        public: current.is_public(),
        ..spec
    }
    .validated()?;
    spec.access.check_references(ctx.store).await?;
    ctx.store
        .upsert_client(&spec.to_new_client(current.secret_hash.clone()), ctx.now)
        .await?;
    ctx.record("admin.client.updated", |e| e.client(&spec.client_id))
        .await;
    Ok(())
}

/// Replaces a confidential client's secret; returns the new one (to show
/// once). The old secret stops working at once.
pub async fn rotate_secret(ctx: &Context<'_>, client_id: &str) -> Result<String, AdminError> {
    let client = find(ctx, client_id).await?;
    if client.is_public() {
        return Err(AdminError::Invalid(format!(
            "{client_id:?} is a public client: it has no secret."
        )));
    }
    let secret = random_token();
    ctx.store
        .set_client_secret_hash(client_id, &token_hash(&secret), ctx.now)
        .await?;
    ctx.record("admin.client.secret_rotated", |e| e.client(client_id))
        .await;
    Ok(secret)
}

/// Deletes a client with its grants, codes and consents.
pub async fn delete(ctx: &Context<'_>, client_id: &str) -> Result<(), AdminError> {
    if !ctx.store.delete_client(client_id).await? {
        return Err(AdminError::NotFound(format!(
            "There is no client {client_id:?}."
        )));
    }
    ctx.record("admin.client.deleted", |e| e.client(client_id))
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ClientSpec {
        ClientSpec {
            client_id: "app".into(),
            name: String::new(),
            public: false,
            redirect_uris: vec![
                "https://app.example/cb".into(),
                "https://app.example/cb".into(),
            ],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            scopes: vec!["openid".into(), " ".into()],
            require_consent: true,
            require_mfa: false,
            is_admin: false,
            lifetimes: Lifetimes::default(),
            access: ClientAccess::default(),
            backchannel: Backchannel::default(),
        }
    }

    #[test]
    fn specs_are_checked_and_made_canonical() {
        let s = spec().validated().unwrap();
        assert_eq!(s.name, "app");
        assert_eq!(s.redirect_uris.len(), 1);
        assert_eq!(s.grant_types, vec!["authorization_code"]);
        assert_eq!(s.scopes, vec!["openid"]);

        let bad = |change: fn(&mut ClientSpec)| {
            let mut s = spec();
            change(&mut s);
            s.validated().is_err()
        };
        assert!(bad(|s| s.redirect_uris = vec!["https://x.example/*".into()]));
        assert!(bad(|s| s.redirect_uris = vec!["http://x.example/cb".into()]));
        assert!(bad(
            |s| s.redirect_uris = vec!["https://x.example/cb#frag".into()]
        ));
        assert!(bad(|s| s.redirect_uris = vec!["/relative".into()]));
        assert!(bad(|s| s.redirect_uris.clear()));
        assert!(bad(|s| s.client_id = "with space".into()));
        assert!(bad(|s| s.client_id = uuid::Uuid::new_v4().to_string()));
        assert!(bad(|s| s.grant_types = vec!["password".into()]));
        assert!(bad(|s| {
            s.public = true;
            s.grant_types = vec!["client_credentials".into()];
        }));
        assert!(bad(|s| s.is_admin = true), "admin needs client_credentials");
        assert!(
            bad(|s| {
                s.is_admin = true;
                s.grant_types = vec!["client_credentials".into(), "authorization_code".into()];
            }),
            "an admin client's tokens are never a user's"
        );
        assert!(
            bad(|s| s.client_id = "new".into()),
            "reserved by the admin screens"
        );
        assert!(bad(|s| s.lifetimes.access_token = Some(0)));
    }

    #[test]
    fn the_admin_scope_belongs_to_admin_clients_only() {
        let mut s = spec();
        s.scopes.push(ADMIN_SCOPE.into());
        assert!(!s
            .clone()
            .validated()
            .unwrap()
            .scopes
            .contains(&ADMIN_SCOPE.to_string()));
        s.is_admin = true;
        s.grant_types = vec!["client_credentials".into()];
        s.redirect_uris.clear();
        let admin = s.validated().unwrap();
        assert_eq!(admin.scopes.iter().filter(|x| *x == ADMIN_SCOPE).count(), 1);
    }
}
