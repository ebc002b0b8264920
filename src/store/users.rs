//! Users: username, argon2id password hash, profile, admin flag, TOTP secret.

use super::{flag, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A user as stored.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// Stable subject identifier (a UUID), never reused.
    pub id: String,
    /// Sign-in name, unique.
    pub username: String,
    /// Email address, if known.
    pub email: Option<String>,
    /// Display name, if known.
    pub name: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Whether the user may use the admin screens.
    pub is_admin: bool,
    /// Disabled users cannot sign in or use their tokens.
    pub disabled: bool,
    /// Base32 TOTP secret when MFA is enrolled.
    pub totp_secret: Option<String>,
    /// Base32 TOTP secret shown at enrolment, waiting for its first code.
    pub totp_pending_secret: Option<String>,
}

/// What creating or updating a user from a seed or the CLI takes.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in name.
    pub username: String,
    /// Email address.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// argon2id PHC string (already hashed).
    pub password_hash: String,
    /// Admin role.
    pub is_admin: bool,
    /// Base32 TOTP secret, if enrolled.
    pub totp_secret: Option<String>,
}

const COLUMNS: &str =
    "id, username, email, name, password_hash, is_admin, disabled, totp_secret, totp_pending_secret";

fn from_row(row: &AnyRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        is_admin: flag(row, "is_admin")?,
        disabled: flag(row, "disabled")?,
        totp_secret: row.try_get("totp_secret")?,
        totp_pending_secret: row.try_get("totp_pending_secret")?,
    })
}

impl Store {
    /// Finds a user by sign-in name.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE username = $1");
        let row = sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Finds a user by id (the `sub` claim).
    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Creates the user, or updates the one with the same username; returns its id.
    /// Used by the seed loader, so running it twice changes nothing. A TOTP
    /// key the user enrolled themselves is kept unless the seed names one.
    pub async fn upsert_user(&self, user: &NewUser, now: i64) -> Result<String, StoreError> {
        let new_id = uuid::Uuid::new_v4().to_string();
        let row = sqlx::query(
            "INSERT INTO users (id, username, email, name, password_hash, is_admin, disabled,
                                totp_secret, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $8)
             ON CONFLICT (username) DO UPDATE SET
                 email = excluded.email,
                 name = excluded.name,
                 password_hash = excluded.password_hash,
                 is_admin = excluded.is_admin,
                 totp_secret = COALESCE(excluded.totp_secret, users.totp_secret),
                 updated_at = excluded.updated_at
             RETURNING id",
        )
        .bind(new_id)
        .bind(&user.username)
        .bind(&user.email)
        .bind(&user.name)
        .bind(&user.password_hash)
        .bind(i64::from(user.is_admin))
        .bind(&user.totp_secret)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Records that TOTP time step `step` was used, if it is newer than the
    /// last one used. Returns false for a replayed (or older) step, so each
    /// code works once, even when two requests race.
    pub async fn claim_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1
             WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps `secret` as the user's TOTP key waiting for confirmation.
    pub async fn set_pending_totp(
        &self,
        user_id: &str,
        secret: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET totp_pending_secret = $1, updated_at = $2 WHERE id = $3")
            .bind(secret)
            .bind(now)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Turns the pending key into the user's TOTP key, provided it is still
    /// `secret` and no key is enrolled, and marks `step` as used; with the
    /// new recovery codes, in one transaction. False if the enrolment was
    /// replaced or completed meanwhile.
    pub async fn confirm_totp(
        &self,
        user_id: &str,
        secret: &str,
        step: i64,
        recovery_code_hashes: &[String],
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL,
                              totp_last_step = $1, updated_at = $2
             WHERE id = $3 AND totp_pending_secret = $4 AND totp_secret IS NULL",
        )
        .bind(step)
        .bind(now)
        .bind(user_id)
        .bind(secret)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        super::recovery_codes::replace(&mut tx, user_id, recovery_code_hashes, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes the user's second factor: the TOTP key, any pending one and
    /// the recovery codes.
    pub async fn remove_totp(&self, user_id: &str, now: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL,
                              totp_last_step = NULL, updated_at = $1
             WHERE id = $2",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        super::recovery_codes::replace(&mut tx, user_id, &[], now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the user's display name and email address.
    pub async fn update_profile(
        &self,
        user_id: &str,
        name: Option<&str>,
        email: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET name = $1, email = $2, updated_at = $3 WHERE id = $4")
            .bind(name)
            .bind(email)
            .bind(now)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replaces the user's password hash.
    pub async fn set_password_hash(
        &self,
        user_id: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
