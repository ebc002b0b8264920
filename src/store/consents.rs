//! Consents: which scopes a user has agreed to share with a client.

use super::{Store, StoreError};
use crate::model::ConsentSummary;
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
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The applications the user has consented to, by name.
    pub async fn consents_of_user(&self, user_id: &str) -> Result<Vec<ConsentSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT consents.client_id, clients.name, consents.scope, consents.granted_at
             FROM consents JOIN clients ON clients.client_id = consents.client_id
             WHERE consents.user_id = $1
             ORDER BY clients.name, consents.client_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ConsentSummary {
                    client_id: row.try_get("client_id")?,
                    client_name: row.try_get("name")?,
                    scopes: row
                        .try_get::<String, _>("scope")?
                        .split_whitespace()
                        .map(str::to_string)
                        .collect(),
                    granted_at: row.try_get("granted_at")?,
                })
            })
            .collect()
    }

    /// Withdraws the user's consent for the client and revokes every grant
    /// the client holds for the user, so its refresh and access tokens stop
    /// working too. False if there was neither a consent nor a live grant.
    pub async fn revoke_application(
        &self,
        user_id: &str,
        client_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        let consents = sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let grants = sqlx::query(
            "UPDATE grants SET revoked_at = $1
             WHERE user_id = $2 AND client_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        self.changed().await;
        Ok(consents + grants > 0)
    }
}
