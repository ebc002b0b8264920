//! The seed file: clients and users loaded at start-up (`serve --seed`) or by
//! `gatehouse seed FILE`. Loading is idempotent: records are matched by
//! `client_id` and `username` and updated in place, never duplicated.

use crate::account::password::hash_password;
use crate::admin::clients::ClientSpec;
use crate::crypto::{token_hash, totp};
use crate::model::{Lifetimes, NewUser};
use crate::store::Store;
use serde::Deserialize;
use std::path::Path;

/// The whole file.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    /// Relying parties.
    #[serde(default)]
    pub clients: Vec<SeedClient>,
    /// People.
    #[serde(default)]
    pub users: Vec<SeedUser>,
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
        }
        Ok(())
    }

    /// Stores every client and user (creating or updating).
    pub async fn apply(&self, store: &Store, now: i64) -> Result<(), SeedError> {
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
            let user = NewUser {
                username: u.username.clone(),
                email: u.email.clone(),
                name: u.name.clone(),
                password_hash,
                is_admin: u.admin,
                totp_secret: u
                    .totp_secret
                    .as_ref()
                    .map(|s| s.trim().replace(' ', "").to_uppercase()),
            };
            store.upsert_user(&user, now).await?;
        }
        tracing::info!(
            clients = self.clients.len(),
            users = self.users.len(),
            "seed loaded"
        );
        Ok(())
    }
}
