//! Issuing the token response for a user's grant: an RFC 9068 access token,
//! an ID token when `openid` is in scope (OpenID Connect Core §3.1.3.3,
//! §12.2 for refreshes), and the refresh token the grant already decided on.
//!
//! An access token for an API (RFC 8707) has the API as `aud`, the API's
//! lifetime and signing algorithm, and the user's roles for the API; one
//! without is for the client (`aud` = client_id) and carries the client's
//! roles when `roles` is in scope. Both carry `groups` with the `groups`
//! scope (RFC 9068 §2.2.3.1). The ID token carries what the scopes release
//! (`claims::released`). Everything about the user comes from the user
//! record already read, so none of it costs a database round trip.

use super::claims;
use super::token_error::TokenError;
use super::token_minting::{at_hash, mint_access_token, mint_id_token, off_worker};
use super::token_response::TokenResponse;
use crate::config::Config;
use crate::crypto::key_set::SigningKey;
use crate::model::{roles_held, AccessClaims, ApiRecord, ClientRecord, IdClaims, UserRecord};
use crate::state::Provider;
use std::sync::Arc;

/// A client's token lifetimes, its own settings over the server defaults.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Access token, seconds.
    pub access_token: i64,
    /// Refresh token idle lifetime, seconds.
    pub refresh_idle: i64,
    /// Grant absolute lifetime, seconds.
    pub refresh_absolute: i64,
}

impl Lifetimes {
    /// Resolves the lifetimes for `client`.
    pub fn for_client(config: &Config, client: &ClientRecord) -> Lifetimes {
        let own = client.lifetimes;
        Lifetimes {
            access_token: own.access_token.unwrap_or(config.access_token_ttl),
            refresh_idle: own
                .refresh_token_idle
                .unwrap_or(config.refresh_token_idle_ttl),
            refresh_absolute: own
                .refresh_token_absolute
                .unwrap_or(config.refresh_token_absolute_ttl),
        }
    }
}

/// The key that signs access tokens for `api` (the API's algorithm), or
/// for the client itself (the server's).
pub async fn access_token_key(
    provider: &Provider,
    api: Option<&ApiRecord>,
) -> Result<Arc<SigningKey>, TokenError> {
    match api {
        None => Ok(provider.keys().await.signing.clone()),
        Some(api) => crate::key_lifecycle::signer_for(provider, &api.signing_alg)
            .await
            .map_err(|e| TokenError::Server(format!("no key for {}: {e}", api.identifier))),
    }
}

/// The access token lifetime: the API's, else the client's, else the server's.
pub fn access_token_ttl(config: &Config, client: &ClientRecord, api: Option<&ApiRecord>) -> i64 {
    api.and_then(|a| a.access_token_ttl)
        .unwrap_or_else(|| Lifetimes::for_client(config, client).access_token)
}

/// The `roles` of an access token: the user's roles for the API, or, for
/// the client itself, its roles when `roles` is in scope.
fn access_token_roles(
    user: &UserRecord,
    client: &ClientRecord,
    api: Option<&ApiRecord>,
    scopes: &[&str],
) -> Option<Vec<String>> {
    match api {
        Some(api) => Some(roles_held(&api.roles, &user.groups)),
        None if scopes.contains(&"roles") => Some(roles_held(&client.roles, &user.groups)),
        None => None,
    }
}

/// What the tokens say about the user and the sign-in.
#[derive(Debug)]
pub struct Subject<'a> {
    /// The user (`sub`), as just read: groups and claims are current.
    pub user: &'a UserRecord,
    /// The grant the tokens belong to.
    pub grant_id: &'a str,
    /// Browser session of the sign-in.
    pub sid: Option<&'a str>,
    /// When the user authenticated.
    pub auth_time: i64,
    /// Methods used, space-separated.
    pub amr: &'a str,
}

/// Signs the tokens for `scope` (space-separated), for `api` if the grant
/// names one, and builds the response.
pub async fn user_tokens(
    provider: &Provider,
    (client, api): (&ClientRecord, Option<&ApiRecord>),
    subject: &Subject<'_>,
    scope: &str,
    nonce: Option<&str>,
    refresh_token: Option<String>,
) -> Result<TokenResponse, TokenError> {
    let config = &provider.config;
    let now = provider.now();
    let user = subject.user;
    let scopes: Vec<&str> = scope.split(' ').collect();
    let access_ttl = access_token_ttl(config, client, api);
    let access_key = access_token_key(provider, api).await?;
    let keys = provider.keys().await;
    let access_claims = AccessClaims {
        iss: config.issuer.clone(),
        sub: user.id.clone(),
        aud: api.map_or_else(|| client.client_id.clone(), |a| a.identifier.clone()),
        exp: now + access_ttl,
        iat: now,
        jti: String::new(),
        client_id: client.client_id.clone(),
        scope: scope.to_string(),
        auth_time: Some(subject.auth_time),
        grant_id: Some(subject.grant_id.to_string()),
        groups: scopes.contains(&"groups").then(|| user.groups.clone()),
        roles: access_token_roles(user, client, api, &scopes),
    };
    let openid = scopes.contains(&"openid");
    // Custom scopes are read (from the cache) only when one may be asked for.
    let custom = if openid && scopes.iter().any(|s| !claims::STANDARD_SCOPES.contains(s)) {
        provider.store.custom_scopes().await?
    } else {
        Arc::default()
    };
    let id_claims = openid.then(|| IdClaims {
        iss: config.issuer.clone(),
        sub: user.id.clone(),
        aud: client.client_id.clone(),
        azp: client.client_id.clone(),
        exp: now + config.id_token_ttl,
        iat: now,
        auth_time: subject.auth_time,
        nonce: nonce.map(str::to_string),
        amr: subject.amr.split(' ').map(str::to_string).collect(),
        sid: subject.sid.map(str::to_string),
        at_hash: None,
        released: claims::released_for(provider.test_mode(), user, &scopes, client, &custom),
    });
    let (access_token, id_token) = off_worker(move || {
        let (access_token, _) = mint_access_token(&access_key, access_claims)?;
        let id_token = match id_claims {
            Some(claims) => Some(mint_id_token(
                &keys.signing,
                &IdClaims {
                    at_hash: Some(at_hash(&access_token)),
                    ..claims
                },
            )?),
            None => None,
        };
        Ok((access_token, id_token))
    })
    .await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: access_ttl,
        scope: scope.to_string(),
        id_token,
        refresh_token,
        user_id: Some(user.id.clone()),
    })
}
