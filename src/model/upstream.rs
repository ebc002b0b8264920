//! Upstream identity providers (another OpenID Connect provider, or a plain
//! OAuth 2.0 server with a userinfo URL) that people may sign in through,
//! the links between their accounts there and local users, and a trip to
//! one in progress.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest upstream id.
pub const UPSTREAM_ID_MAX: usize = 40;

/// Whether `id` has an upstream id's shape: 1 to [`UPSTREAM_ID_MAX`] of
/// `a-z`, `0-9` and `-` (it is part of URLs).
pub fn is_upstream_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= UPSTREAM_ID_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The redirect URI to register at the upstream `id` for Gatehouse at
/// `issuer`.
pub fn upstream_redirect_uri(issuer: &str, id: &str) -> String {
    format!("{issuer}/upstream/{id}/callback")
}

/// Where the upstream `id` sends the browser after signing out there: the
/// post-logout redirect URI to register.
pub fn upstream_signed_out_uri(issuer: &str, id: &str) -> String {
    format!("{issuer}/upstream/{id}/signed-out")
}

/// How Gatehouse talks to an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamKind {
    /// OpenID Connect: discovery from the issuer, an ID token checked
    /// against the upstream's JWKS.
    Oidc,
    /// OAuth 2.0 only: the user is whoever the userinfo URL says.
    Oauth2,
}

impl UpstreamKind {
    /// The name in the seed file, the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamKind::Oidc => "oidc",
            UpstreamKind::Oauth2 => "oauth2",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<UpstreamKind> {
        match name {
            "oidc" => Some(UpstreamKind::Oidc),
            "oauth2" => Some(UpstreamKind::Oauth2),
            _ => None,
        }
    }
}

/// Which upstream claim (for OAuth 2.0, a dotted JSON path into the
/// userinfo answer) fills each local field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimMapping {
    /// The upstream's stable id for the account. OpenID Connect's is `sub`;
    /// GitHub's userinfo calls it `id`.
    #[serde(default = "ClaimMapping::default_subject")]
    pub subject: String,
    /// Fills the username of an account created on first sign-in.
    #[serde(default = "ClaimMapping::default_username")]
    pub username: String,
    /// Fills the email address.
    #[serde(default = "ClaimMapping::default_email")]
    pub email: String,
    /// Says whether the upstream verified that address.
    #[serde(default = "ClaimMapping::default_email_verified")]
    pub email_verified: String,
    /// Fills the display name.
    #[serde(default = "ClaimMapping::default_name")]
    pub name: String,
    /// The upstream's group names (a list, or one string), mapped to local
    /// groups by the upstream's group map.
    #[serde(default = "ClaimMapping::default_groups")]
    pub groups: String,
}

impl ClaimMapping {
    fn default_subject() -> String {
        "sub".into()
    }
    fn default_username() -> String {
        "preferred_username".into()
    }
    fn default_email() -> String {
        "email".into()
    }
    fn default_email_verified() -> String {
        "email_verified".into()
    }
    fn default_name() -> String {
        "name".into()
    }
    fn default_groups() -> String {
        "groups".into()
    }

    /// The mapping for every field by its OpenID Connect name.
    pub fn standard() -> ClaimMapping {
        ClaimMapping {
            subject: Self::default_subject(),
            username: Self::default_username(),
            email: Self::default_email(),
            email_verified: Self::default_email_verified(),
            name: Self::default_name(),
            groups: Self::default_groups(),
        }
    }

    /// Every path, with the field it fills.
    pub fn paths(&self) -> [(&'static str, &str); 6] {
        [
            ("subject", &self.subject),
            ("username", &self.username),
            ("email", &self.email),
            ("email_verified", &self.email_verified),
            ("name", &self.name),
            ("groups", &self.groups),
        ]
    }
}

impl Default for ClaimMapping {
    fn default() -> Self {
        ClaimMapping::standard()
    }
}

/// An upstream as configured. (No `Debug` derive: it holds the client
/// secret; the manual one leaves it out.)
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamRecord {
    /// `[a-z0-9-]+`, in its URLs (`/upstream/{id}/callback`).
    pub id: String,
    /// OpenID Connect or OAuth 2.0.
    pub kind: UpstreamKind,
    /// The button says "Sign in with {name}".
    pub name: String,
    /// An https URL (or a `data:image/` URL) of a small icon for the button.
    pub icon: Option<String>,
    /// OpenID Connect: the issuer discovery starts from, which the ID
    /// token's `iss` must equal.
    pub issuer: Option<String>,
    /// Where the browser goes (OAuth 2.0; for OpenID Connect, overrides
    /// discovery).
    pub authorization_endpoint: Option<String>,
    /// Where the code is exchanged (likewise).
    pub token_endpoint: Option<String>,
    /// Where the user's claims are read (likewise).
    pub userinfo_endpoint: Option<String>,
    /// Gatehouse's client id at the upstream.
    pub client_id: String,
    /// Gatehouse's client secret at the upstream: sent to its token
    /// endpoint, never shown, logged or read back.
    pub client_secret: String,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// Create a local account on a first sign-in.
    pub jit: bool,
    /// Link to the local account with the same address when both sides
    /// say the address is verified.
    pub link_by_verified_email: bool,
    /// The upstream's sign-in counts as multi-factor for `require_mfa`
    /// clients.
    pub mfa: bool,
    /// Signing out of Gatehouse signs out at the upstream too, through its
    /// RP-initiated logout, when it advertises an `end_session_endpoint`.
    pub sign_out_upstream: bool,
    /// Shown on the sign-in page and usable.
    pub enabled: bool,
    /// Which upstream claim fills which local field.
    pub claims: ClaimMapping,
    /// Upstream group name → local group name. Only groups named here are
    /// kept in step with the upstream at each sign-in.
    pub group_map: BTreeMap<String, String>,
    /// When it was added (unix seconds).
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

impl std::fmt::Debug for UpstreamRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamRecord")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// A local user's link to an account at an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamLink {
    /// The upstream.
    pub upstream_id: String,
    /// The upstream's stable id for the account (`sub`).
    pub subject: String,
    /// The local user.
    pub user_id: String,
    /// The address the upstream gave when the link was made, to show.
    pub email: Option<String>,
    /// When it was linked.
    pub created_at: i64,
    /// When it last signed the user in.
    pub last_used_at: Option<i64>,
}

/// Why a browser went to an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TripPurpose {
    /// To sign in (from the sign-in page or a hint on `/authorize`).
    SignIn,
    /// To link the account there to the signed-in user (the account page).
    Link,
    /// To sign out there after signing out of Gatehouse.
    SignOut,
}

impl TripPurpose {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TripPurpose::SignIn => "sign_in",
            TripPurpose::Link => "link",
            TripPurpose::SignOut => "sign_out",
        }
    }

    /// The purpose named `name`.
    pub fn parse(name: &str) -> Option<TripPurpose> {
        match name {
            "sign_in" => Some(TripPurpose::SignIn),
            "link" => Some(TripPurpose::Link),
            "sign_out" => Some(TripPurpose::SignOut),
            _ => None,
        }
    }
}

/// A trip to an upstream in progress. (No `Debug`: it holds the PKCE
/// verifier.)
#[derive(Clone)]
pub struct UpstreamTrip {
    /// The upstream.
    pub upstream_id: String,
    /// Why.
    pub purpose: TripPurpose,
    /// SHA-256 of the browser's trip cookie value: only that browser may
    /// come back with this state.
    pub browser_hash: String,
    /// For a link, who is linking.
    pub user_id: Option<String>,
    /// The pending authorization request to go on with, if any.
    pub request_id: Option<String>,
    /// Where to go afterwards when there is no request (`account`, …), or
    /// for a sign-out, the URL to go on to.
    pub then_page: Option<String>,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE `code_verifier` (RFC 7636).
    pub code_verifier: String,
    /// A fresh sign-in at the upstream was asked for: the earliest
    /// `auth_time` accepted.
    pub auth_after: Option<i64>,
    /// Whether the ID token must carry `auth_time` (`max_age` was sent).
    pub auth_time_required: bool,
    /// When it stops being accepted.
    pub expires_at: i64,
}

/// The upstream a session (or a second-factor challenge) was opened
/// through: which, and the ID token to hint with when signing out there.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Federation {
    /// The upstream.
    pub upstream_id: Option<String>,
    /// Its ID token, kept only for an upstream Gatehouse signs out of.
    pub id_token: Option<String>,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("upstream_id", &self.upstream_id)
            .field("id_token", &self.id_token.as_ref().map(|_| "…"))
            .finish()
    }
}
