//! Browser sessions. The cookie carries a random value; only its SHA-256 is
//! stored, so the table alone cannot be used to take over a session. A new
//! sign-in in a browser replaces its session in one transaction
//! ([`Store::replace_session`]): the same user's keeps its `sid` (nothing
//! ended, so no back-channel logout), another user's ends as any other.

use super::session_endings::{end_sessions, Ended, Ending};
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
        insert_session(&mut tx, id_hash, session, device, now).await?;
        super::outbox::insert_all(&mut tx, notice, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens a session that replaces the browser's current one (the hash
    /// of its cookie value, `old_id_hash`), in one transaction, and returns
    /// the new session's `sid`. When the same user signs in again (a
    /// re-authentication: `prompt=login`, `max_age`), the live old session
    /// is replaced under its `sid`, which carries over, and no client is
    /// told anything: their sessions and ID tokens stay right. Otherwise
    /// (another user, or an old session already expired) the old one ends
    /// as any other ending does, its clients told, and the new one gets
    /// `session.sid`.
    pub async fn replace_session(
        &self,
        old_id_hash: &str,
        id_hash: &str,
        session: &SessionRecord,
        device: &Device,
        notice: Option<&NewMail>,
        now: i64,
    ) -> Result<String, StoreError> {
        let mut tx = self.writer.begin().await?;
        let carried = sqlx::query(
            "DELETE FROM browser_sessions WHERE id_hash = $1 AND user_id = $2 AND expires_at > $3
             RETURNING sid",
        )
        .bind(old_id_hash)
        .bind(&session.user_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let (sid, ended) = match carried {
            Some(row) => (row.try_get::<String, _>("sid")?, Ended::default()),
            None => (
                session.sid.clone(),
                end_sessions(&mut tx, Ending::Cookie(old_id_hash), now).await?,
            ),
        };
        let session = SessionRecord {
            sid: sid.clone(),
            ..session.clone()
        };
        insert_session(&mut tx, id_hash, &session, device, now).await?;
        super::outbox::insert_all(&mut tx, notice, now).await?;
        tx.commit().await?;
        self.logouts_queued(ended);
        Ok(sid)
    }

    /// Finds a live session by the hash of its cookie value.
    pub async fn session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let id_hash = id_hash.to_string();
        self.read_lanes
            .run(move |connection| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "SELECT sid, user_id, auth_time, amr, expires_at FROM browser_sessions
                         WHERE id_hash = $1 AND expires_at > $2",
                    )
                    .bind(&id_hash)
                    .bind(now)
                    .fetch_optional(&mut *connection)
                    .await?;
                    row.map(|row| {
                        Ok(SessionRecord {
                            cookie_hash: id_hash.clone(),
                            sid: row.try_get("sid")?,
                            user_id: row.try_get("user_id")?,
                            auth_time: row.try_get("auth_time")?,
                            amr: row.try_get("amr")?,
                            expires_at: row.try_get("expires_at")?,
                        })
                    })
                    .transpose()
                })
            })
            .await
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

/// Inserts a session row inside the caller's transaction.
async fn insert_session(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id_hash: &str,
    session: &SessionRecord,
    device: &Device,
    now: i64,
) -> Result<(), StoreError> {
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
    .execute(&mut **tx)
    .await?;
    Ok(())
}
