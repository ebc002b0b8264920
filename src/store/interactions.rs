//! State that lives between the screens of one sign-in: the pending
//! authorization request (so that login, TOTP and consent can resume it on any
//! replica) and the second-factor challenge that follows a correct password.
//! Both are keyed by the SHA-256 of a random value held by the browser.

use super::{Store, StoreError};
use crate::model::{Federation, MfaChallenge};
use sqlx::Row;

impl Store {
    /// Stores a validated authorization request as JSON.
    pub async fn save_auth_request(
        &self,
        id_hash: &str,
        client_id: &str,
        request_json: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO auth_requests (id_hash, client_id, request, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(client_id)
        .bind(request_json)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Loads a pending request: (JSON, created_at), if it has not expired.
    pub async fn auth_request(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT request, created_at FROM auth_requests WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("request")?, r.try_get("created_at")?)))
            .transpose()
    }

    /// Removes a pending request once it has been answered.
    pub async fn delete_auth_request(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM auth_requests WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Opens a second-factor challenge for a user whose password was accepted.
    pub async fn create_mfa_challenge(
        &self,
        id_hash: &str,
        user_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO mfa_challenges (id_hash, user_id, failures, created_at, expires_at)
             VALUES ($1, $2, 0, $3, $4)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Loads a live challenge.
    pub async fn mfa_challenge(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<MfaChallenge>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, failures, created_at, first_amr, upstream_id, upstream_id_token
             FROM mfa_challenges
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(MfaChallenge {
                user_id: r.try_get("user_id")?,
                failures: r.try_get("failures")?,
                created_at: r.try_get("created_at")?,
                first_amr: r.try_get("first_amr")?,
                federation: Federation {
                    upstream_id: r.try_get("upstream_id")?,
                    id_token: r.try_get("upstream_id_token")?,
                },
            })
        })
        .transpose()
    }

    /// Uses up one attempt of a live challenge before its code is compared,
    /// atomically, so that parallel guesses cannot exceed `max_attempts`.
    /// Returns the attempts used so far, or `None` when the challenge is gone,
    /// expired or out of attempts.
    pub async fn take_mfa_attempt(
        &self,
        id_hash: &str,
        max_attempts: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "UPDATE mfa_challenges SET failures = failures + 1
             WHERE id_hash = $1 AND failures < $2 AND expires_at > $3
             RETURNING failures",
        )
        .bind(id_hash)
        .bind(max_attempts)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?;
        row.map(|r| r.try_get("failures"))
            .transpose()
            .map_err(Into::into)
    }

    /// Closes a challenge (answered, or abandoned).
    pub async fn delete_mfa_challenge(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM mfa_challenges WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
