//! The reads behind the forgot-password form: the accounts an
//! email address belongs to, and how many reset messages an address was
//! already sent recently (the per-account budget, counted in the outbox so
//! that every replica sees the same count and it survives a restart).

use super::{Store, StoreError};
use crate::model::MailKind;
use sqlx::Row;

impl Store {
    /// The ids of the users whose email address is `email` (compared
    /// without regard to case, verified or not), at most `limit`.
    pub async fn users_with_email(
        &self,
        email: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT id FROM users WHERE LOWER(email) = LOWER($1) ORDER BY id LIMIT $2")
                .bind(email)
                .bind(limit)
                .fetch_all(&self.writer)
                .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// How many messages of `kind` to `recipient` (without regard to case)
    /// were written at or after `since`, whatever became of them.
    pub async fn mail_count_since(
        &self,
        kind: MailKind,
        recipient: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM outbox
             WHERE kind = $1 AND LOWER(recipient) = LOWER($2) AND created_at >= $3",
        )
        .bind(kind.as_str())
        .bind(recipient)
        .bind(since)
        .fetch_one(&self.writer)
        .await?;
        Ok(row.try_get("n")?)
    }
}
