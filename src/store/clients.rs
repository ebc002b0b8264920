//! Registered clients (relying parties). Secrets are stored as SHA-256 hashes.

use super::{flag, json_list, to_json_list, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

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
    /// Lifetimes for this client's tokens; `None` fields use the defaults.
    pub lifetimes: Lifetimes,
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
    /// Token lifetimes.
    pub lifetimes: Lifetimes,
}

fn from_row(row: &AnyRow) -> Result<ClientRecord, StoreError> {
    Ok(ClientRecord {
        client_id: row.try_get("client_id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        redirect_uris: json_list(row, "redirect_uris")?,
        post_logout_redirect_uris: json_list(row, "post_logout_redirect_uris")?,
        grant_types: json_list(row, "grant_types")?,
        scopes: json_list(row, "scopes")?,
        require_consent: flag(row, "require_consent")?,
        require_mfa: flag(row, "require_mfa")?,
        lifetimes: Lifetimes {
            access_token: row.try_get("access_token_ttl")?,
            refresh_token_idle: row.try_get("refresh_token_idle_ttl")?,
            refresh_token_absolute: row.try_get("refresh_token_absolute_ttl")?,
        },
    })
}

impl Store {
    /// Finds a client by its id.
    pub async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT client_id, name, secret_hash, redirect_uris, post_logout_redirect_uris,
                    grant_types, scopes, require_consent, require_mfa, access_token_ttl,
                    refresh_token_idle_ttl, refresh_token_absolute_ttl
             FROM clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every registered redirect URI of every client.
    pub async fn all_redirect_uris(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT redirect_uris FROM clients")
            .fetch_all(&self.pool)
            .await?;
        let mut uris = Vec::new();
        for row in &rows {
            uris.extend(json_list(row, "redirect_uris")?);
        }
        Ok(uris)
    }

    /// Creates the client or replaces the settings of the one with the same id.
    pub async fn upsert_client(&self, client: &NewClient, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clients (client_id, name, secret_hash, redirect_uris,
                                  post_logout_redirect_uris, grant_types, scopes,
                                  require_consent, require_mfa, access_token_ttl,
                                  refresh_token_idle_ttl, refresh_token_absolute_ttl,
                                  created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
             ON CONFLICT (client_id) DO UPDATE SET
                 name = excluded.name,
                 secret_hash = excluded.secret_hash,
                 redirect_uris = excluded.redirect_uris,
                 post_logout_redirect_uris = excluded.post_logout_redirect_uris,
                 grant_types = excluded.grant_types,
                 scopes = excluded.scopes,
                 require_consent = excluded.require_consent,
                 require_mfa = excluded.require_mfa,
                 access_token_ttl = excluded.access_token_ttl,
                 refresh_token_idle_ttl = excluded.refresh_token_idle_ttl,
                 refresh_token_absolute_ttl = excluded.refresh_token_absolute_ttl,
                 updated_at = excluded.updated_at",
        )
        .bind(&client.client_id)
        .bind(&client.name)
        .bind(&client.secret_hash)
        .bind(to_json_list(&client.redirect_uris))
        .bind(to_json_list(&client.post_logout_redirect_uris))
        .bind(to_json_list(&client.grant_types))
        .bind(to_json_list(&client.scopes))
        .bind(i64::from(client.require_consent))
        .bind(i64::from(client.require_mfa))
        .bind(client.lifetimes.access_token)
        .bind(client.lifetimes.refresh_token_idle)
        .bind(client.lifetimes.refresh_token_absolute)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
