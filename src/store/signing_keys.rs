//! Signing keys: private half (PKCS#8 DER, base64) and public JWK, with a
//! state of `next`, `current` or `retired`. Each algorithm has at most one
//! `current` and one `next` key.

use super::{Store, StoreError};
use crate::model::KeyRecord;
use sqlx::{Any, Executor, Row};

impl Store {
    /// Every key that is not pruned, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, alg, private_key, public_jwk, state, created_at, retired_at FROM signing_keys
             ORDER BY created_at DESC, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(KeyRecord {
                    kid: row.try_get("kid")?,
                    alg: row.try_get("alg")?,
                    private_key: row.try_get("private_key")?,
                    public_jwk: row.try_get("public_jwk")?,
                    state: row.try_get("state")?,
                    created_at: row.try_get("created_at")?,
                    retired_at: row.try_get("retired_at")?,
                })
            })
            .collect()
    }

    /// Stores a new key. Nothing happens when a key with the same kid exists,
    /// or when another key of its algorithm already holds its state
    /// (`current` or `next`).
    pub async fn insert_signing_key(&self, key: &KeyRecord) -> Result<bool, StoreError> {
        insert_key(&self.writer, key).await
    }
}

impl Store {
    /// Moves a key to a new state; `retired_at` is stamped when retiring.
    pub async fn set_key_state(&self, kid: &str, state: &str, now: i64) -> Result<(), StoreError> {
        set_state(&self.writer, kid, state, now).await
    }

    /// A rotation in one transaction, so that no reader finds an algorithm
    /// without its current key halfway: retires the keys of `retire`, makes
    /// those of `promote` current, then stores `insert` (new keys, which are
    /// left out like in [`Store::insert_signing_key`] when their place is
    /// taken).
    pub async fn rotate_signing_keys(
        &self,
        retire: &[String],
        promote: &[String],
        insert: &[KeyRecord],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        for kid in retire {
            set_state(&mut *tx, kid, "retired", now).await?;
        }
        for kid in promote {
            set_state(&mut *tx, kid, "current", now).await?;
        }
        for key in insert {
            insert_key(&mut *tx, key).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes retired keys retired before `before`; returns how many.
    pub async fn prune_retired_keys(&self, before: i64) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM signing_keys WHERE state = 'retired' AND retired_at < $1")
                .bind(before)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected())
    }

    /// The longest access token lifetime any client has configured.
    pub async fn longest_client_access_token_ttl(&self) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT MAX(access_token_ttl) AS ttl FROM clients")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("ttl")?)
    }
}

async fn insert_key<'e>(
    db: impl Executor<'e, Database = Any>,
    key: &KeyRecord,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, state, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(&key.kid)
    .bind(&key.alg)
    .bind(&key.private_key)
    .bind(&key.public_jwk)
    .bind(&key.state)
    .bind(key.created_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn set_state<'e>(
    db: impl Executor<'e, Database = Any>,
    kid: &str,
    state: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE signing_keys SET state = $1,
             retired_at = CASE WHEN $1 = 'retired' THEN $2 ELSE retired_at END
         WHERE kid = $3",
    )
    .bind(state)
    .bind(now)
    .bind(kid)
    .execute(db)
    .await?;
    Ok(())
}
