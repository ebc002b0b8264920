//! What redeeming a person's authorization makes ready, the same for an
//! authorization code (RFC 6749 §4.1.3) and a device code (RFC 8628 §3.5):
//! the user, if they may still sign in; the API the tokens are for
//! (RFC 8707); the grant, the token family (RFC 9700 §4.14) that carries
//! the browser session's sign-in; and a refresh token when `offline_access`
//! was granted to a client that may refresh. The caller redeems its code
//! with the grant in one transaction, then issues the tokens (`issue`).

use super::params::Params;
use super::token_error::TokenError;
use super::token_issuing::{user_tokens, Lifetimes, Subject};
use super::token_response::TokenResponse;
use crate::crypto::{random_token, token_hash};
use crate::model::{ApiRecord, ClientRecord, NewGrant, UserRecord};
use crate::state::Provider;
use std::sync::Arc;

/// The sign-in a code stands for.
pub struct Authorization<'a> {
    /// Who allowed it.
    pub user_id: &'a str,
    /// What was granted, space-separated.
    pub scope: &'a str,
    /// The API asked for when it was allowed, if any.
    pub resource: Option<&'a str>,
    /// The browser session it was allowed in.
    pub sid: &'a str,
    /// When that session's user authenticated.
    pub auth_time: i64,
    /// How, space-separated.
    pub amr: &'a str,
}

/// A grant ready to be stored with the code's redemption.
pub struct Prepared {
    /// The user, enabled.
    pub user: Arc<UserRecord>,
    /// The API the access token is for.
    pub api: Option<Arc<ApiRecord>>,
    /// The token family.
    pub grant: NewGrant,
    /// The refresh token to hand out, if any.
    pub refresh_token: Option<String>,
    /// Its hash and idle expiry, as stored.
    pub refresh: Option<(String, i64)>,
    /// When the user authenticated.
    pub auth_time: i64,
}

impl Prepared {
    /// The refresh token's hash and expiry as the store takes them.
    pub fn stored_refresh(&self) -> Option<(&str, i64)> {
        self.refresh.as_ref().map(|(hash, at)| (hash.as_str(), *at))
    }

    /// The tokens of the grant, once the caller's redemption stored it;
    /// `nonce` is the authorization request's, if it had one.
    pub async fn issue(
        self,
        provider: &Provider,
        client: &ClientRecord,
        nonce: Option<&str>,
    ) -> Result<TokenResponse, TokenError> {
        let grant = &self.grant;
        user_tokens(
            provider,
            (client, self.api.as_deref()),
            &Subject {
                user: &self.user,
                grant_id: &grant.id,
                sid: grant.sid.as_deref(),
                auth_time: self.auth_time,
                amr: &grant.amr,
            },
            &grant.scope,
            nonce,
            self.refresh_token,
        )
        .await
    }
}

/// Prepares the grant for `authorization`, redeemed by `client` with the
/// token request's `params` (which may narrow `resource`).
pub async fn prepare(
    provider: &Provider,
    client: &ClientRecord,
    params: &Params,
    authorization: &Authorization<'_>,
) -> Result<Prepared, TokenError> {
    let now = provider.now();
    let user = provider
        .store
        .cached_user(authorization.user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| TokenError::InvalidGrant("the user can no longer sign in".into()))?;
    let api = super::resource::of_grant(provider, params, authorization.resource).await?;
    let lifetimes = Lifetimes::for_client(&provider.config, client);
    let offline = authorization
        .scope
        .split(' ')
        .any(|s| s == "offline_access");
    let refresh_token = (offline && client.allows_grant("refresh_token")).then(random_token);
    let expires_at = now + lifetimes.refresh_absolute;
    let grant = NewGrant {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: Some(user.id.clone()),
        client_id: client.client_id.clone(),
        scope: authorization.scope.to_string(),
        sid: Some(authorization.sid.to_string()),
        auth_time: Some(authorization.auth_time),
        amr: authorization.amr.to_string(),
        resource: authorization.resource.map(str::to_string),
        expires_at,
    };
    let refresh = refresh_token.as_deref().map(|token| {
        (
            token_hash(token),
            (now + lifetimes.refresh_idle).min(expires_at),
        )
    });
    Ok(Prepared {
        user,
        api,
        grant,
        refresh_token,
        refresh,
        auth_time: authorization.auth_time,
    })
}
