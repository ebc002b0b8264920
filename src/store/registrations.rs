//! Self-registrations waiting for their address to be verified: the
//! account is created only when the link is opened, from what was typed
//! at sign-up (the password already hashed). A registration is taken with
//! one `DELETE … RETURNING`, so a link works once.

use super::outbox::insert_mail;
use super::{Store, StoreError};
use crate::model::NewMail;
use sqlx::Row;

/// A sign-up waiting for its link to be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// SHA-256 of the link's token.
    pub token_hash: String,
    /// The address, as typed.
    pub email: String,
    /// The display name, if given.
    pub name: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// When the link stops working.
    pub expires_at: i64,
}

impl Store {
    /// Stores a sign-up and the message with its link, in one transaction.
    pub async fn insert_registration(
        &self,
        registration: &Registration,
        mail: &NewMail,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO registrations (token_hash, email, name, password_hash, created_at,
                                        expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&registration.token_hash)
        .bind(&registration.email)
        .bind(&registration.name)
        .bind(&registration.password_hash)
        .bind(now)
        .bind(registration.expires_at)
        .execute(&mut *tx)
        .await?;
        insert_mail(&mut tx, mail, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many sign-ups (and messages about signing up) went to `email`
    /// at or after `since`, compared without regard to case.
    pub async fn registration_mail_since(
        &self,
        email: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM outbox
             WHERE LOWER(recipient) = LOWER($1) AND kind IN ('register', 'already_registered')
               AND created_at >= $2",
        )
        .bind(email)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// The live sign-up behind a link, without using it up.
    pub async fn registration(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Registration>, StoreError> {
        let row = sqlx::query(
            "SELECT token_hash, email, name, password_hash, expires_at FROM registrations
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Registration {
                token_hash: row.try_get("token_hash")?,
                email: row.try_get("email")?,
                name: row.try_get("name")?,
                password_hash: row.try_get("password_hash")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Uses a sign-up's link up: deleted whether or not it was live,
    /// returned only if it was.
    pub async fn take_registration(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Registration>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM registrations WHERE token_hash = $1
             RETURNING token_hash, email, name, password_hash, expires_at",
        )
        .bind(token_hash)
        .fetch_optional(&self.writer)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let registration = Registration {
            token_hash: row.try_get("token_hash")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            expires_at: row.try_get("expires_at")?,
        };
        Ok((registration.expires_at > now).then_some(registration))
    }

    /// Whether any account has this address (verified or not), compared
    /// without regard to case, or this user name.
    pub async fn address_or_username_taken(&self, email: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM users WHERE LOWER(email) = LOWER($1) OR LOWER(username) = LOWER($1)
             LIMIT 1",
        )
        .bind(email)
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.is_some())
    }
}
