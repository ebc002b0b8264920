//! Device codes (RFC 8628 §3.2–3.5): stored under the SHA-256 of the device
//! code and of the normalised user code. The user's decision and the
//! device's redemption are conditional UPDATEs on `status`, so a code is
//! decided once and redeemed once however many requests race for it.

use super::grants::insert_grant;
use super::{Redemption, Store, StoreError};
use crate::model::{DeviceApproval, DeviceCodeRecord, DeviceStatus, NewDeviceCode, NewGrant};
use sqlx::any::AnyRow;
use sqlx::Row;

/// How much the polling interval grows each time a device polls too fast
/// (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: i64 = 5;

/// Whether a poll came in its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollPace {
    /// At least the interval after the last poll (or the first one).
    InTime,
    /// Too soon: the interval has grown to this many seconds.
    TooFast {
        /// The new interval.
        interval: i64,
    },
    /// No such code.
    Unknown,
}

const COLUMNS: &str = "client_id, scope, resource, status, interval_secs, last_polled_at,
                       user_id, sid, auth_time, amr, grant_id, expires_at";

fn from_row(row: &AnyRow) -> Result<DeviceCodeRecord, StoreError> {
    let status: String = row.try_get("status")?;
    let status = DeviceStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown device code status {status:?}")))?;
    let user_id: Option<String> = row.try_get("user_id")?;
    let approval = match user_id {
        Some(user_id) => Some(DeviceApproval {
            user_id,
            sid: row.try_get::<Option<String>, _>("sid")?.unwrap_or_default(),
            auth_time: row.try_get::<Option<i64>, _>("auth_time")?.unwrap_or(0),
            amr: row.try_get::<Option<String>, _>("amr")?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(DeviceCodeRecord {
        client_id: row.try_get("client_id")?,
        scope: row.try_get("scope")?,
        resource: row.try_get("resource")?,
        status,
        interval: row.try_get("interval_secs")?,
        last_polled_at: row.try_get("last_polled_at")?,
        approval,
        grant_id: row.try_get("grant_id")?,
        expires_at: row.try_get("expires_at")?,
    })
}

impl Store {
    /// Stores a new device code; `false` when its user code is already
    /// taken (the caller draws another).
    pub async fn create_device_code(
        &self,
        code: &NewDeviceCode,
        now: i64,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO device_codes (device_code_hash, user_code_hash, client_id, scope,
                 resource, status, interval_secs, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)
             ON CONFLICT (user_code_hash) DO NOTHING",
        )
        .bind(&code.device_code_hash)
        .bind(&code.user_code_hash)
        .bind(&code.client_id)
        .bind(&code.scope)
        .bind(&code.resource)
        .bind(code.interval)
        .bind(now)
        .bind(code.expires_at)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// The code with this device code hash.
    pub async fn device_code(
        &self,
        device_code_hash: &str,
    ) -> Result<Option<DeviceCodeRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM device_codes WHERE device_code_hash = $1"
        ))
        .bind(device_code_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The code with this user code hash.
    pub async fn device_code_by_user_code(
        &self,
        user_code_hash: &str,
    ) -> Result<Option<DeviceCodeRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM device_codes WHERE user_code_hash = $1"
        ))
        .bind(user_code_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Records the user's decision on a pending, unexpired code: approved
    /// with `approval`, denied with `None`. `false` when the code was not
    /// pending any more (decided, or expired) or does not exist.
    pub async fn decide_device_code(
        &self,
        user_code_hash: &str,
        approval: Option<&DeviceApproval>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let status = match approval {
            Some(_) => DeviceStatus::Approved,
            None => DeviceStatus::Denied,
        };
        let decided = sqlx::query(
            "UPDATE device_codes SET status = $1, user_id = $2, sid = $3, auth_time = $4, amr = $5
             WHERE user_code_hash = $6 AND status = 'pending' AND expires_at > $7",
        )
        .bind(status.as_str())
        .bind(approval.map(|a| a.user_id.as_str()))
        .bind(approval.map(|a| a.sid.as_str()))
        .bind(approval.map(|a| a.auth_time))
        .bind(approval.map(|a| a.amr.as_str()))
        .bind(user_code_hash)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(decided == 1)
    }

    /// Notes a poll at `now`: in time when the interval has passed since
    /// the last one, else the interval grows by [`SLOW_DOWN_STEP`] and
    /// counts from now (RFC 8628 §3.5).
    pub async fn note_device_poll(
        &self,
        device_code_hash: &str,
        now: i64,
    ) -> Result<PollPace, StoreError> {
        let in_time = sqlx::query(
            "UPDATE device_codes SET last_polled_at = $1
             WHERE device_code_hash = $2
               AND (last_polled_at IS NULL OR last_polled_at + interval_secs <= $1)",
        )
        .bind(now)
        .bind(device_code_hash)
        .execute(&self.writer)
        .await?
        .rows_affected();
        if in_time == 1 {
            return Ok(PollPace::InTime);
        }
        let row = sqlx::query(
            "UPDATE device_codes SET last_polled_at = $1, interval_secs = interval_secs + $2
             WHERE device_code_hash = $3
             RETURNING interval_secs",
        )
        .bind(now)
        .bind(SLOW_DOWN_STEP)
        .bind(device_code_hash)
        .fetch_optional(&self.writer)
        .await?;
        Ok(match row {
            Some(row) => PollPace::TooFast {
                interval: row.try_get("interval_secs")?,
            },
            None => PollPace::Unknown,
        })
    }

    /// Redeems an approved, unexpired code and creates the grant it
    /// produces (with its first refresh token, if any), in one
    /// transaction: of any number of concurrent callers exactly one gets
    /// [`Redemption::Redeemed`].
    pub async fn redeem_device_code(
        &self,
        device_code_hash: &str,
        grant: &NewGrant,
        refresh_token: Option<(&str, i64)>,
        now: i64,
    ) -> Result<Redemption, StoreError> {
        let mut tx = self.writer.begin().await?;
        let won = sqlx::query(
            "UPDATE device_codes SET status = 'redeemed', grant_id = $1
             WHERE device_code_hash = $2 AND status = 'approved' AND expires_at > $3",
        )
        .bind(&grant.id)
        .bind(device_code_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if won == 1 {
            insert_grant(&mut tx, grant, refresh_token, now).await?;
            tx.commit().await?;
            return Ok(Redemption::Redeemed);
        }
        tx.rollback().await?;
        let row = sqlx::query(
            "SELECT grant_id FROM device_codes
             WHERE device_code_hash = $1 AND status = 'redeemed'",
        )
        .bind(device_code_hash)
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
