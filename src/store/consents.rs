//! Consents: which scopes a user has agreed to share with a client.

use super::{Store, StoreError};
use sqlx::Row;

impl Store {
    /// The scopes the user has granted the client (empty when none).
    pub async fn consented_scopes(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let row = sqlx::query("SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => {
                let scope: String = row.try_get("scope")?;
                scope.split_whitespace().map(str::to_string).collect()
            }
            None => Vec::new(),
        })
    }

    /// Records consent to `scopes`, replacing what was recorded before.
    pub async fn save_consent(
        &self,
        user_id: &str,
        client_id: &str,
        scopes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, client_id) DO UPDATE SET
                 scope = excluded.scope, granted_at = excluded.granted_at",
        )
        .bind(user_id)
        .bind(client_id)
        .bind(scopes.join(" "))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
