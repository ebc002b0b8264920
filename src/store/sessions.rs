//! Browser sessions. The cookie carries a random value; only its SHA-256 is
//! stored, so the table alone cannot be used to take over a session.

use super::session_endings::{end_sessions, Ending};
use super::{Store, StoreError};
use crate::model::{Device, NewMail, SessionRecord, SessionSummary};
use sqlx::Row;

impl Store {
    /// Stores a new session under the hash of its cookie value.
    pub async fn create_session(
        &self,
        id_hash: &str,
        session: &SessionRecord,
        device: &Device,
        notice: Option<&NewMail>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO browser_sessions (id_hash, sid, user_id, auth_time, amr, created_at,
                                           last_seen, expires_at, user_agent, ip)
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9)",
        )
        .bind(id_hash)
        .bind(&session.sid)
        .bind(&session.user_id)
        .bind(session.auth_time)
        .bind(&session.amr)
        .bind(now)
        .bind(session.expires_at)
        .bind(&device.user_agent)
        .bind(&device.ip)
        .execute(&mut *tx)
        .await?;
        super::outbox::insert_all(&mut tx, notice, now).await?;
        tx.commit().await?;
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

    /// Ends a session (telling its clients, see [`end_sessions`]).
    pub async fn delete_session(&self, id_hash: &str, now: i64) -> Result<(), StoreError> {
        self.ending(Ending::Cookie(id_hash), now).await?;
        Ok(())
    }

    /// The user's live sessions, newest first.
    pub async fn sessions_of_user(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT sid, auth_time, amr, created_at, expires_at, user_agent, ip
             FROM browser_sessions WHERE user_id = $1 AND expires_at > $2
             ORDER BY created_at DESC, sid",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SessionSummary {
                    sid: row.try_get("sid")?,
                    auth_time: row.try_get("auth_time")?,
                    amr: row.try_get("amr")?,
                    created_at: row.try_get("created_at")?,
                    expires_at: row.try_get("expires_at")?,
                    device: Device {
                        user_agent: row.try_get("user_agent")?,
                        ip: row.try_get("ip")?,
                    },
                })
            })
            .collect()
    }

    /// Ends one of the user's sessions by its public id; false if the user
    /// has no such session.
    pub async fn delete_session_of_user(
        &self,
        user_id: &str,
        sid: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let ended = self.ending(Ending::OneOfUser { user_id, sid }, now).await?;
        Ok(ended > 0)
    }

    /// Ends every session of the user except `keep_sid`; returns how many.
    pub async fn delete_other_sessions(
        &self,
        user_id: &str,
        keep_sid: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        self.ending(Ending::OthersOfUser { user_id, keep_sid }, now)
            .await
    }

    /// Records that the session's user has now also passed a second factor.
    pub async fn set_session_amr(&self, sid: &str, amr: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE browser_sessions SET amr = $1 WHERE sid = $2")
            .bind(amr)
            .bind(sid)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Ends every session of the user.
    pub async fn delete_user_sessions(&self, user_id: &str, now: i64) -> Result<u64, StoreError> {
        self.ending(Ending::AllOfUser(user_id), now).await
    }

    /// Ends the sessions `ending` names in a transaction of their own, with
    /// their logout tokens; returns how many ended.
    async fn ending(&self, ending: Ending<'_>, now: i64) -> Result<u64, StoreError> {
        let mut tx = self.writer.begin().await?;
        let ended = end_sessions(&mut tx, ending, now).await?;
        tx.commit().await?;
        self.logouts_queued(ended);
        Ok(ended.sessions)
    }
}
