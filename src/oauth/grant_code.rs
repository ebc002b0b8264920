//! The authorization code grant at the token endpoint (RFC 6749 §4.1.3,
//! RFC 7636 §4.6, OpenID Connect Core §3.1.3). A code is used once: the
//! redemption is one conditional UPDATE, and a replay revokes what the first
//! redemption issued (RFC 6749 §4.1.2, RFC 9700 §4.2.4).

use super::params::Params;
use super::pkce;
use super::token_error::TokenError;
use super::token_response::TokenResponse;
use super::user_grant::{prepare, Authorization};
use crate::audit_log::{Actor, Event};
use crate::crypto::token_hash;
use crate::model::ClientRecord;
use crate::state::Provider;
use crate::store::Redemption;

/// Records a replayed code, which revoked what its first use issued.
async fn record_replay(provider: &Provider, client: &ClientRecord, grant_id: &str, ip: &str) {
    let event = Event::new(
        "token.code_replay_detected",
        Actor::Client(client.client_id.clone()),
    )
    .client(&client.client_id)
    .ip(ip)
    .detail("grant_id", grant_id);
    provider.audit.record(provider.now(), event).await;
}

/// Exchanges a code for tokens.
pub async fn exchange(
    provider: &Provider,
    client: &ClientRecord,
    params: &Params,
    ip: &str,
) -> Result<TokenResponse, TokenError> {
    if !client.allows_grant("authorization_code") {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use the authorization code grant".into(),
        ));
    }
    let get = |name: &str| params.get(name).ok().flatten();
    let code = get("code").ok_or_else(|| TokenError::InvalidRequest("code is missing".into()))?;
    let redirect_uri = get("redirect_uri")
        .ok_or_else(|| TokenError::InvalidRequest("redirect_uri is missing".into()))?;
    let verifier = get("code_verifier");

    let now = provider.now();
    let code_hash = token_hash(code);
    let invalid = |why: &str| TokenError::InvalidGrant(why.to_string());
    let record = provider
        .store
        .code(&code_hash)
        .await?
        .ok_or_else(|| invalid("the code is invalid"))?;
    if record.client_id != client.client_id {
        return Err(invalid("the code was issued to another client"));
    }
    if record.redirect_uri != redirect_uri {
        return Err(invalid(
            "redirect_uri differs from the authorization request",
        ));
    }
    match (&record.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) if pkce::verify(verifier, challenge) => {}
        (Some(_), Some(_)) => {
            return Err(invalid("code_verifier does not match the code_challenge"))
        }
        (Some(_), None) => {
            return Err(TokenError::InvalidRequest(
                "code_verifier is missing".into(),
            ))
        }
        // RFC 9700 §4.8.2: a verifier for a code issued without a challenge
        // signals a downgrade attempt.
        (None, Some(_)) => return Err(invalid("the authorization request had no code_challenge")),
        (None, None) => {}
    }

    if record.expires_at <= now {
        // A used code presented late is still a replay.
        if let Some(first) = &record.grant_id {
            provider.store.revoke_grant(first, now).await?;
            tracing::warn!(client_id = %client.client_id, grant_id = %first,
                "expired authorization code replayed; revoked the tokens it issued");
            record_replay(provider, client, first, ip).await;
        }
        return Err(invalid("the code has expired"));
    }
    let prepared = prepare(
        provider,
        client,
        params,
        &Authorization {
            user_id: &record.user_id,
            scope: &record.scope,
            resource: record.resource.as_deref(),
            sid: &record.sid,
            auth_time: record.auth_time,
            amr: &record.amr,
        },
    )
    .await?;
    let redemption = provider
        .store
        .redeem_code(&code_hash, &prepared.grant, prepared.stored_refresh(), now)
        .await?;
    match redemption {
        Redemption::Redeemed => {}
        Redemption::AlreadyUsed { grant_id } => {
            if let Some(first) = grant_id {
                provider.store.revoke_grant(&first, now).await?;
                tracing::warn!(client_id = %client.client_id, grant_id = %first,
                    "authorization code replayed; revoked the tokens it issued");
                record_replay(provider, client, &first, ip).await;
            }
            return Err(invalid("the code has already been used"));
        }
        Redemption::Unknown => return Err(invalid("the code is invalid")),
    }
    tracing::info!(client_id = %client.client_id, sub = %prepared.user.id, "issued tokens for an authorization code");
    prepared
        .issue(provider, client, record.nonce.as_deref())
        .await
}
