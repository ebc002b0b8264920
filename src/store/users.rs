//! Users: username, argon2id password hash, profile (standard claims as one
//! JSON object), custom attributes (another), admin flag, TOTP secret, and
//! the groups they belong to, read in the same query as the user so that
//! the token path pays no extra round trip for them. Here users are read,
//! created, listed and deleted; `user_changes` changes one.

use super::{flag, json, to_json, Store, StoreError};
use crate::model::{NewUser, UserRecord};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashMap;

pub(super) const COLUMNS: &str =
    "id, username, email, name, password_hash, is_admin, disabled, totp_secret, totp_pending_secret,
     must_change_password, email_verified, profile, claims, updated_at,
     (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = users.id) AS passkeys";

/// The same columns, qualified for a query joining `group_members` as `m`.
const JOINED: &str = "u.id, u.username, u.email, u.name, u.password_hash, u.is_admin, u.disabled,
     u.totp_secret, u.totp_pending_secret, u.must_change_password, u.email_verified, u.profile,
     u.claims, u.updated_at, m.group_name,
     (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.id) AS passkeys";

pub(super) fn from_row(row: &AnyRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        email_verified: flag(row, "email_verified")?,
        name: row.try_get("name")?,
        profile: json(row, "profile")?,
        claims: json(row, "claims")?,
        groups: Vec::new(),
        updated_at: row.try_get("updated_at")?,
        password_hash: row.try_get("password_hash")?,
        is_admin: flag(row, "is_admin")?,
        disabled: flag(row, "disabled")?,
        totp_secret: row.try_get("totp_secret")?,
        totp_pending_secret: row.try_get("totp_pending_secret")?,
        must_change_password: flag(row, "must_change_password")?,
        passkeys: row.try_get("passkeys")?,
    })
}

/// One user from the rows of a query joining its memberships: one row per
/// group (or a single row with no group).
fn from_joined_rows(rows: &[AnyRow]) -> Result<Option<UserRecord>, StoreError> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut user = from_row(first)?;
    for row in rows {
        if let Some(group) = row.try_get::<Option<String>, _>("group_name")? {
            user.groups.push(group);
        }
    }
    Ok(Some(user))
}

/// Inserts a user with id `id` inside the caller's transaction; false if
/// the username is taken.
pub(crate) async fn insert_user_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    user: &NewUser,
    must_change_password: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "INSERT INTO users (id, username, email, name, password_hash, is_admin, disabled,
                            totp_secret, must_change_password, created_at, updated_at,
                            email_verified, profile, claims)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $9, $10, $11, $12)
         ON CONFLICT (username) DO NOTHING
         RETURNING id",
    )
    .bind(id)
    .bind(&user.username)
    .bind(&user.email)
    .bind(&user.name)
    .bind(&user.password_hash)
    .bind(i64::from(user.is_admin))
    .bind(&user.totp_secret)
    .bind(i64::from(must_change_password))
    .bind(now)
    .bind(i64::from(user.email_verified))
    .bind(to_json(&user.profile)?)
    .bind(to_json(&user.claims)?)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}

impl Store {
    /// Finds a user by sign-in name.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT {JOINED} FROM users u LEFT JOIN group_members m ON m.user_id = u.id
             WHERE u.username = $1 ORDER BY m.group_name"
        );
        let rows = sqlx::query(&sql)
            .bind(username)
            .fetch_all(&self.pool)
            .await?;
        from_joined_rows(&rows)
    }

    /// Finds a user by id (the `sub` claim), with their groups.
    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT {JOINED} FROM users u LEFT JOIN group_members m ON m.user_id = u.id
             WHERE u.id = $1 ORDER BY m.group_name"
        );
        let rows = sqlx::query(&sql).bind(id).fetch_all(&self.pool).await?;
        from_joined_rows(&rows)
    }

    /// The ids of the users whose verified email address is `email`
    /// (compared without regard to case), at most two: linking by email
    /// needs exactly one.
    pub async fn users_with_verified_email(&self, email: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM users WHERE LOWER(email) = LOWER($1) AND email_verified = 1 LIMIT 2",
        )
        .bind(email)
        .fetch_all(&self.writer)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// The user, through the read cache: for the token path and the browser
    /// session check, which read a user on every request. Every write to a
    /// user invalidates it except [`Store::claim_totp_step`], so every field
    /// is current but `totp_last_step`, which only that conditional update
    /// may decide on.
    pub async fn cached_user(
        &self,
        id: &str,
    ) -> Result<Option<std::sync::Arc<UserRecord>>, StoreError> {
        let (ticket, cached) = self.cache.find(&self.cache.users, id);
        if cached.is_some() {
            return Ok(cached);
        }
        let user = self.user_by_id(id).await?.map(std::sync::Arc::new);
        if let (Some(t), Some(found)) = (ticket, &user) {
            self.cache.users.put(id, t, found.clone());
        }
        Ok(user)
    }

    /// Creates the user, or updates the one with the same username; returns its id.
    /// Used by the seed loader, so running it twice changes nothing. A TOTP
    /// key the user enrolled themselves is kept unless the seed names one.
    /// The custom attributes are replaced only when `with_claims`.
    pub async fn upsert_user(
        &self,
        user: &NewUser,
        now: i64,
        with_claims: bool,
    ) -> Result<String, StoreError> {
        let new_id = uuid::Uuid::new_v4().to_string();
        self.upsert_user_as(user, now, with_claims, &new_id).await
    }

    /// [`Store::upsert_user`], with the id a new user gets (test mode
    /// names its users' subjects after their usernames).
    pub async fn upsert_user_as(
        &self,
        user: &NewUser,
        now: i64,
        with_claims: bool,
        new_id: &str,
    ) -> Result<String, StoreError> {
        let row = sqlx::query(
            "INSERT INTO users (id, username, email, name, password_hash, is_admin, disabled,
                                totp_secret, created_at, updated_at, email_verified, profile,
                                claims)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $8, $9, $10, $11)
             ON CONFLICT (username) DO UPDATE SET
                 email = excluded.email,
                 email_verified = excluded.email_verified,
                 profile = excluded.profile,
                 claims = CASE WHEN $12 = 1 THEN excluded.claims ELSE users.claims END,
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
        .bind(i64::from(user.email_verified))
        .bind(to_json(&user.profile)?)
        .bind(to_json(&user.claims)?)
        .bind(i64::from(with_claims))
        .fetch_one(&self.writer)
        .await?;
        self.changed().await;
        Ok(row.try_get("id")?)
    }

    /// Creates a user; `None` if the username is taken.
    pub async fn insert_user(
        &self,
        user: &NewUser,
        must_change_password: bool,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.writer.begin().await?;
        let created = insert_user_in(&mut tx, &id, user, must_change_password, now).await?;
        tx.commit().await?;
        Ok(created.then_some(id))
    }

    /// Creates a user with the id given (test mode names its users' subjects
    /// after their usernames); false if the username or the id is taken.
    pub async fn insert_user_with_id(
        &self,
        id: &str,
        user: &NewUser,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        match insert_user_in(&mut tx, id, user, false, now).await {
            Ok(created) => {
                tx.commit().await?;
                self.changed().await;
                Ok(created)
            }
            // The id is taken (a taken username is no error in the SQL);
            // the transaction rolls back as it is dropped.
            Err(StoreError::Database(e))
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Fills in the groups of `users` (one query for the lot).
    pub(super) async fn fill_groups(&self, users: &mut [UserRecord]) -> Result<(), StoreError> {
        if users.is_empty() {
            return Ok(());
        }
        let placeholders: Vec<String> = (1..=users.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT user_id, group_name FROM group_members WHERE user_id IN ({})
             ORDER BY group_name",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for u in users.iter() {
            query = query.bind(u.id.clone());
        }
        let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
        for row in query.fetch_all(&self.pool).await? {
            by_user
                .entry(row.try_get("user_id")?)
                .or_default()
                .push(row.try_get("group_name")?);
        }
        for u in users.iter_mut() {
            u.groups = by_user.remove(&u.id).unwrap_or_default();
        }
        Ok(())
    }

    /// Deletes a user; their sessions, grants, codes and consents go with
    /// them. False if there was no such user.
    pub async fn delete_user(&self, user_id: &str, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        // The user's row first, as every transaction that changes a user's
        // ways to sign in locks it first (`remove_way_unless_last`): one
        // order, so Postgres never finds two of them waiting on each other.
        sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        // The sessions before the grants: their logout tokens are queued
        // for the clients that got grants in them.
        let ended = super::session_endings::end_sessions(
            &mut tx,
            super::session_endings::Ending::AllOfUser(user_id),
            now,
        )
        .await?;
        // Explicit deletes rather than ON DELETE CASCADE alone: SQLite
        // enforces foreign keys only when asked to.
        for sql in [
            "DELETE FROM refresh_tokens WHERE grant_id IN (SELECT id FROM grants WHERE user_id = $1)",
            "DELETE FROM grants WHERE user_id = $1",
            "DELETE FROM authorization_codes WHERE user_id = $1",
            "DELETE FROM consents WHERE user_id = $1",
            "DELETE FROM mfa_challenges WHERE user_id = $1",
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM group_members WHERE user_id = $1",
            "DELETE FROM passkeys WHERE user_id = $1",
            "DELETE FROM passkey_users WHERE user_id = $1",
            "DELETE FROM webauthn_ceremonies WHERE user_id = $1",
            "DELETE FROM upstream_links WHERE user_id = $1",
            "DELETE FROM upstream_trips WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
        }
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.logouts_queued(ended);
        self.changed().await;
        Ok(done.rows_affected() > 0)
    }

    /// Whether an enabled admin exists.
    pub async fn admin_exists(&self) -> Result<bool, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM users WHERE is_admin = 1 AND disabled = 0")
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}
