//! Registered clients (relying parties). Secrets are stored as SHA-256 hashes.

use super::{flag, json, json_list, to_json, to_json_list, Store, StoreError};
use crate::model::{ClientRecord, Lifetimes, NewClient};
use sqlx::any::AnyRow;
use sqlx::Row;

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
        is_admin: flag(row, "is_admin")?,
        lifetimes: Lifetimes {
            access_token: row.try_get("access_token_ttl")?,
            refresh_token_idle: row.try_get("refresh_token_idle_ttl")?,
            refresh_token_absolute: row.try_get("refresh_token_absolute_ttl")?,
        },
        apis: json_list(row, "apis")?,
        allowed_groups: json_list(row, "allowed_groups")?,
        introspects: json_list(row, "introspects")?,
        roles: json(row, "roles")?,
        backchannel_logout_uri: row.try_get("backchannel_logout_uri")?,
        backchannel_logout_session_required: flag(row, "backchannel_logout_session_required")?,
    })
}

/// The columns every client query reads (a macro, so `concat!` can build
/// constant statements on the token path without a `format!` per request).
macro_rules! client_columns {
    () => {
        "client_id, name, secret_hash, redirect_uris, post_logout_redirect_uris,
         grant_types, scopes, require_consent, require_mfa, is_admin, access_token_ttl,
         refresh_token_idle_ttl, refresh_token_absolute_ttl, apis, allowed_groups, introspects,
         roles, backchannel_logout_uri, backchannel_logout_session_required"
    };
}

impl Store {
    /// Finds a client by its id.
    ///
    /// Every token request authenticates its client, so a found client is
    /// kept in the read cache; every write below invalidates it.
    pub async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let (ticket, cached) = self.cache.find(&self.cache.clients, client_id);
        if let Some(client) = cached {
            return Ok(Some(ClientRecord::clone(&client)));
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE client_id = $1"
        ))
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        let client = row.as_ref().map(from_row).transpose()?;
        if let (Some(t), Some(found)) = (ticket, &client) {
            self.cache
                .clients
                .put(client_id, t, std::sync::Arc::new(found.clone()));
        }
        Ok(client)
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
                                  created_at, updated_at, is_admin, apis,
                                  allowed_groups, introspects, roles,
                                  backchannel_logout_uri,
                                  backchannel_logout_session_required)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15,
                     $16, $17, $18, $19, $20)
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
                 is_admin = excluded.is_admin,
                 apis = excluded.apis,
                 allowed_groups = excluded.allowed_groups,
                 introspects = excluded.introspects,
                 roles = excluded.roles,
                 backchannel_logout_uri = excluded.backchannel_logout_uri,
                 backchannel_logout_session_required =
                     excluded.backchannel_logout_session_required,
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
        .bind(i64::from(client.is_admin))
        .bind(to_json_list(&client.apis))
        .bind(to_json_list(&client.allowed_groups))
        .bind(to_json_list(&client.introspects))
        .bind(to_json(&client.roles)?)
        .bind(&client.backchannel_logout_uri)
        .bind(i64::from(client.backchannel_logout_session_required))
        .execute(&self.writer)
        .await?;
        self.changed().await;
        Ok(())
    }

    /// Creates a client; false if the id is taken.
    pub async fn insert_client(&self, client: &NewClient, now: i64) -> Result<bool, StoreError> {
        if self.client(&client.client_id).await?.is_some() {
            return Ok(false);
        }
        // Two admins racing on one id: the second upsert would overwrite the
        // first, so the insert itself must refuse a duplicate.
        let done = sqlx::query(
            "INSERT INTO clients (client_id, name, secret_hash, redirect_uris,
                                  post_logout_redirect_uris, grant_types, scopes,
                                  require_consent, require_mfa, access_token_ttl,
                                  refresh_token_idle_ttl, refresh_token_absolute_ttl,
                                  created_at, updated_at, is_admin, apis,
                                  allowed_groups, introspects, roles,
                                  backchannel_logout_uri,
                                  backchannel_logout_session_required)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15,
                     $16, $17, $18, $19, $20)
             ON CONFLICT (client_id) DO NOTHING",
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
        .bind(i64::from(client.is_admin))
        .bind(to_json_list(&client.apis))
        .bind(to_json_list(&client.allowed_groups))
        .bind(to_json_list(&client.introspects))
        .bind(to_json(&client.roles)?)
        .bind(&client.backchannel_logout_uri)
        .bind(i64::from(client.backchannel_logout_session_required))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every client, by id.
    pub async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients ORDER BY client_id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces a client's secret hash.
    pub async fn set_client_secret_hash(
        &self,
        client_id: &str,
        secret_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE clients SET secret_hash = $1, updated_at = $2 WHERE client_id = $3")
            .bind(secret_hash)
            .bind(now)
            .bind(client_id)
            .execute(&self.writer)
            .await?;
        self.changed().await;
        Ok(())
    }

    /// Deletes a client with its grants, codes, consents and pending
    /// sign-ins; false if there was no such client.
    pub async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        for sql in [
            "DELETE FROM refresh_tokens WHERE grant_id IN (SELECT id FROM grants WHERE client_id = $1)",
            "DELETE FROM grants WHERE client_id = $1",
            "DELETE FROM authorization_codes WHERE client_id = $1",
            "DELETE FROM consents WHERE client_id = $1",
            "DELETE FROM auth_requests WHERE client_id = $1",
        ] {
            sqlx::query(sql).bind(client_id).execute(&mut *tx).await?;
        }
        let done = sqlx::query("DELETE FROM clients WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.changed().await;
        Ok(done.rows_affected() > 0)
    }
}
