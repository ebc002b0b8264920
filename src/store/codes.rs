//! Authorization codes (RFC 6749 §4.1.2): stored as SHA-256 hashes, single use,
//! short-lived, bound to client, redirect_uri, PKCE challenge and nonce.

use super::grants::insert_grant;
use super::{Store, StoreError};
use crate::model::{CodeRecord, NewCode, NewGrant};
use sqlx::any::AnyRow;
use sqlx::Row;

/// The outcome of trying to redeem a code.
#[derive(Debug)]
pub enum Redemption {
    /// This caller redeemed it; nobody else ever will.
    Redeemed,
    /// It had been redeemed before: the grant it produced, if any, should die.
    AlreadyUsed {
        /// The grant issued by the first redemption.
        grant_id: Option<String>,
    },
    /// No such code.
    Unknown,
}

fn from_row(row: &AnyRow) -> Result<CodeRecord, StoreError> {
    Ok(CodeRecord {
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        sid: row.try_get("sid")?,
        redirect_uri: row.try_get("redirect_uri")?,
        scope: row.try_get("scope")?,
        nonce: row.try_get("nonce")?,
        code_challenge: row.try_get("code_challenge")?,
        auth_time: row.try_get("auth_time")?,
        amr: row.try_get("amr")?,
        expires_at: row.try_get("expires_at")?,
        grant_id: row.try_get("grant_id")?,
        resource: row.try_get("resource")?,
    })
}

impl Store {
    /// Stores a freshly issued code under its hash.
    pub async fn create_code(
        &self,
        code_hash: &str,
        code: &NewCode,
        now: i64,
    ) -> Result<(), StoreError> {
        let (code_hash, code) = (code_hash.to_string(), code.clone());
        self.write_lanes
            .run(move |connection| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO authorization_codes (code_hash, client_id, user_id, sid, redirect_uri,
                             scope, nonce, code_challenge, auth_time, amr, created_at, expires_at, resource)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(code_hash)
                    .bind(code.client_id)
                    .bind(code.user_id)
                    .bind(code.sid)
                    .bind(code.redirect_uri)
                    .bind(code.scope)
                    .bind(code.nonce)
                    .bind(code.code_challenge)
                    .bind(code.auth_time)
                    .bind(code.amr)
                    .bind(now)
                    .bind(code.expires_at)
                    .bind(code.resource)
                    .execute(&mut *connection)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Reads a code without using it up.
    pub async fn code(&self, code_hash: &str) -> Result<Option<CodeRecord>, StoreError> {
        let code_hash = code_hash.to_string();
        self.read_lanes
            .run(move |connection| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "SELECT client_id, user_id, sid, redirect_uri, scope, nonce, code_challenge,
                                auth_time, amr, expires_at, grant_id, resource
                         FROM authorization_codes WHERE code_hash = $1",
                    )
                    .bind(code_hash)
                    .fetch_optional(&mut *connection)
                    .await?;
                    row.as_ref().map(from_row).transpose()
                })
            })
            .await
    }

    /// Uses the code up and records the grant it produced, in one
    /// transaction: of any number of concurrent callers exactly one gets
    /// [`Redemption::Redeemed`], and its grant (with the first refresh token,
    /// if any) exists from that instant, so a replay can always revoke it.
    /// An expired code redeems no more, even between the caller's check of
    /// its expiry and this call.
    pub async fn redeem_code(
        &self,
        code_hash: &str,
        grant: &NewGrant,
        refresh_token: Option<(&str, i64)>,
        now: i64,
    ) -> Result<Redemption, StoreError> {
        let (code_hash_owned, grant, refresh_token) = (
            code_hash.to_string(),
            grant.clone(),
            refresh_token.map(|(hash, expires_at)| (hash.to_string(), expires_at)),
        );
        let won = self
            .write_lanes
            .run(move |connection| {
                Box::pin(async move {
                    use sqlx::Connection;
                    let mut tx = connection.begin().await?;
                    let won = sqlx::query(
                        "UPDATE authorization_codes SET used_at = $1, grant_id = $2
                         WHERE code_hash = $3 AND used_at IS NULL AND expires_at > $1",
                    )
                    .bind(now)
                    .bind(&grant.id)
                    .bind(code_hash_owned)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1;
                    if won {
                        let refresh_token = refresh_token.as_ref().map(|(h, e)| (h.as_str(), *e));
                        insert_grant(&mut tx, &grant, refresh_token, now).await?;
                        tx.commit().await?;
                    } else {
                        tx.rollback().await?;
                    }
                    Ok(won)
                })
            })
            .await?;
        if won {
            return Ok(Redemption::Redeemed);
        }
        // Lost: used before (a replay, naming what the first use created),
        // or expired unused, which is as good as unknown.
        let row = sqlx::query(
            "SELECT grant_id FROM authorization_codes
             WHERE code_hash = $1 AND used_at IS NOT NULL",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => Redemption::AlreadyUsed {
                grant_id: row.try_get("grant_id")?,
            },
            None => Redemption::Unknown,
        })
    }
}
