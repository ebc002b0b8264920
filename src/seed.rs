//! The seed file: groups, custom scopes, APIs, clients and users loaded at
//! start-up (`serve --seed`) or by `gatehouse seed FILE`. Loading is
//! idempotent: records are matched by name, identifier, `client_id` and
//! `username` and updated in place, never duplicated. Everything is checked
//! (shapes, reserved claim names, and that every group and API named exists
//! in the file or the database) before anything is stored, so a seed that
//! fails validation changes nothing.

use crate::account::password::hash_password;
use crate::account::profile;
use crate::admin::clients::{ClientAccess, ClientSpec};
use crate::admin::{apis, groups, users};
use crate::crypto::{token_hash, totp};
use crate::model::{Address, ApiRecord, ApiScope, Lifetimes, NewUser, Profile, Roles, ScopeRecord};
use crate::oauth::claims;
use crate::store::Store;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::Path;

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

/// Why a seed file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// Unreadable file.
    #[error("cannot read seed file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or unknown fields.
    #[error("seed file {path} is invalid: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A value is not acceptable.
    #[error("seed file: {0}")]
    Invalid(String),
    /// Storing failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Password hashing failed.
    #[error(transparent)]
    Account(#[from] crate::account::AccountError),
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
        }
    }
}

/// Reads and validates a seed file.
pub fn read(path: &Path) -> Result<SeedFile, SeedError> {
    let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let seed: SeedFile = toml::from_str(&text).map_err(|e| SeedError::Parse {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    seed.validate()?;
    Ok(seed)
}

impl SeedFile {
    /// Checks every entry before anything is stored.
    pub fn validate(&self) -> Result<(), SeedError> {
        let invalid = |what: String| SeedError::Invalid(what);
        let mut names: Vec<&str> = Vec::new();
        for g in &self.groups {
            claims::check_group_name(&g.name).map_err(|e| invalid(format!("group: {e}")))?;
            groups::check_description(&g.description)
                .map_err(|e| invalid(format!("group {:?}: {e}", g.name)))?;
            if names.contains(&g.name.as_str()) {
                return Err(invalid(format!("group {:?} is listed twice", g.name)));
            }
            names.push(&g.name);
        }
        for sc in &self.scopes {
            apis::validated_scope(ScopeRecord {
                name: sc.name.clone(),
                description: sc.description.clone(),
                claims: sc.claims.clone(),
            })
            .map_err(|e| invalid(format!("scope {:?}: {e}", sc.name)))?;
        }
        for a in &self.apis {
            apis::validated(a.record())
                .map_err(|e| invalid(format!("API {:?}: {e}", a.identifier)))?;
        }
        for c in &self.clients {
            if c.client_secret.as_deref().is_some_and(str::is_empty) {
                return Err(SeedError::Invalid(format!(
                    "client {:?}: client_secret is empty",
                    c.client_id
                )));
            }
            c.spec()
                .validated()
                .map_err(|e| SeedError::Invalid(format!("client {:?}: {e}", c.client_id)))?;
        }
        for u in &self.users {
            if u.username.trim().is_empty() || u.username.trim() != u.username {
                return Err(SeedError::Invalid(format!(
                    "user {:?}: username must be non-empty without surrounding spaces",
                    u.username
                )));
            }
            if u.password.is_empty() {
                return Err(SeedError::Invalid(format!(
                    "user {:?}: password is empty",
                    u.username
                )));
            }
            if let Some(secret) = &u.totp_secret {
                if !totp::is_valid_secret(secret) {
                    return Err(SeedError::Invalid(format!(
                        "user {:?}: totp_secret is not valid base32",
                        u.username
                    )));
                }
            }
            profile::check_profile(u.name.as_deref(), u.email.as_deref())
                .map_err(|e| invalid(format!("user {:?}: {e}", u.username)))?;
            profile::check_standard_claims(u.profile())
                .map_err(|e| invalid(format!("user {:?}: {e}", u.username)))?;
            if let Some(c) = &u.claims {
                users::check_claims(c)
                    .map_err(|e| invalid(format!("user {:?}: {e}", u.username)))?;
            }
            for g in u.groups.iter().flatten() {
                claims::check_group_name(g)
                    .map_err(|e| invalid(format!("user {:?}: {e}", u.username)))?;
            }
        }
        Ok(())
    }

    /// Checks that every group and API the file names is in the file or
    /// already stored.
    async fn check_references(&self, store: &Store) -> Result<(), SeedError> {
        let mut known_groups: Vec<String> = self.groups.iter().map(|g| g.name.clone()).collect();
        known_groups.extend(store.groups().await?.into_iter().map(|g| g.name));
        let mut known_apis: Vec<String> = self.apis.iter().map(|a| a.identifier.clone()).collect();
        known_apis.extend(store.apis().await?.into_iter().map(|a| a.identifier));
        let group = |owner: String, name: &String| {
            if known_groups.contains(name) {
                Ok(())
            } else {
                Err(SeedError::Invalid(format!(
                    "{owner}: there is no group {name:?} (add it under [[groups]])"
                )))
            }
        };
        for a in &self.apis {
            for g in a.roles.values().flatten() {
                group(format!("API {:?}", a.identifier), g)?;
            }
        }
        for c in &self.clients {
            for g in c.allowed_groups.iter().chain(c.roles.values().flatten()) {
                group(format!("client {:?}", c.client_id), g)?;
            }
            for a in c.apis.iter().chain(&c.introspects) {
                if !known_apis.contains(a) {
                    return Err(SeedError::Invalid(format!(
                        "client {:?}: there is no API {a:?} (add it under [[apis]])",
                        c.client_id
                    )));
                }
            }
        }
        for u in &self.users {
            for g in u.groups.iter().flatten() {
                group(format!("user {:?}", u.username), g)?;
            }
        }
        Ok(())
    }

    /// Stores every group, scope, API, client and user (creating or updating).
    pub async fn apply(&self, store: &Store, now: i64) -> Result<(), SeedError> {
        self.validate()?;
        self.check_references(store).await?;
        for g in &self.groups {
            let description = g.description.trim();
            store.upsert_group(&g.name, description, now).await?;
        }
        for sc in &self.scopes {
            let scope = apis::validated_scope(ScopeRecord {
                name: sc.name.clone(),
                description: sc.description.clone(),
                claims: sc.claims.clone(),
            })
            .map_err(|e| SeedError::Invalid(format!("scope {:?}: {e}", sc.name)))?;
            store.upsert_scope(&scope, now).await?;
        }
        for a in &self.apis {
            let api = apis::validated(a.record())
                .map_err(|e| SeedError::Invalid(format!("API {:?}: {e}", a.identifier)))?;
            store.upsert_api(&api, now).await?;
        }
        for c in &self.clients {
            let spec = c
                .spec()
                .validated()
                .map_err(|e| SeedError::Invalid(format!("client {:?}: {e}", c.client_id)))?;
            let client = spec.to_new_client(c.client_secret.as_deref().map(token_hash));
            store.upsert_client(&client, now).await?;
        }
        // Hash every password at once: argon2 runs on the blocking pool, so
        // several users load in the time of one.
        let hashing: Vec<_> = self
            .users
            .iter()
            .map(|u| tokio::spawn(hash_password(u.password.clone())))
            .collect();
        for (u, hashed) in self.users.iter().zip(hashing) {
            let password_hash = hashed
                .await
                .map_err(|_| crate::account::AccountError::Cancelled)??;
            let (name, email) = profile::check_profile(u.name.as_deref(), u.email.as_deref())
                .map_err(|e| SeedError::Invalid(format!("user {:?}: {e}", u.username)))?;
            let standard = profile::check_standard_claims(u.profile())
                .map_err(|e| SeedError::Invalid(format!("user {:?}: {e}", u.username)))?;
            let user = NewUser {
                username: u.username.clone(),
                email_verified: u.email_verified && email.is_some(),
                email,
                name,
                profile: standard,
                claims: u.claims.clone().unwrap_or_default(),
                password_hash,
                is_admin: u.admin,
                totp_secret: u
                    .totp_secret
                    .as_ref()
                    .map(|s| s.trim().replace(' ', "").to_uppercase()),
            };
            let id = store.upsert_user(&user, now, u.claims.is_some()).await?;
            if let Some(groups) = &u.groups {
                store.set_memberships(&id, groups).await?;
            }
        }
        tracing::info!(
            groups = self.groups.len(),
            apis = self.apis.len(),
            clients = self.clients.len(),
            users = self.users.len(),
            "seed loaded"
        );
        Ok(())
    }
}
