//! The seed file's format (TOML, `deny_unknown_fields`): one struct per
//! kind of entry, and each entry's check, which turns it into what the
//! store takes using the same checks as the admin screens, API and CLI.

use super::SeedError;
use crate::account::profile;
use crate::admin::clients::{Backchannel, ClientAccess, ClientSpec};
use crate::admin::{apis, groups, users};
use crate::crypto::{token_hash, totp};
use crate::model::{
    Address, ApiRecord, ApiScope, Lifetimes, NewClient, NewUser, Profile, Roles, ScopeRecord,
};
use crate::oauth::claims;
use serde::Deserialize;
use serde_json::{Map, Value};

fn invalid(what: String) -> SeedError {
    SeedError::Invalid(what)
}

/// The whole file.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    /// Groups of users.
    #[serde(default)]
    pub groups: Vec<SeedGroup>,
    /// Custom scopes.
    #[serde(default)]
    pub scopes: Vec<SeedScope>,
    /// APIs (resource servers).
    #[serde(default)]
    pub apis: Vec<SeedApi>,
    /// Relying parties.
    #[serde(default)]
    pub clients: Vec<SeedClient>,
    /// People.
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Upstream identity providers people may sign in through.
    #[serde(default)]
    pub upstreams: Vec<crate::admin::upstreams::UpstreamSettings>,
}

/// One `[[groups]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    /// `[a-z0-9][a-z0-9._-]*`, unique.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

/// One `[[scopes]]` entry: a custom scope and the attributes it releases.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedScope {
    /// The scope value.
    pub name: String,
    /// Shown on the consent screen.
    #[serde(default)]
    pub description: String,
    /// User attributes it releases.
    #[serde(default)]
    pub claims: Vec<String>,
}

/// An API scope: a name, or a table with a description.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum SeedApiScope {
    /// Just the name.
    Name(String),
    /// With words for the consent screen.
    Described {
        /// The scope value.
        name: String,
        /// What it lets the application do.
        #[serde(default)]
        description: String,
    },
}

/// One `[[apis]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedApi {
    /// Absolute URI without fragment.
    pub identifier: String,
    /// Display name (defaults to the identifier).
    #[serde(default)]
    pub name: String,
    /// Its scopes.
    #[serde(default)]
    pub scopes: Vec<SeedApiScope>,
    /// Access token lifetime in seconds.
    pub access_token_ttl: Option<i64>,
    /// RS256 (default), ES256 or EdDSA.
    pub signing_alg: Option<String>,
    /// Role → the groups that hold it.
    #[serde(default)]
    pub roles: Roles,
}

impl SeedApi {
    fn record(&self) -> ApiRecord {
        ApiRecord {
            identifier: self.identifier.clone(),
            name: self.name.clone(),
            scopes: self
                .scopes
                .iter()
                .map(|s| match s {
                    SeedApiScope::Name(name) => ApiScope {
                        name: name.clone(),
                        description: String::new(),
                    },
                    SeedApiScope::Described { name, description } => ApiScope {
                        name: name.clone(),
                        description: description.clone(),
                    },
                })
                .collect(),
            roles: self.roles.clone(),
            access_token_ttl: self.access_token_ttl,
            signing_alg: self.signing_alg.clone().unwrap_or_else(|| "RS256".into()),
        }
    }
}

/// One `[[clients]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedClient {
    /// Public identifier.
    pub client_id: String,
    /// Display name (defaults to the id).
    pub name: Option<String>,
    /// Omitted: a public client, which must use PKCE.
    pub client_secret: Option<String>,
    /// Exact redirect URIs.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Exact post-logout redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types (default: authorization_code).
    pub grant_types: Option<Vec<String>>,
    /// Scopes it may ask for (default: openid profile email).
    pub scopes: Option<Vec<String>>,
    /// Ask users for consent (default true).
    pub require_consent: Option<bool>,
    /// Require a second factor (default false).
    pub require_mfa: Option<bool>,
    /// May obtain the `gatehouse:admin` scope for the admin API (default
    /// false; needs a secret and client_credentials).
    #[serde(default)]
    pub admin: bool,
    /// Access token lifetime in seconds (default: the server's).
    pub access_token_ttl: Option<i64>,
    /// Refresh token idle lifetime in seconds (default: the server's).
    pub refresh_token_idle_ttl: Option<i64>,
    /// Refresh token absolute lifetime in seconds (default: the server's).
    pub refresh_token_absolute_ttl: Option<i64>,
    /// APIs it may ask tokens for with `resource`.
    #[serde(default)]
    pub apis: Vec<String>,
    /// Only members of these groups may sign in to it.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// APIs whose tokens it may introspect (confidential clients).
    #[serde(default)]
    pub introspects: Vec<String>,
    /// Role → the groups that hold it.
    #[serde(default)]
    pub roles: Roles,
    /// Where logout tokens are posted when a session it got tokens in ends
    /// (Back-Channel Logout 1.0 §2.2).
    pub backchannel_logout_uri: Option<String>,
    /// Whether its logout tokens must carry `sid` (default false; Gatehouse
    /// always sends it).
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
}

/// One `[[users]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// Sign-in name.
    pub username: String,
    /// Plain-text password (hashed with argon2id on load).
    pub password: String,
    /// Email address.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Admin role.
    #[serde(default)]
    pub admin: bool,
    /// Base32 TOTP secret: MFA already enrolled.
    pub totp_secret: Option<String>,
    /// Whether the email address is verified (default false).
    #[serde(default)]
    pub email_verified: bool,
    /// Groups; when given, exactly these (absent: memberships are kept).
    pub groups: Option<Vec<String>>,
    /// Custom attributes; when given, exactly these (absent: kept).
    pub claims: Option<Map<String, Value>>,
    /// Standard claims (OpenID Connect Core §5.1).
    pub given_name: Option<String>,
    /// See OpenID Connect Core §5.1.
    pub family_name: Option<String>,
    /// See OpenID Connect Core §5.1.
    pub middle_name: Option<String>,
    /// See OpenID Connect Core §5.1.
    pub nickname: Option<String>,
    /// See OpenID Connect Core §5.1.
    pub picture: Option<String>,
    /// See OpenID Connect Core §5.1.
    pub website: Option<String>,
    /// See OpenID Connect Core §5.1.
    pub gender: Option<String>,
    /// See OpenID Connect Core §5.1.
    pub birthdate: Option<String>,
    /// See OpenID Connect Core §5.1.
    pub zoneinfo: Option<String>,
    /// See OpenID Connect Core §5.1.
    pub locale: Option<String>,
    /// See OpenID Connect Core §5.1.
    pub phone_number: Option<String>,
    /// See OpenID Connect Core §5.1.
    #[serde(default)]
    pub phone_number_verified: bool,
    /// See OpenID Connect Core §5.1.1.
    pub address: Option<Address>,
}

impl SeedUser {
    /// The standard claims as given.
    fn profile(&self) -> Profile {
        Profile {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            middle_name: self.middle_name.clone(),
            nickname: self.nickname.clone(),
            picture: self.picture.clone(),
            website: self.website.clone(),
            gender: self.gender.clone(),
            birthdate: self.birthdate.clone(),
            zoneinfo: self.zoneinfo.clone(),
            locale: self.locale.clone(),
            phone_number: self.phone_number.clone(),
            phone_number_verified: self.phone_number_verified,
            address: self.address.clone(),
        }
    }
}

impl SeedClient {
    /// The client as the shared checks see it (defaults filled in).
    fn spec(&self) -> ClientSpec {
        ClientSpec {
            client_id: self.client_id.clone(),
            name: self.name.clone().unwrap_or_default(),
            public: self.client_secret.is_none(),
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            grant_types: self.grant_types.clone().unwrap_or_default(),
            scopes: self
                .scopes
                .clone()
                .unwrap_or_else(|| vec!["openid".into(), "profile".into(), "email".into()]),
            require_consent: self.require_consent.unwrap_or(true),
            require_mfa: self.require_mfa.unwrap_or(false),
            is_admin: self.admin,
            lifetimes: Lifetimes {
                access_token: self.access_token_ttl,
                refresh_token_idle: self.refresh_token_idle_ttl,
                refresh_token_absolute: self.refresh_token_absolute_ttl,
            },
            access: ClientAccess {
                apis: self.apis.clone(),
                allowed_groups: self.allowed_groups.clone(),
                introspects: self.introspects.clone(),
                roles: self.roles.clone(),
            },
            backchannel: Backchannel {
                uri: self.backchannel_logout_uri.clone(),
                session_required: self.backchannel_logout_session_required,
            },
        }
    }
}

impl SeedGroup {
    /// The group's name and description, checked.
    pub(super) fn checked(&self) -> Result<(String, String), SeedError> {
        claims::check_group_name(&self.name).map_err(|e| invalid(format!("group: {e}")))?;
        let description = groups::check_description(&self.description)
            .map_err(|e| invalid(format!("group {:?}: {e}", self.name)))?;
        Ok((self.name.clone(), description))
    }
}

impl SeedScope {
    /// The custom scope, checked.
    pub(super) fn checked(&self) -> Result<ScopeRecord, SeedError> {
        apis::validated_scope(ScopeRecord {
            name: self.name.clone(),
            description: self.description.clone(),
            claims: self.claims.clone(),
        })
        .map_err(|e| invalid(format!("scope {:?}: {e}", self.name)))
    }
}

impl SeedApi {
    /// The API, checked.
    pub(super) fn checked(&self) -> Result<ApiRecord, SeedError> {
        apis::validated(self.record())
            .map_err(|e| invalid(format!("API {:?}: {e}", self.identifier)))
    }
}

impl SeedClient {
    /// The client, checked, with its secret hashed.
    pub(super) fn checked(&self) -> Result<NewClient, SeedError> {
        if self.client_secret.as_deref().is_some_and(str::is_empty) {
            return Err(invalid(format!(
                "client {:?}: client_secret is empty",
                self.client_id
            )));
        }
        let spec = self
            .spec()
            .validated()
            .map_err(|e| invalid(format!("client {:?}: {e}", self.client_id)))?;
        Ok(spec.to_new_client(self.client_secret.as_deref().map(token_hash)))
    }
}

/// A user, checked: what the store takes but the password's hash.
pub(super) struct PlannedUser {
    /// Everything but `password_hash`, filled in once hashed.
    pub user: NewUser,
    /// The password to hash.
    pub password: String,
    /// Whether the seed names the custom attributes (else they are kept).
    pub with_claims: bool,
    /// The groups, when the seed names them (else memberships are kept).
    pub groups: Option<Vec<String>>,
}

impl SeedUser {
    /// The user, checked.
    pub(super) fn checked(&self) -> Result<PlannedUser, SeedError> {
        let who = |e: &dyn std::fmt::Display| invalid(format!("user {:?}: {e}", self.username));
        // The same rule as for users created by an admin: what can be
        // typed at the sign-in screen.
        crate::admin::users::check_username(&self.username).map_err(|e| who(&e))?;
        if self.password.is_empty() {
            return Err(who(&"password is empty"));
        }
        if self.password.len() > crate::model::limits::PASSWORD {
            return Err(who(&format_args!(
                "password is longer than {} bytes",
                crate::model::limits::PASSWORD
            )));
        }
        if let Some(secret) = &self.totp_secret {
            if !totp::is_valid_secret(secret) {
                return Err(who(&"totp_secret is not valid base32"));
            }
        }
        let (name, email) = profile::check_profile(self.name.as_deref(), self.email.as_deref())
            .map_err(|e| who(&e))?;
        let standard = profile::check_standard_claims(self.profile()).map_err(|e| who(&e))?;
        if let Some(c) = &self.claims {
            users::check_claims(c).map_err(|e| who(&e))?;
        }
        for g in self.groups.iter().flatten() {
            claims::check_group_name(g).map_err(|e| who(&e))?;
        }
        Ok(PlannedUser {
            user: NewUser {
                username: self.username.clone(),
                email_verified: self.email_verified && email.is_some(),
                email,
                name,
                profile: standard,
                claims: self.claims.clone().unwrap_or_default(),
                password_hash: String::new(),
                is_admin: self.admin,
                totp_secret: self
                    .totp_secret
                    .as_ref()
                    .map(|s| s.trim().replace(' ', "").to_uppercase()),
            },
            password: self.password.clone(),
            with_claims: self.claims.is_some(),
            groups: self.groups.clone(),
        })
    }
}
