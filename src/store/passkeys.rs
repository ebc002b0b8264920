//! Passkeys: each user's random WebAuthn user handle, their registered
//! credentials, and the ceremonies in progress. A ceremony is taken with
//! one `DELETE … RETURNING`, so of two requests finishing the same one,
//! exactly one gets it (WebAuthn Level 3 §13.4.3: a challenge answers once).

use super::{Store, StoreError};
use crate::model::{Ceremony, CeremonyPurpose, PasskeyRecord, StoredPasskey};
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str = "id, user_id, name, credential, sign_count, created_at, last_used_at";

fn from_row(row: &AnyRow) -> Result<StoredPasskey, StoreError> {
    Ok(StoredPasskey {
        record: PasskeyRecord {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
        },
        credential: row.try_get("credential")?,
        sign_count: row.try_get("sign_count")?,
    })
}

/// A passkey to add.
pub struct NewPasskey<'a> {
    /// Its id (a UUID).
    pub id: &'a str,
    /// Its owner.
    pub user_id: &'a str,
    /// The authenticator's credential id, base64url.
    pub credential_id: &'a str,
    /// Its name.
    pub name: &'a str,
    /// The verified credential, JSON.
    pub credential: &'a str,
    /// Its signature counter at registration.
    pub sign_count: i64,
    /// Now.
    pub created_at: i64,
}

impl Store {
    /// The user's WebAuthn user handle, if they were ever given one.
    pub async fn passkey_handle(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT handle FROM passkey_users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("handle")).transpose()?)
    }

    /// The user's handle, giving them `fresh` if they had none (a user
    /// keeps one handle for all their passkeys).
    pub async fn ensure_passkey_handle(
        &self,
        user_id: &str,
        fresh: &str,
    ) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO passkey_users (user_id, handle) VALUES ($1, $2)
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(fresh)
        .execute(&self.writer)
        .await?;
        let row = sqlx::query("SELECT handle FROM passkey_users WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&self.writer)
            .await?;
        Ok(row.try_get("handle")?)
    }

    /// The passkey with this credential id (base64url) and its owner's
    /// user handle.
    pub async fn passkey_by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<(StoredPasskey, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT p.id, p.user_id, p.name, p.credential, p.sign_count, p.created_at,
                    p.last_used_at, h.handle
             FROM passkeys p JOIN passkey_users h ON h.user_id = p.user_id
             WHERE p.credential_id = $1",
        )
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((from_row(&r)?, r.try_get("handle")?)))
            .transpose()
    }

    /// The user's passkeys, oldest first.
    pub async fn passkeys_of(&self, user_id: &str) -> Result<Vec<StoredPasskey>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Adds a passkey; false if its credential id is registered already
    /// (to anyone: WebAuthn §7.1 step 26).
    /// `notice` joins the outbox in the same transaction.
    pub async fn add_passkey(
        &self,
        new: &NewPasskey<'_>,
        notice: Option<&crate::model::NewMail>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(
            "INSERT INTO passkeys (id, user_id, credential_id, name, credential, sign_count, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (credential_id) DO NOTHING RETURNING id",
        )
        .bind(new.id)
        .bind(new.user_id)
        .bind(new.credential_id)
        .bind(new.name)
        .bind(new.credential)
        .bind(new.sign_count)
        .bind(new.created_at)
        .fetch_optional(&mut *tx)
        .await?;
        if row.is_some() {
            super::outbox::insert_all(&mut tx, notice, new.created_at).await?;
        }
        tx.commit().await?;
        if row.is_some() {
            // The user record counts passkeys (a second factor): cached
            // copies of it must go.
            self.changed().await;
        }
        Ok(row.is_some())
    }

    /// Records a sign-in with the passkey whose authenticator counted
    /// `sign_count`: its updated credential (flags), the counter and the
    /// time; false, and nothing changed, unless the counter grew (or both
    /// are 0: an authenticator that keeps no counter). Of two answers
    /// racing with one counter value, one is recorded.
    pub async fn passkey_used(
        &self,
        id: &str,
        credential: Option<&str>,
        sign_count: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE passkeys SET credential = COALESCE($1, credential), sign_count = $2,
                 last_used_at = $3
             WHERE id = $4 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))",
        )
        .bind(credential)
        .bind(sign_count)
        .bind(now)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Renames one of the user's passkeys; false if they have no such one.
    pub async fn rename_passkey(
        &self,
        user_id: &str,
        id: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
            .bind(name)
            .bind(id)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Removes one of the user's passkeys, returning it; `None` if they
    /// have no such one.
    pub async fn remove_passkey(
        &self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<PasskeyRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(user_id)
        .fetch_optional(&self.writer)
        .await?;
        if row.is_some() {
            self.changed().await;
        }
        row.map(|r| from_row(&r).map(|p| p.record)).transpose()
    }

    /// Stores a ceremony's state under `id_hash` (the hash of the browser's
    /// cookie value and the challenge).
    pub async fn open_ceremony(
        &self,
        id_hash: &str,
        purpose: CeremonyPurpose,
        user_id: Option<&str>,
        state: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (id_hash, purpose, user_id, state, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(purpose.as_str())
        .bind(user_id)
        .bind(state)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Takes the ceremony with this hash out of the store, if it has not
    /// expired: whatever happens next, it cannot be finished again.
    pub async fn take_ceremony(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<Ceremony>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE id_hash = $1 RETURNING purpose, user_id, state, expires_at",
        )
        .bind(id_hash)
        .fetch_optional(&self.writer)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<i64, _>("expires_at")? <= now {
            return Ok(None);
        }
        Ok(Some(Ceremony {
            purpose: row.try_get("purpose")?,
            user_id: row.try_get("user_id")?,
            state: row.try_get("state")?,
        }))
    }
}
