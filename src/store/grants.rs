//! Grants: one per authorization (a token family). Access tokens carry their
//! grant id, refresh tokens point at it, and revoking the grant revokes them
//! all (RFC 9700 §4.14). Refresh tokens are stored as SHA-256 hashes.

use super::cache::TokenState;
use super::{Store, StoreError};
use crate::model::{GrantRecord, GrantSummary, NewGrant, RefreshRecord};
use sqlx::Row;

/// Inserts a grant and its first refresh token inside `tx`.
pub(super) async fn insert_grant(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    grant: &NewGrant,
    refresh_token_hash: Option<(&str, i64)>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO grants (id, user_id, client_id, scope, sid, auth_time, amr, created_at,
                             expires_at, resource)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&grant.id)
    .bind(&grant.user_id)
    .bind(&grant.client_id)
    .bind(&grant.scope)
    .bind(&grant.sid)
    .bind(grant.auth_time)
    .bind(&grant.amr)
    .bind(now)
    .bind(grant.expires_at)
    .bind(&grant.resource)
    .execute(&mut **tx)
    .await?;
    if let Some((hash, expires_at)) = refresh_token_hash {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(hash)
        .bind(&grant.id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Stores a grant made without a code (test mode mints refresh tokens
    /// this way), with its first refresh token.
    pub async fn insert_grant(
        &self,
        grant: &NewGrant,
        refresh_token_hash: Option<(&str, i64)>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        insert_grant(&mut tx, grant, refresh_token_hash, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes a grant: its refresh tokens and access tokens stop working.
    pub async fn revoke_grant(&self, grant_id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(grant_id)
            .execute(&self.writer)
            .await?;
        self.changed().await;
        Ok(())
    }
}

const GRANT_COLUMNS: &str = "g.id, g.user_id, g.client_id, g.scope, g.sid, g.auth_time, g.amr, \
                             g.created_at, g.expires_at AS grant_expires_at, g.revoked_at, \
                             g.resource";

fn grant_from_row(row: &sqlx::any::AnyRow) -> Result<GrantRecord, StoreError> {
    Ok(GrantRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        client_id: row.try_get("client_id")?,
        scope: row.try_get("scope")?,
        sid: row.try_get("sid")?,
        auth_time: row.try_get("auth_time")?,
        amr: row.try_get("amr")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("grant_expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        resource: row.try_get("resource")?,
    })
}

impl Store {
    /// Loads a grant.
    pub async fn grant(&self, grant_id: &str) -> Result<Option<GrantRecord>, StoreError> {
        let sql = format!("SELECT {GRANT_COLUMNS} FROM grants g WHERE g.id = $1");
        let row = sqlx::query(&sql)
            .bind(grant_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    /// Loads a refresh token (by hash) and its grant.
    pub async fn refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS}, r.created_at AS token_created_at,
                    r.expires_at AS token_expires_at,
                    COALESCE(r.used_at, s.created_at) AS used_at
             FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id
             LEFT JOIN refresh_tokens s ON s.rotated_from = r.token_hash
             WHERE r.token_hash = $1"
        );
        let token_hash = token_hash.to_string();
        self.read_lanes
            .run(move |connection| {
                Box::pin(async move {
                    let row = sqlx::query(&sql)
                        .bind(token_hash)
                        .fetch_optional(&mut *connection)
                        .await?;
                    row.map(|row| {
                        Ok(RefreshRecord {
                            grant: grant_from_row(&row)?,
                            issued_at: row.try_get("token_created_at")?,
                            expires_at: row.try_get("token_expires_at")?,
                            used_at: row.try_get("used_at")?,
                        })
                    })
                    .transpose()
                })
            })
            .await
    }

    /// Rotates a refresh token out and stores its successor, atomically: of
    /// any number of concurrent callers presenting the same token, exactly
    /// one gets `true`, and only that one's successor is stored.
    ///
    /// One statement: the successor is inserted only while `old_hash` is
    /// unexpired and has no successor yet (the unique index on
    /// `rotated_from` settles a race) and its grant is neither revoked nor
    /// over, so there is no transaction to hold open across round trips, no
    /// state in which one half is done, and a family revoked after the
    /// caller read it issues nothing more.
    pub async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        grant_id: &str,
        now: i64,
        new_expires_at: i64,
    ) -> Result<bool, StoreError> {
        let (new_hash, old_hash, grant_id) = (
            new_hash.to_string(),
            old_hash.to_string(),
            grant_id.to_string(),
        );
        self.write_lanes
            .run(move |connection| {
                Box::pin(async move {
                    let inserted = sqlx::query(
                        "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, rotated_from)
                         SELECT $1, grant_id, $2, $3, token_hash FROM refresh_tokens
                         WHERE token_hash = $4 AND grant_id = $5 AND used_at IS NULL AND expires_at > $2
                           AND EXISTS (SELECT 1 FROM grants g
                                       WHERE g.id = $5 AND g.revoked_at IS NULL AND g.expires_at > $2)
                         ON CONFLICT (rotated_from) DO NOTHING",
                    )
                    .bind(new_hash)
                    .bind(now)
                    .bind(new_expires_at)
                    .bind(old_hash)
                    .bind(grant_id)
                    .execute(&mut *connection)
                    .await?
                    .rows_affected();
                    Ok(inserted == 1)
                })
            })
            .await
    }

    /// Remembers a revoked access token until it expires.
    pub async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2)
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        self.changed().await;
        Ok(())
    }

    /// Whether an access token may still be used: its `jti` was not revoked
    /// and its grant (if it has one) is live. Every userinfo and
    /// introspection request asks, so a usable answer is kept in the read
    /// cache (with the grant's end, checked against `now` each time), and a
    /// miss costs one round trip.
    pub async fn access_token_usable(
        &self,
        jti: &str,
        grant_id: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let key = format!("{jti} {}", grant_id.unwrap_or(""));
        let (ticket, cached) = self.cache.find(&self.cache.tokens, &key);
        if let Some(state) = cached {
            return Ok(state.grant_expires_at.is_none_or(|end| end > now));
        }
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM revoked_access_tokens WHERE jti = $1) AS revoked,
                    (SELECT expires_at FROM grants
                     WHERE id = $2 AND revoked_at IS NULL) AS grant_expires_at",
        )
        .bind(jti)
        .bind(grant_id)
        .fetch_one(&self.pool)
        .await?;
        let revoked: i64 = row.try_get("revoked")?;
        let grant_expires_at: Option<i64> = row.try_get("grant_expires_at")?;
        if revoked != 0 || (grant_id.is_some() && grant_expires_at.is_none()) {
            return Ok(false);
        }
        let state = TokenState { grant_expires_at };
        if let Some(t) = ticket {
            self.cache.tokens.put(&key, t, state);
        }
        Ok(grant_expires_at.is_none_or(|end| end > now))
    }
}

impl Store {
    /// Live grants of one user, or of one client (exactly one is set),
    /// newest first.
    pub async fn live_grants(
        &self,
        user_id: Option<&str>,
        client_id: Option<&str>,
        now: i64,
    ) -> Result<Vec<GrantSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.id, g.user_id, u.username, g.client_id, c.name AS client_name, g.scope,
                    g.created_at, g.expires_at
             FROM grants g
             JOIN clients c ON c.client_id = g.client_id
             LEFT JOIN users u ON u.id = g.user_id
             WHERE g.revoked_at IS NULL AND g.expires_at > $1
               AND ($2 IS NULL OR g.user_id = $2)
               AND ($3 IS NULL OR g.client_id = $3)
             ORDER BY g.created_at DESC, g.id
             LIMIT 500",
        )
        .bind(now)
        .bind(user_id)
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(GrantSummary {
                    id: row.try_get("id")?,
                    user_id: row.try_get("user_id")?,
                    username: row.try_get("username")?,
                    client_id: row.try_get("client_id")?,
                    client_name: row.try_get("client_name")?,
                    scope: row.try_get("scope")?,
                    created_at: row.try_get("created_at")?,
                    expires_at: row.try_get("expires_at")?,
                })
            })
            .collect()
    }

    /// Revokes every live grant of the user.
    pub async fn revoke_user_grants(&self, user_id: &str, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE grants SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&self.writer)
        .await?;
        self.changed().await;
        Ok(done.rows_affected())
    }
}
