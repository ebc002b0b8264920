//! Device cookies: the browsers trusted for an account, by the hash of the
//! cookie's value (OWASP Authentication Cheat Sheet, "Slow Down Online
//! Guessing Attacks with Device Cookies").

use super::{Store, StoreError};

/// The most browsers trusted for one account at a time; the oldest go
/// first.
const TRUSTED_PER_ACCOUNT: i64 = 20;

impl Store {
    /// Trusts the browser holding the value hashed as `token_hash` for
    /// `account` until `expires_at`. With `previous` (the hash of the value
    /// it held so far), the accounts that value was trusted for move to the
    /// new one: one browser, one cookie, however many accounts.
    pub async fn trust_device(
        &self,
        token_hash: &str,
        account: &str,
        previous: Option<&str>,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        if let Some(previous) = previous {
            sqlx::query(
                "UPDATE device_cookies SET token_hash = $1
                 WHERE token_hash = $2 AND expires_at > $3",
            )
            .bind(token_hash)
            .bind(previous)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO device_cookies (token_hash, account, created_at, expires_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (token_hash, account) DO UPDATE SET expires_at = excluded.expires_at",
        )
        .bind(token_hash)
        .bind(account)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        // Each sign-in from a browser without the cookie adds a row that
        // lasts a year: keep the newest few per account (this one always).
        sqlx::query(
            "DELETE FROM device_cookies
             WHERE account = $1 AND token_hash <> $2
               AND token_hash NOT IN (SELECT token_hash FROM device_cookies
                                      WHERE account = $1 AND token_hash <> $2
                                      ORDER BY created_at DESC, token_hash DESC
                                      LIMIT $3)",
        )
        .bind(account)
        .bind(token_hash)
        .bind(TRUSTED_PER_ACCOUNT - 1)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the value hashed as `token_hash` is trusted for `account` now.
    pub async fn device_trusted(
        &self,
        token_hash: &str,
        account: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM device_cookies
             WHERE token_hash = $1 AND account = $2 AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(account)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Whether any browser is trusted for `account` now (it has signed in
    /// somewhere within the trust's lifetime).
    pub async fn any_device_trusted(&self, account: &str, now: i64) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM device_cookies WHERE account = $1 AND expires_at > $2 LIMIT 1",
        )
        .bind(account)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Forgets every browser trusted for `account` (when it is deleted).
    pub async fn forget_devices(&self, account: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM device_cookies WHERE account = $1")
            .bind(account)
            .execute(&self.writer)
            .await?
            .rows_affected())
    }
}
