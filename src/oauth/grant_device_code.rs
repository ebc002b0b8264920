//! The device code grant at the token endpoint (RFC 8628 §3.4–3.5): the
//! device polls with its device code until its user decides. Pending, it is
//! told `authorization_pending`, or `slow_down` when it polls before its
//! interval has passed (the interval then grows by five seconds, remembered
//! on the code); refused, `access_denied`; too late, `expired_token`.
//! Approved, it gets the tokens the code flow would give (OpenID Connect
//! Core §3.1.3.3; no nonce, which only an authorization request carries),
//! once: redemption is one conditional UPDATE in the transaction that
//! creates the grant, so of many concurrent polls exactly one gets tokens.

use super::params::Params;
use super::token_error::TokenError;
use super::token_response::TokenResponse;
use super::user_grant::{prepare, Authorization};
use crate::crypto::token_hash;
use crate::model::{ClientRecord, DeviceStatus, DEVICE_CODE_GRANT};
use crate::state::Provider;
use crate::store::{PollPace, Redemption};

/// Exchanges an approved device code for tokens, or says why not yet.
pub async fn exchange(
    provider: &Provider,
    client: &ClientRecord,
    params: &Params,
) -> Result<TokenResponse, TokenError> {
    if !client.allows_grant(DEVICE_CODE_GRANT) {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use the device authorization grant".into(),
        ));
    }
    let device_code = params
        .get("device_code")
        .ok()
        .flatten()
        .ok_or_else(|| TokenError::InvalidRequest("device_code is missing".into()))?;
    let hash = token_hash(device_code);
    let invalid = |why: &str| TokenError::InvalidGrant(why.to_string());
    let now = provider.now();
    let record = provider
        .store
        .device_code(&hash)
        .await?
        .ok_or_else(|| invalid("the device code is invalid"))?;
    if record.client_id != client.client_id {
        return Err(invalid("the device code was issued to another client"));
    }
    if record.status == DeviceStatus::Redeemed {
        return Err(invalid("the device code has already been used"));
    }
    if record.expires_at <= now {
        return Err(TokenError::ExpiredToken(
            "the device code has expired; start again".into(),
        ));
    }
    let approval = match (record.status, &record.approval) {
        (DeviceStatus::Denied, _) => {
            return Err(TokenError::AccessDenied(
                "the user refused to authorize this device".into(),
            ))
        }
        (DeviceStatus::Approved, Some(approval)) => approval,
        _ => {
            return Err(match provider.store.note_device_poll(&hash, now).await? {
                PollPace::InTime => TokenError::AuthorizationPending(
                    "the user has not decided yet; poll again after the interval".into(),
                ),
                PollPace::TooFast { interval } => TokenError::SlowDown(format!(
                    "polling too fast; wait at least {interval} seconds between requests"
                )),
                PollPace::Unknown => invalid("the device code is invalid"),
            })
        }
    };
    let prepared = prepare(
        provider,
        client,
        params,
        &Authorization {
            user_id: &approval.user_id,
            scope: &record.scope,
            resource: record.resource.as_deref(),
            sid: &approval.sid,
            auth_time: approval.auth_time,
            amr: &approval.amr,
        },
    )
    .await?;
    let redemption = provider
        .store
        .redeem_device_code(&hash, &prepared.grant, prepared.stored_refresh(), now)
        .await?;
    match redemption {
        Redemption::Redeemed => {}
        // Another poll won; it holds the tokens. Nothing to revoke: the
        // device asked twice, nobody stole anything it did not already have.
        Redemption::AlreadyUsed { .. } => {
            return Err(invalid("the device code has already been used"))
        }
        Redemption::Unknown => {
            return Err(TokenError::ExpiredToken(
                "the device code has expired; start again".into(),
            ))
        }
    }
    tracing::info!(client_id = %client.client_id, sub = %prepared.user.id, "issued tokens for a device code");
    prepared.issue(provider, client, None).await
}
