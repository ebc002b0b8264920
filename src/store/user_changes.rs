//! Changes to an existing user: profile and standard claims, custom
//! attributes, password, disabled flag, admin role and the TOTP second
//! factor. Every plain change goes through `set_user_columns`, which stamps
//! `updated_at` (the `updated_at` claim of OIDC Core §5.1) and tells the
//! read cache, so no setter can forget either.

use super::{to_json, Store, StoreError};
use crate::model::{NewEmailToken, NewMail, NewUser};

/// A value for one column of a user row.
#[derive(Clone, Copy)]
enum Column<'a> {
    /// TEXT, or NULL.
    Text(Option<&'a str>),
    /// An INTEGER 0/1 flag.
    Flag(bool),
}
use Column::{Flag, Text};

impl Store {
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
        .execute(&self.writer)
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
        self.set_user_columns(user_id, &[("totp_pending_secret", Text(Some(secret)))], now)
            .await
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
        notice: Option<&NewMail>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
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
        super::outbox::insert_all(&mut tx, notice, now).await?;
        tx.commit().await?;
        self.changed().await;
        Ok(true)
    }

    /// Removes the user's second factor: the TOTP key, any pending one and
    /// the recovery codes.
    /// `notice` joins the outbox in the same transaction.
    pub async fn remove_totp(
        &self,
        user_id: &str,
        notice: Option<&NewMail>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
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
        super::outbox::insert_all(&mut tx, notice, now).await?;
        tx.commit().await?;
        self.changed().await;
        Ok(())
    }

    /// Changes what the user may change of their profile: display name, email
    /// address (verified or not) and standard claims.
    pub async fn update_profile(
        &self,
        user_id: &str,
        (name, email, email_verified): (Option<&str>, Option<&str>, bool),
        profile: &crate::model::Profile,
        link: Option<(&NewEmailToken, &NewMail)>,
        notice: Option<&NewMail>,
        now: i64,
    ) -> Result<(), StoreError> {
        let profile = to_json(profile)?;
        let columns = [
            ("name", Text(name)),
            ("email", Text(email)),
            ("email_verified", Flag(email_verified)),
            ("profile", Text(Some(&profile))),
        ];
        let Some((token, mail)) = link else {
            return self
                .set_user_columns_with_mail(user_id, &columns, notice, now)
                .await;
        };
        // A new address with the link that verifies it, in one transaction.
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE users SET name = $1, email = $2, email_verified = $3, profile = $4,
                              updated_at = $5
             WHERE id = $6",
        )
        .bind(name)
        .bind(email)
        .bind(i64::from(email_verified))
        .bind(&profile)
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        super::email_tokens::insert_token(&mut tx, token, now).await?;
        super::outbox::insert_mail(&mut tx, mail, now).await?;
        super::outbox::insert_all(&mut tx, notice, now).await?;
        tx.commit().await?;
        self.changed().await;
        Ok(())
    }

    /// Replaces the user's password hash with one they chose; `notice`
    /// joins the outbox in the same transaction.
    pub async fn set_password_hash(
        &self,
        user_id: &str,
        password_hash: &str,
        notice: Option<&NewMail>,
        now: i64,
    ) -> Result<(), StoreError> {
        let columns = [
            ("password_hash", Text(Some(password_hash))),
            ("must_change_password", Flag(false)),
        ];
        self.set_user_columns_with_mail(user_id, &columns, notice, now)
            .await
    }

    /// Changes a user's name, email (verified or not), standard claims and
    /// admin role.
    pub async fn update_user(
        &self,
        user_id: &str,
        user: &NewUser,
        now: i64,
    ) -> Result<(), StoreError> {
        let profile = to_json(&user.profile)?;
        let columns = [
            ("name", Text(user.name.as_deref())),
            ("email", Text(user.email.as_deref())),
            ("email_verified", Flag(user.email_verified)),
            ("profile", Text(Some(&profile))),
            ("is_admin", Flag(user.is_admin)),
        ];
        self.set_user_columns(user_id, &columns, now).await
    }

    /// Replaces a user's custom attributes.
    pub async fn set_user_claims(
        &self,
        user_id: &str,
        claims: &serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> Result<(), StoreError> {
        let text = to_json(claims)?;
        self.set_user_columns(user_id, &[("claims", Text(Some(&text)))], now)
            .await
    }

    /// Disables or enables a user.
    pub async fn set_user_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        self.set_user_columns(user_id, &[("disabled", Flag(disabled))], now)
            .await
    }

    /// Sets a password an admin chose or generated; `must_change` makes the
    /// user replace it at their next sign-in.
    pub async fn reset_password_hash(
        &self,
        user_id: &str,
        password_hash: &str,
        must_change: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let columns = [
            ("password_hash", Text(Some(password_hash))),
            ("must_change_password", Flag(must_change)),
        ];
        self.set_user_columns(user_id, &columns, now).await
    }
}

impl Store {
    /// Sets `columns` of user `user_id`, stamps `updated_at` and tells the
    /// read cache: the one shape of every plain change to a user. Column
    /// names come from the setters above, never from input.
    async fn set_user_columns(
        &self,
        user_id: &str,
        columns: &[(&'static str, Column<'_>)],
        now: i64,
    ) -> Result<(), StoreError> {
        self.set_user_columns_with_mail(user_id, columns, None, now)
            .await
    }

    /// [`Store::set_user_columns`], with a message for the outbox written
    /// in the same transaction.
    async fn set_user_columns_with_mail(
        &self,
        user_id: &str,
        columns: &[(&'static str, Column<'_>)],
        mail: Option<&NewMail>,
        now: i64,
    ) -> Result<(), StoreError> {
        let assignments: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (column, _))| format!("{column} = ${}", i + 1))
            .collect();
        let n = columns.len();
        let sql = format!(
            "UPDATE users SET {}, updated_at = ${} WHERE id = ${}",
            assignments.join(", "),
            n + 1,
            n + 2
        );
        let mut query = sqlx::query(&sql);
        for (_, value) in columns {
            query = match *value {
                Text(text) => query.bind(text),
                Flag(flag) => query.bind(i64::from(flag)),
            };
        }
        let mut tx = self.writer.begin().await?;
        query.bind(now).bind(user_id).execute(&mut *tx).await?;
        super::outbox::insert_all(&mut tx, mail, now).await?;
        tx.commit().await?;
        self.changed().await;
        Ok(())
    }
}
