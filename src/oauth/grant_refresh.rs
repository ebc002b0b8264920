//! The refresh token grant (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2): every use returns a new refresh token; presenting one
//! that was already rotated out revokes its whole family (the grant), with
//! every refresh and access token descended from that authorization.

use super::params::Params;
use super::token_error::TokenError;
use super::token_issuing::{user_tokens, Lifetimes, Subject};
use super::token_response::TokenResponse;
use crate::audit_log::{Actor, Event};
use crate::crypto::{random_token, token_hash};
use crate::model::ClientRecord;
use crate::state::Provider;

/// Records a detected reuse, which revoked the family.
async fn record_reuse(
    provider: &Provider,
    client: &ClientRecord,
    grant: &crate::model::GrantRecord,
    ip: &str,
    how: &'static str,
) {
    let mut event = Event::new(
        "token.refresh_reuse_detected",
        Actor::Client(client.client_id.clone()),
    )
    .client(&client.client_id)
    .ip(ip)
    .detail("grant_id", grant.id.as_str())
    .detail("how", how);
    if let Some(user_id) = &grant.user_id {
        event = event.subject(user_id);
    }
    provider.audit.record(provider.now(), event).await;
}

/// Exchanges a refresh token for new tokens.
pub async fn exchange(
    provider: &Provider,
    client: &ClientRecord,
    params: &Params,
    ip: &str,
) -> Result<TokenResponse, TokenError> {
    if !client.allows_grant("refresh_token") {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use the refresh token grant".into(),
        ));
    }
    let get = |name: &str| params.get(name).ok().flatten();
    let presented = get("refresh_token")
        .ok_or_else(|| TokenError::InvalidRequest("refresh_token is missing".into()))?;
    let now = provider.now();
    let invalid = |why: &str| TokenError::InvalidGrant(why.to_string());
    let old_hash = token_hash(presented);
    let record = provider
        .store
        .refresh_token(&old_hash)
        .await?
        .ok_or_else(|| invalid("the refresh token is invalid"))?;
    let grant = record.grant;
    // Checked before anything else so that a client cannot burn (or trigger
    // reuse detection on) another client's token.
    if grant.client_id != client.client_id {
        return Err(invalid("the refresh token was issued to another client"));
    }
    if record.used_at.is_some() {
        provider.store.revoke_grant(&grant.id, now).await?;
        tracing::warn!(client_id = %client.client_id, grant_id = %grant.id,
            "refresh token reused; revoked its whole family");
        provider.metrics.refresh_reuse.inc();
        record_reuse(provider, client, &grant, ip, "rotated_out").await;
        return Err(invalid("the refresh token has already been used"));
    }
    if !grant.is_active(now) || record.expires_at <= now {
        return Err(invalid("the refresh token has expired or was revoked"));
    }

    let granted: Vec<&str> = grant.scope.split(' ').collect();
    let scope = match get("scope") {
        None => grant.scope.clone(),
        Some(requested) => {
            let mut narrowed: Vec<&str> = Vec::new();
            for s in requested.split(' ').filter(|s| !s.is_empty()) {
                if !granted.contains(&s) {
                    return Err(TokenError::InvalidScope(format!(
                        "scope {s:?} was not part of the original grant"
                    )));
                }
                if !narrowed.contains(&s) {
                    narrowed.push(s);
                }
            }
            if narrowed.is_empty() {
                return Err(TokenError::InvalidScope("scope is empty".into()));
            }
            narrowed.join(" ")
        }
    };

    let user_id = grant
        .user_id
        .clone()
        .ok_or_else(|| invalid("the grant has no user"))?;
    let user = provider
        .store
        .cached_user(&user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| invalid("the user can no longer sign in"))?;

    // Groups decide access again: a user removed from every allowed group
    // keeps no way in through an old grant.
    if !client.admits(&user.groups) {
        return Err(invalid("the user may no longer use this application"));
    }
    let api = super::resource::of_grant(provider, params, grant.resource.as_deref()).await?;
    let lifetimes = Lifetimes::for_client(&provider.config, client);
    let successor = random_token();
    let successor_expires_at = (now + lifetimes.refresh_idle).min(grant.expires_at);
    let rotated = provider
        .store
        .rotate_refresh_token(
            &old_hash,
            &token_hash(&successor),
            &grant.id,
            now,
            successor_expires_at,
        )
        .await?;
    if !rotated {
        // Another request rotated this token first: a concurrent or replayed use.
        provider.store.revoke_grant(&grant.id, now).await?;
        tracing::warn!(client_id = %client.client_id, grant_id = %grant.id,
            "refresh token used twice at once; revoked its whole family");
        provider.metrics.refresh_reuse.inc();
        record_reuse(provider, client, &grant, ip, "concurrent").await;
        return Err(invalid("the refresh token has already been used"));
    }
    tracing::info!(client_id = %client.client_id, sub = %user.id, "refreshed tokens");
    user_tokens(
        provider,
        (client, api.as_deref()),
        &Subject {
            user: &user,
            grant_id: &grant.id,
            sid: grant.sid.as_deref(),
            auth_time: grant.auth_time.unwrap_or(grant.created_at),
            amr: &grant.amr,
        },
        &scope,
        None,
        Some(successor),
    )
    .await
}
