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

const COLUMNS: &str = "id, username, email, name, password_hash, is_admin, disabled, totp_secret";

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
    /// Used by the seed loader, so running it twice changes nothing.
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
                 totp_secret = excluded.totp_secret,
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
}
