//! Registered clients (RFC 6749 §2, OpenID Connect Dynamic Registration §2
//! for the metadata names): redirect URIs, grant types, scopes, policies and
//! lifetimes.

/// A client as stored.
#[derive(Debug, Clone)]
pub struct ClientRecord {
    /// Public identifier.
    pub client_id: String,
    /// Name shown on the consent screen.
    pub name: String,
    /// SHA-256 of the secret (base64url); `None` for a public client.
    pub secret_hash: Option<String>,
    /// Registered redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Registered post-logout redirect URIs, matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types the client may use.
    pub grant_types: Vec<String>,
    /// Scopes the client may ask for.
    pub scopes: Vec<String>,
    /// Whether users are asked before the client gets their data.
    pub require_consent: bool,
    /// Whether users need a second factor for this client.
    pub require_mfa: bool,
    /// Whether it may obtain the `gatehouse:admin` scope.
    pub is_admin: bool,
    /// Lifetimes for this client's tokens; `None` fields use the defaults.
    pub lifetimes: Lifetimes,
    /// Identifiers of the APIs it may ask tokens for with `resource`.
    pub apis: Vec<String>,
    /// When not empty, only members of these groups may sign in to it.
    pub allowed_groups: Vec<String>,
    /// APIs whose tokens it may introspect (confidential clients only).
    pub introspects: Vec<String>,
    /// Its roles and the groups that hold them.
    pub roles: crate::model::Roles,
    /// Where logout tokens are posted when a session it got tokens in ends
    /// (Back-Channel Logout 1.0 §2.2); `None` for none.
    pub backchannel_logout_uri: Option<String>,
    /// Whether it needs the `sid` claim in its logout tokens (§2.2).
    pub backchannel_logout_session_required: bool,
}

/// Per-client token lifetimes in seconds; `None` means the server default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lifetimes {
    /// Access token lifetime.
    pub access_token: Option<i64>,
    /// A refresh token expires when unused this long.
    pub refresh_token_idle: Option<i64>,
    /// A grant (refresh token family) ends this long after the sign-in.
    pub refresh_token_absolute: Option<i64>,
}

impl ClientRecord {
    /// Public clients have no secret and must use PKCE.
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    /// Whether a member of `groups` may sign in to it.
    pub fn admits(&self, groups: &[String]) -> bool {
        self.allowed_groups.is_empty() || self.allowed_groups.iter().any(|g| groups.contains(g))
    }

    /// Whether the client registered this grant type.
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

/// What creating or updating a client takes.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// Public identifier.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// SHA-256 of the secret; `None` for a public client.
    pub secret_hash: Option<String>,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types.
    pub grant_types: Vec<String>,
    /// Scopes it may ask for.
    pub scopes: Vec<String>,
    /// Ask users for consent.
    pub require_consent: bool,
    /// Require a second factor.
    pub require_mfa: bool,
    /// May obtain the `gatehouse:admin` scope.
    pub is_admin: bool,
    /// Token lifetimes.
    pub lifetimes: Lifetimes,
    /// Identifiers of the APIs it may ask tokens for with `resource`.
    pub apis: Vec<String>,
    /// When not empty, only members of these groups may sign in to it.
    pub allowed_groups: Vec<String>,
    /// APIs whose tokens it may introspect (confidential clients only).
    pub introspects: Vec<String>,
    /// Its roles and the groups that hold them.
    pub roles: crate::model::Roles,
    /// Where logout tokens are posted when a session it got tokens in ends
    /// (Back-Channel Logout 1.0 §2.2); `None` for none.
    pub backchannel_logout_uri: Option<String>,
    /// Whether it needs the `sid` claim in its logout tokens (§2.2).
    pub backchannel_logout_session_required: bool,
}
