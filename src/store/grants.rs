//! Grants: one per authorization (a token family). Access tokens carry their
//! grant id, refresh tokens point at it, and revoking the grant revokes them
//! all (RFC 9700 §4.14). Refresh tokens are stored as SHA-256 hashes.

use super::{Store, StoreError};
use sqlx::Row;

/// What creating a grant takes.
#[derive(Debug, Clone)]
pub struct NewGrant {
    /// Grant id (a UUID), carried in the access tokens.
    pub id: String,
    /// The user, if the grant is on behalf of one.
    pub user_id: Option<String>,
    /// The client.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// Browser session it came from.
    pub sid: Option<String>,
    /// When the user authenticated.
    pub auth_time: Option<i64>,
    /// Methods used, space-separated.
    pub amr: String,
    /// When the whole family ends.
    pub expires_at: i64,
}

impl Store {
    /// Records a new grant and, when given, its first refresh token, in one
    /// transaction: either both exist or neither does.
    pub async fn create_grant(
        &self,
        grant: &NewGrant,
        refresh_token_hash: Option<(&str, i64)>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO grants (id, user_id, client_id, scope, sid, auth_time, amr, created_at,
                                 expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
        .execute(&mut *tx)
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
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether the grant exists, is not revoked and has not expired.
    pub async fn grant_is_active(&self, grant_id: &str, now: i64) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM grants
             WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(grant_id)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = row.try_get("n")?;
        Ok(n > 0)
    }

    /// Revokes a grant: its refresh tokens and access tokens stop working.
    pub async fn revoke_grant(&self, grant_id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(grant_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
