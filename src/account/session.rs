//! Browser sessions: a random cookie value, stored only as its SHA-256.

use super::AccountError;
use crate::audit_log::Event;
use crate::crypto::{random_token, token_hash};
use crate::model::{Device, SessionRecord, UserRecord};
use crate::state::Provider;
use crate::store::{Store, StoreError};

/// Opens a session for `user_id` authenticated with `amr` at `now`; returns
/// the cookie value (the only copy of it) and the record. `replacing` is
/// the cookie value of the browser's current session, if any: the same
/// user signing in again keeps its `sid` (OpenID Connect Back-Channel
/// Logout 1.0 §2.7: re-authenticating ends no session, so no client is
/// told); another user's session ends, and its clients are told.
pub async fn open(
    store: &Store,
    replacing: Option<&str>,
    (user_id, amr): (&str, &[&str]),
    device: &Device,
    notice: Option<&crate::model::NewMail>,
    (now, ttl): (i64, i64),
) -> Result<(String, SessionRecord), AccountError> {
    let cookie = random_token();
    let cookie_hash = token_hash(&cookie);
    let mut record = SessionRecord {
        sid: uuid::Uuid::new_v4().to_string(),
        cookie_hash: cookie_hash.clone(),
        user_id: user_id.to_string(),
        auth_time: now,
        amr: amr.join(" "),
        expires_at: now + ttl,
    };
    match replacing {
        Some(old) => {
            record.sid = store
                .replace_session(&token_hash(old), &cookie_hash, &record, device, notice, now)
                .await?;
        }
        None => {
            store
                .create_session(&cookie_hash, &record, device, notice, now)
                .await?
        }
    }
    Ok((cookie, record))
}

/// The upstream the session behind a cookie value was opened through, if
/// any (to sign out there too).
pub async fn federation(
    provider: &Provider,
    cookie: &str,
) -> Result<crate::model::Federation, AccountError> {
    Ok(provider
        .store
        .session_federation(&token_hash(cookie))
        .await?)
}

/// The live session behind a cookie value, if any.
pub async fn find(
    store: &Store,
    cookie: &str,
    now: i64,
) -> Result<Option<SessionRecord>, AccountError> {
    Ok(store.session(&token_hash(cookie), now).await?)
}

/// Ends the session behind a cookie value.
pub async fn close(store: &Store, cookie: &str, now: i64) -> Result<(), AccountError> {
    Ok(store.delete_session(&token_hash(cookie), now).await?)
}

/// The live session behind a cookie value and its user, when that user is
/// still enabled. A cookie that is malformed or names nothing is no session.
pub async fn current(
    provider: &Provider,
    cookie: &str,
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    let session = match find(&provider.store, cookie, provider.now()).await {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(None),
        Err(AccountError::Store(e)) => return Err(e),
        Err(_) => return Ok(None),
    };
    let user = provider.store.cached_user(&session.user_id).await?;
    Ok(user
        .filter(|u| !u.disabled)
        .map(|u| (session, UserRecord::clone(&u))))
}

/// Signs the browser out: ends the session behind the cookie value and
/// records it for its user; `client_id` names the client that asked
/// (RP-initiated logout), `ip` the browser's address.
pub async fn sign_out(
    provider: &Provider,
    cookie: &str,
    client_id: Option<&str>,
    ip: &str,
) -> Result<(), AccountError> {
    let user = current(provider, cookie).await?.map(|(_, user)| user);
    close(&provider.store, cookie, provider.now()).await?;
    tracing::info!("browser session ended by RP-initiated logout");
    if let Some(user) = user {
        let mut event = Event::by_user("session.ended", &user)
            .detail("how", "logout")
            .ip(ip);
        if let Some(client_id) = client_id {
            event = event.client(client_id);
        }
        provider.audit.record(provider.now(), event).await;
    }
    Ok(())
}
