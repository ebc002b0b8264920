//! Ending browser sessions, and telling the clients (OpenID Connect
//! Back-Channel Logout 1.0 §2.7: the OP sends a logout token to every RP
//! with a back-channel logout URI that the session logged in to).
//!
//! Every statement that ends sessions — sign-out, an admin, a disabled or
//! deleted user, a password reset — goes through [`end_sessions`], which in
//! the caller's transaction deletes the sessions (`DELETE … RETURNING`, so
//! it learns exactly which ended, even when another request races it) and
//! queues, in the outbox, one logout token per ended session and client
//! that got a grant in it and registered a `backchannel_logout_uri`. The
//! delete and the queue commit together or not at all. Expired sessions
//! pruned by housekeeping are not ended by anyone and tell no client.
//!
//! What the session could still give out dies with it, in the same
//! transaction: its unused authorization codes are deleted (their row
//! locks make a redemption racing the ending find nothing), and device
//! codes approved in it but not yet redeemed expire, so the device is told
//! `expired_token` (RFC 8628 §3.5). Otherwise a grant could be made after
//! the ending, carrying a dead `sid` that no logout token would ever name.

use super::outbox::insert_logout;
use super::{Store, StoreError};
use crate::model::LogoutNotice;
use sqlx::Row;

/// Which sessions end.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ending<'a> {
    /// The one whose cookie value hashes to this.
    Cookie(&'a str),
    /// One session of a user, by its public id.
    OneOfUser { user_id: &'a str, sid: &'a str },
    /// Every session of a user but one.
    OthersOfUser { user_id: &'a str, keep_sid: &'a str },
    /// Every session of a user.
    AllOfUser(&'a str),
}

impl<'a> Ending<'a> {
    /// The `WHERE` clause and its arguments, in placeholder order.
    fn condition(&self) -> (&'static str, Vec<&'a str>) {
        match *self {
            Ending::Cookie(id_hash) => ("id_hash = $1", vec![id_hash]),
            Ending::OneOfUser { user_id, sid } => ("user_id = $1 AND sid = $2", vec![user_id, sid]),
            Ending::OthersOfUser { user_id, keep_sid } => {
                ("user_id = $1 AND sid <> $2", vec![user_id, keep_sid])
            }
            Ending::AllOfUser(user_id) => ("user_id = $1", vec![user_id]),
        }
    }
}

/// What ending sessions did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Ended {
    /// Sessions deleted.
    pub sessions: u64,
    /// Logout tokens queued.
    pub logouts: u64,
}

/// Deletes the sessions `ending` names and queues their logout tokens,
/// inside the caller's transaction.
pub(crate) async fn end_sessions(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ending: Ending<'_>,
    now: i64,
) -> Result<Ended, StoreError> {
    let (condition, args) = ending.condition();
    let sql = format!("DELETE FROM browser_sessions WHERE {condition} RETURNING sid, user_id");
    let mut delete = sqlx::query(&sql);
    for arg in args {
        delete = delete.bind(arg);
    }
    let ended = delete.fetch_all(&mut **tx).await?;
    let mut result = Ended {
        sessions: ended.len() as u64,
        logouts: 0,
    };
    for row in &ended {
        let sid: String = row.try_get("sid")?;
        let user_id: String = row.try_get("user_id")?;
        revoke_unredeemed_codes(tx, &sid, now).await?;
        // Revoked grants count too: the client got tokens in this session
        // and may still hold a session of its own built on them.
        let clients = sqlx::query(
            "SELECT DISTINCT c.client_id, c.backchannel_logout_uri
             FROM grants g JOIN clients c ON c.client_id = g.client_id
             WHERE g.sid = $1 AND c.backchannel_logout_uri IS NOT NULL
               AND c.backchannel_logout_uri <> ''
             ORDER BY c.client_id",
        )
        .bind(&sid)
        .fetch_all(&mut **tx)
        .await?;
        for client in &clients {
            let notice = LogoutNotice {
                client_id: client.try_get("client_id")?,
                sub: user_id.clone(),
                sid: sid.clone(),
            };
            let uri: String = client.try_get("backchannel_logout_uri")?;
            insert_logout(tx, &notice, &uri, now).await?;
            result.logouts += 1;
        }
    }
    Ok(result)
}

/// Deletes the unused authorization codes of session `sid` and expires
/// the device codes approved in it but not yet redeemed.
async fn revoke_unredeemed_codes(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sid: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM authorization_codes WHERE sid = $1 AND used_at IS NULL")
        .bind(sid)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE device_codes SET expires_at = $1
         WHERE sid = $2 AND status = 'approved' AND expires_at > $1",
    )
    .bind(now)
    .bind(sid)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Wakes the back-channel deliverer if `ended` queued logout tokens.
    pub(crate) fn logouts_queued(&self, ended: Ended) {
        if ended.logouts > 0 {
            self.logout_wake.notify_one();
        }
    }

    /// What the back-channel deliverer waits on between its looks at the
    /// outbox: woken when a logout token is queued in this process.
    pub fn logout_wake(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.logout_wake.clone()
    }
}
