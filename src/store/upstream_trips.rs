//! Trips to upstream providers in progress, and what a session or a
//! second-factor challenge remembers of the upstream it came through. A
//! trip is taken with one `DELETE … RETURNING`, so of two browsers coming
//! back with the same `state`, exactly one gets it.

use super::{flag, Store, StoreError};
use crate::model::{Federation, TripPurpose, UpstreamTrip};
use sqlx::Row;

impl Store {
    /// Records a trip to an upstream under the hash of its `state`.
    pub async fn create_upstream_trip(
        &self,
        state_hash: &str,
        trip: &UpstreamTrip,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO upstream_trips (state_hash, upstream_id, purpose, browser_hash, user_id,
                                         request_id, then_page, nonce, code_verifier, auth_after,
                                         auth_time_required, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(state_hash)
        .bind(&trip.upstream_id)
        .bind(trip.purpose.as_str())
        .bind(&trip.browser_hash)
        .bind(&trip.user_id)
        .bind(&trip.request_id)
        .bind(&trip.then_page)
        .bind(&trip.nonce)
        .bind(&trip.code_verifier)
        .bind(trip.auth_after)
        .bind(i64::from(trip.auth_time_required))
        .bind(trip.expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Takes the live trip recorded under `state_hash` out of the
    /// database: whoever takes it is the only one to.
    pub async fn take_upstream_trip(
        &self,
        state_hash: &str,
        now: i64,
    ) -> Result<Option<UpstreamTrip>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM upstream_trips WHERE state_hash = $1
             RETURNING upstream_id, purpose, browser_hash, user_id, request_id, then_page, nonce,
                       code_verifier, auth_after, auth_time_required, expires_at",
        )
        .bind(state_hash)
        .fetch_optional(&self.writer)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let purpose: String = row.try_get("purpose")?;
        let trip = UpstreamTrip {
            upstream_id: row.try_get("upstream_id")?,
            purpose: TripPurpose::parse(&purpose)
                .ok_or_else(|| StoreError::Corrupt(format!("upstream trip: {purpose}")))?,
            browser_hash: row.try_get("browser_hash")?,
            user_id: row.try_get("user_id")?,
            request_id: row.try_get("request_id")?,
            then_page: row.try_get("then_page")?,
            nonce: row.try_get("nonce")?,
            code_verifier: row.try_get("code_verifier")?,
            auth_after: row.try_get("auth_after")?,
            auth_time_required: flag(&row, "auth_time_required")?,
            expires_at: row.try_get("expires_at")?,
        };
        Ok((trip.expires_at > now).then_some(trip))
    }

    /// Notes which upstream a session was opened through.
    pub async fn set_session_federation(
        &self,
        sid: &str,
        federation: &Federation,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE browser_sessions SET upstream_id = $2, upstream_id_token = $3 WHERE sid = $1",
        )
        .bind(sid)
        .bind(&federation.upstream_id)
        .bind(&federation.id_token)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Which upstream the session behind a cookie hash was opened through.
    pub async fn session_federation(&self, id_hash: &str) -> Result<Federation, StoreError> {
        let row = sqlx::query(
            "SELECT upstream_id, upstream_id_token FROM browser_sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.writer)
        .await?;
        let Some(row) = row else {
            return Ok(Federation::default());
        };
        Ok(Federation {
            upstream_id: row.try_get("upstream_id")?,
            id_token: row.try_get("upstream_id_token")?,
        })
    }

    /// Notes, on a second-factor challenge, the first factor that opened it
    /// (when it was not a password) and the upstream it came through.
    pub async fn set_challenge_first_factor(
        &self,
        id_hash: &str,
        first_amr: &str,
        federation: &Federation,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE mfa_challenges SET first_amr = $2, upstream_id = $3, upstream_id_token = $4
             WHERE id_hash = $1",
        )
        .bind(id_hash)
        .bind(first_amr)
        .bind(&federation.upstream_id)
        .bind(&federation.id_token)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
