//! Browser sessions. The cookie carries a random value; only its SHA-256 is
//! stored, so the table alone cannot be used to take over a session.

use super::{Store, StoreError};
use sqlx::Row;

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// Public session id, used as the `sid` claim.
    pub sid: String,
    /// Who signed in.
    pub user_id: String,
    /// When the user last authenticated (unix seconds).
    pub auth_time: i64,
    /// Authentication methods used, space-separated (`pwd otp`).
    pub amr: String,
    /// When the session ends.
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session under the hash of its cookie value.
    pub async fn create_session(
        &self,
        id_hash: &str,
        session: &SessionRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO browser_sessions (id_hash, sid, user_id, auth_time, amr, created_at,
                                           last_seen, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        )
        .bind(id_hash)
        .bind(&session.sid)
        .bind(&session.user_id)
        .bind(session.auth_time)
        .bind(&session.amr)
        .bind(now)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Finds a live session by the hash of its cookie value.
    pub async fn session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT sid, user_id, auth_time, amr, expires_at FROM browser_sessions
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(SessionRecord {
                sid: row.try_get("sid")?,
                user_id: row.try_get("user_id")?,
                auth_time: row.try_get("auth_time")?,
                amr: row.try_get("amr")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Ends a session.
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM browser_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
