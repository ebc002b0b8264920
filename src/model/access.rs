//! Who may do what: groups of users, custom scopes that release user
//! attributes, and APIs (resource servers, RFC 8707) with their scopes and
//! roles.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Roles and the groups that hold them: `role → [group]`.
pub type Roles = BTreeMap<String, Vec<String>>;

/// The roles of `roles` that a member of `groups` holds, sorted.
pub fn roles_held(roles: &Roles, groups: &[String]) -> Vec<String> {
    roles
        .iter()
        .filter(|(_, holders)| holders.iter().any(|g| groups.contains(g)))
        .map(|(role, _)| role.clone())
        .collect()
}

/// A named group of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRecord {
    /// Unique name, `[a-z0-9][a-z0-9._-]*`; what tokens carry.
    pub name: String,
    /// What the group is for.
    pub description: String,
    /// How many users belong to it.
    pub members: i64,
}

/// A custom scope: asking for it releases the listed user attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeRecord {
    /// The scope value.
    pub name: String,
    /// Shown on the consent screen.
    pub description: String,
    /// The attributes it releases.
    pub claims: Vec<String>,
}

/// One scope of an API, with the words the consent screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiScope {
    /// The scope value.
    pub name: String,
    /// What it lets the application do, for the consent screen.
    #[serde(default)]
    pub description: String,
}

/// An API (resource server) that access tokens can be addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiRecord {
    /// Absolute URI without fragment: the `resource` value and the tokens' `aud`.
    pub identifier: String,
    /// Display name.
    pub name: String,
    /// Its scopes.
    pub scopes: Vec<ApiScope>,
    /// Its roles and the groups that hold them.
    pub roles: Roles,
    /// Access token lifetime in seconds; `None` uses the client's or the server's.
    pub access_token_ttl: Option<i64>,
    /// JWS algorithm of its access tokens: `RS256`, `ES256` or `EdDSA`.
    pub signing_alg: String,
}

impl ApiRecord {
    /// Whether `scope` is one of this API's scopes.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.name == scope)
    }
}
