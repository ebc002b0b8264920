//! The outbox: email waiting to be sent, and logout tokens waiting to be
//! posted to clients (Back-Channel Logout 1.0), each row in a `channel`
//! that one deliverer takes. A row is inserted in the transaction of the
//! change that causes it ([`insert_mail`], [`insert_logout`]); a deliverer
//! claims due rows of its channel with a conditional `UPDATE` (so two replicas
//! never hold one message at once), then marks each sent or failed. A claim
//! is a lease: if its holder dies, it lapses and the message is claimed
//! again — delivery is at least once, under one stable `Message-ID`.

use super::{Store, StoreError};
use crate::model::{LogoutNotice, NewMail, OutboxRecord, OutboxState, CHANNEL_BACKCHANNEL_LOGOUT};
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str = "id, message_id, channel, kind, recipient, subject, text_body, html_body,
    payload, state, attempts, next_attempt_at, last_error, created_at, sent_at";

fn record(row: &AnyRow) -> Result<OutboxRecord, StoreError> {
    let state: String = row.try_get("state")?;
    Ok(OutboxRecord {
        id: row.try_get("id")?,
        message_id: row.try_get("message_id")?,
        channel: row.try_get("channel")?,
        kind: row.try_get("kind")?,
        recipient: row.try_get("recipient")?,
        subject: row.try_get("subject")?,
        text_body: row.try_get("text_body")?,
        html_body: row.try_get("html_body")?,
        payload: row.try_get("payload")?,
        state: OutboxState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("outbox state {state:?}")))?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}

/// Writes `mail` to the outbox inside the caller's transaction, due now.
pub(crate) async fn insert_mail(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    mail: &NewMail,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, message_id, kind, recipient, subject, text_body, html_body,
                             state, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)",
    )
    .bind(&mail.id)
    .bind(&mail.message_id)
    .bind(mail.kind.as_str())
    .bind(&mail.recipient)
    .bind(&mail.subject)
    .bind(&mail.text_body)
    .bind(&mail.html_body)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Queues a logout token for `notice.client_id` at `uri` inside the
/// caller's transaction, due now. The row's `message_id` is the token's
/// `jti`: the same on every attempt, so a client told twice (delivery is at
/// least once) can drop the copy.
pub(crate) async fn insert_logout(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    notice: &LogoutNotice,
    uri: &str,
    now: i64,
) -> Result<(), StoreError> {
    let payload = serde_json::to_string(notice).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO outbox (id, message_id, channel, kind, recipient, subject, text_body,
                             html_body, payload, state, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $3, $4, $5, '', '', $6, 'pending', 0, $7, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(uuid::Uuid::new_v4().simple().to_string())
    .bind(CHANNEL_BACKCHANNEL_LOGOUT)
    .bind(uri)
    .bind(format!(
        "Logout of session {} for client {}",
        notice.sid, notice.client_id
    ))
    .bind(payload)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts each of `mail` inside the caller's transaction.
pub(crate) async fn insert_all(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    mail: Option<&NewMail>,
    now: i64,
) -> Result<(), StoreError> {
    if let Some(mail) = mail {
        insert_mail(tx, mail, now).await?;
    }
    Ok(())
}

/// How many messages wait and how many are parked, for /metrics and the
/// admin screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct OutboxCounts {
    /// Waiting to be sent.
    pub pending: i64,
    /// Given up on until an admin retries them.
    pub parked: i64,
}

impl Store {
    /// Writes one message to the outbox on its own (nothing else changes
    /// with it).
    pub async fn enqueue_mail(&self, mail: &NewMail, now: i64) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        insert_mail(&mut tx, mail, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The ids of up to `limit` due rows of `channel` (`email` or
    /// `backchannel_logout`), oldest due first, then in the order they were
    /// written (ids are time-ordered UUIDs), to be claimed one at a time
    /// with [`Store::claim_mail`].
    pub async fn due_mail(
        &self,
        channel: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT id FROM outbox
             WHERE channel = $3 AND state = 'pending' AND next_attempt_at <= $1
               AND (claimed_until IS NULL OR claimed_until < $1)
             ORDER BY next_attempt_at, created_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .bind(channel)
        .fetch_all(&self.writer)
        .await?
        .iter()
        .map(|row| Ok(row.try_get("id")?))
        .collect()
    }

    /// Claims message `id` of `channel` for `claimer` until `lease_until`
    /// and returns it, if it is still pending, due and unclaimed (or its
    /// claim lapsed): a conditional update, so of two senders racing for
    /// one message exactly one gets it.
    pub async fn claim_mail(
        &self,
        id: &str,
        channel: &str,
        claimer: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<OutboxRecord>, StoreError> {
        if !self
            .claim_one(id, channel, claimer, now, lease_until)
            .await?
        {
            return Ok(None);
        }
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_one(&self.writer)
            .await?;
        Ok(Some(record(&row)?))
    }

    /// Claims one message if it is still pending, due, unclaimed and of
    /// `channel` (a deliverer never takes another channel's row, whose
    /// recipient means something else).
    pub async fn claim_one(
        &self,
        id: &str,
        channel: &str,
        claimer: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2
             WHERE id = $3 AND state = 'pending' AND next_attempt_at <= $4
               AND (claimed_until IS NULL OR claimed_until < $4) AND channel = $5",
        )
        .bind(claimer)
        .bind(lease_until)
        .bind(id)
        .bind(now)
        .bind(channel)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a claimed message sent and erases its bodies (they may hold a
    /// one-time link) and payload. False if `claimer` no longer held it.
    pub async fn mail_sent(&self, id: &str, claimer: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = $1, claimed_by = NULL,
                               claimed_until = NULL, text_body = '', html_body = '',
                               payload = '', last_error = NULL
             WHERE id = $2 AND claimed_by = $3 AND state = 'pending'",
        )
        .bind(now)
        .bind(id)
        .bind(claimer)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Settles a claimed message without sending it, because there is no
    /// one to send it to any more: recorded as sent with `note` as its
    /// last error (so the admin screens say why), its bodies and payload
    /// erased. False if `claimer` no longer held it.
    pub async fn mail_dropped(
        &self,
        id: &str,
        claimer: &str,
        note: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = $1, claimed_by = NULL,
                               claimed_until = NULL, text_body = '', html_body = '',
                               payload = '', last_error = $2
             WHERE id = $3 AND claimed_by = $4 AND state = 'pending'",
        )
        .bind(now)
        .bind(note)
        .bind(id)
        .bind(claimer)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt of a claimed message: due again at
    /// `retry_at`, or parked when that is `None`.
    pub async fn mail_failed(
        &self,
        id: &str,
        claimer: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let (state, next) = match retry_at {
            Some(at) => ("pending", Some(at)),
            None => ("parked", None),
        };
        let done = sqlx::query(
            "UPDATE outbox SET state = $1, attempts = attempts + 1,
                               next_attempt_at = COALESCE($2, next_attempt_at),
                               last_error = $3, claimed_by = NULL, claimed_until = NULL
             WHERE id = $4 AND claimed_by = $5 AND state = 'pending'",
        )
        .bind(state)
        .bind(next)
        .bind(error)
        .bind(id)
        .bind(claimer)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a parked message back in line, due now, with its failures
    /// forgotten. False if it is not parked.
    pub async fn retry_mail(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1,
                               claimed_by = NULL, claimed_until = NULL
             WHERE id = $2 AND state = 'parked'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// One message by id.
    pub async fn outbox_message(&self, id: &str) -> Result<Option<OutboxRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record).transpose()
    }

    /// The newest messages first, of one state or all, at most `limit`.
    pub async fn outbox(
        &self,
        state: Option<OutboxState>,
        limit: i64,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        let rows = match state {
            Some(state) => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM outbox WHERE state = $1
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ))
                .bind(state.as_str())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(record).collect()
    }

    /// How many messages wait and how many are parked.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS pending,
                    COALESCE(SUM(CASE WHEN state = 'parked' THEN 1 ELSE 0 END), 0) AS parked
             FROM outbox WHERE state IN ('pending', 'parked')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxCounts {
            pending: row.try_get("pending")?,
            parked: row.try_get("parked")?,
        })
    }
}
