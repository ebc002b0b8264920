//! Failed sign-in counters of an account, each for one source: an
//! address, a trusted browser, or the account's unknown browsers as a whole.

use super::{Store, StoreError};
use sqlx::Row;

impl Store {
    /// The latest `blocked_until` among the given sources of an account.
    pub async fn sign_in_blocked_until(
        &self,
        account: &str,
        sources: &[&str],
    ) -> Result<i64, StoreError> {
        let mut until = 0;
        for source in sources {
            let row = sqlx::query(
                "SELECT blocked_until FROM sign_in_failures WHERE account = $1 AND source = $2",
            )
            .bind(account)
            .bind(*source)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row {
                until = until.max(row.try_get::<i64, _>("blocked_until")?);
            }
        }
        Ok(until)
    }

    /// Counts one more failure for (account, source); returns the new count.
    pub async fn add_sign_in_failure(
        &self,
        account: &str,
        source: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO sign_in_failures (account, source, failures, blocked_until, updated_at)
             VALUES ($1, $2, 1, 0, $3)
             ON CONFLICT (account, source) DO UPDATE SET
                 failures = sign_in_failures.failures + 1, updated_at = excluded.updated_at
             RETURNING failures",
        )
        .bind(account)
        .bind(source)
        .bind(now)
        .fetch_one(&self.writer)
        .await?;
        Ok(row.try_get("failures")?)
    }

    /// Sets how long (account, source) must wait before the next attempt.
    pub async fn block_sign_in(
        &self,
        account: &str,
        source: &str,
        until: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sign_in_failures SET blocked_until = $1
             WHERE account = $2 AND source = $3 AND blocked_until < $1",
        )
        .bind(until)
        .bind(account)
        .bind(source)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Forgets every failure of an account (after a successful sign-in, a
    /// password reset, or by an administrator).
    pub async fn clear_sign_in_failures(&self, account: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE account = $1")
            .bind(account)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Forgets the failures of the given sources of an account (after a
    /// successful sign-in checked against them).
    pub async fn clear_sign_in_sources(
        &self,
        account: &str,
        sources: &[&str],
    ) -> Result<(), StoreError> {
        for source in sources {
            sqlx::query("DELETE FROM sign_in_failures WHERE account = $1 AND source = $2")
                .bind(account)
                .bind(*source)
                .execute(&self.writer)
                .await?;
        }
        Ok(())
    }

    /// The latest `blocked_until` among every source of an account (0 when
    /// none is blocked).
    pub async fn latest_sign_in_block(&self, account: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(MAX(blocked_until), 0) AS until FROM sign_in_failures
             WHERE account = $1",
        )
        .bind(account)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("until")?)
    }

    /// Gives the counters of source `from` (every account's) to source `to`:
    /// a trusted browser's counters follow it when its cookie is replaced.
    pub async fn rename_sign_in_source(&self, from: &str, to: &str) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("UPDATE sign_in_failures SET source = $1 WHERE source = $2")
                .bind(to)
                .bind(from)
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }
}
