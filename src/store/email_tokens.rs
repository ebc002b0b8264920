//! One-time links sent by email (verification, password reset,
//! invitation), stored as the SHA-256 of their token. A link is issued in
//! the same transaction as the message that carries it, and taken with one
//! `DELETE … RETURNING`, so it works once even when two requests race.

use super::outbox::{insert_all, insert_mail};
use super::{Store, StoreError};
use crate::model::{EmailTokenPurpose, EmailTokenRecord, NewEmailToken, NewMail, NewUser};
use sqlx::Row;

/// Inserts `token` inside the caller's transaction, replacing any earlier
/// link of the same purpose for the same user (only the newest works).
pub(crate) async fn insert_token(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    token: &NewEmailToken,
    now: i64,
) -> Result<(), StoreError> {
    // One statement, so two links issued at once still leave one.
    sqlx::query(
        "INSERT INTO email_tokens (token_hash, purpose, user_id, email, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, purpose) DO UPDATE
         SET token_hash = excluded.token_hash, email = excluded.email,
             created_at = excluded.created_at, expires_at = excluded.expires_at",
    )
    .bind(&token.token_hash)
    .bind(token.purpose.as_str())
    .bind(&token.user_id)
    .bind(&token.email)
    .bind(now)
    .bind(token.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes a live link inside the caller's transaction: deleted whether or
/// not it was still live, returned only if it was.
pub(crate) async fn take_token(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    token_hash: &str,
    purpose: EmailTokenPurpose,
    now: i64,
) -> Result<Option<EmailTokenRecord>, StoreError> {
    let row = sqlx::query(
        "DELETE FROM email_tokens WHERE token_hash = $1 AND purpose = $2
         RETURNING user_id, email, expires_at",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let expires_at: i64 = row.try_get("expires_at")?;
    if expires_at <= now {
        return Ok(None);
    }
    Ok(Some(EmailTokenRecord {
        user_id: row.try_get("user_id")?,
        email: row.try_get("email")?,
    }))
}

impl Store {
    /// Stores a one-time link and the message that carries it, in one
    /// transaction.
    pub async fn issue_email_token(
        &self,
        token: &NewEmailToken,
        mail: &NewMail,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        insert_token(&mut tx, token, now).await?;
        insert_mail(&mut tx, mail, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an invited user (id `id`) with their invitation link and its
    /// message, in one transaction: the account never exists without its
    /// invitation. False, with nothing written, if the username is taken.
    pub async fn insert_invited_user(
        &self,
        (id, user): (&str, &NewUser),
        token: &NewEmailToken,
        mail: &NewMail,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        if !super::users::insert_user_in(&mut tx, id, user, false, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_token(&mut tx, token, now).await?;
        insert_mail(&mut tx, mail, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The live link with this hash and purpose, without using it up (to
    /// show the form it opens).
    pub async fn email_token(
        &self,
        token_hash: &str,
        purpose: EmailTokenPurpose,
        now: i64,
    ) -> Result<Option<EmailTokenRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, email FROM email_tokens
             WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(EmailTokenRecord {
                user_id: row.try_get("user_id")?,
                email: row.try_get("email")?,
            })
        })
        .transpose()
    }

    /// Kills the user's reset and invitation links (an admin set a
    /// password: a link sent before must not undo it).
    pub async fn forget_password_links(&self, user_id: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM email_tokens WHERE user_id = $1 AND purpose IN ('reset', 'invite')",
        )
        .bind(user_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    /// Whether a link of `purpose` was issued to the user at or after
    /// `since` (and is still the newest).
    pub async fn email_token_issued_since(
        &self,
        user_id: &str,
        purpose: EmailTokenPurpose,
        since: i64,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM email_tokens
             WHERE user_id = $1 AND purpose = $2 AND created_at >= $3",
        )
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(since)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Uses up a verification link: if it is live and the user's address is
    /// still the one it was sent to (compared without regard to case), the
    /// address becomes verified. Returns the link's record when it did.
    pub async fn verify_email_by_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<EmailTokenRecord>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let Some(token) = take_token(&mut tx, token_hash, EmailTokenPurpose::Verify, now).await?
        else {
            tx.commit().await?;
            return Ok(None);
        };
        let done = sqlx::query(
            "UPDATE users SET email_verified = 1, updated_at = $1
             WHERE id = $2 AND LOWER(email) = LOWER($3)",
        )
        .bind(now)
        .bind(&token.user_id)
        .bind(&token.email)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.changed().await;
        Ok((done.rows_affected() == 1).then_some(token))
    }

    /// Uses up a reset or invitation link and sets the password it lets the
    /// user choose, in one transaction: the link goes, the password is set
    /// (no longer to be changed at sign-in), the address it was sent to is
    /// verified (reading the link proved it), every browser session of the
    /// user ends, and `notice` joins the outbox. `None` if the link was not
    /// live, or no longer stands for the account: the account's address is
    /// not the one it was sent to any more, the account is disabled, or (an
    /// invitation) the account has a password already. Such a link is used
    /// up all the same.
    pub async fn set_password_by_token(
        &self,
        token_hash: &str,
        purpose: EmailTokenPurpose,
        password_hash: &str,
        notice: Option<&NewMail>,
        now: i64,
    ) -> Result<Option<EmailTokenRecord>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let Some(token) = take_token(&mut tx, token_hash, purpose, now).await? else {
            tx.commit().await?;
            return Ok(None);
        };
        let invitation = i64::from(purpose == EmailTokenPurpose::Invite);
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 0, updated_at = $2,
                              email_verified = 1
             WHERE id = $4 AND LOWER(email) = LOWER($3) AND disabled = 0
               AND ($5 = 0 OR password_hash = '')",
        )
        .bind(password_hash)
        .bind(now)
        .bind(&token.email)
        .bind(&token.user_id)
        .bind(invitation)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.commit().await?;
            return Ok(None);
        }
        let ended = super::session_endings::end_sessions(
            &mut tx,
            super::session_endings::Ending::AllOfUser(&token.user_id),
            now,
        )
        .await?;
        // Any other reset link of the user dies with this one.
        sqlx::query(
            "DELETE FROM email_tokens WHERE user_id = $1 AND purpose IN ('reset', 'invite')",
        )
        .bind(&token.user_id)
        .execute(&mut *tx)
        .await?;
        insert_all(&mut tx, notice, now).await?;
        tx.commit().await?;
        self.logouts_queued(ended);
        self.changed().await;
        Ok(Some(token))
    }
}
