//! The client credentials grant (RFC 6749 §4.4): a confidential client gets
//! an access token for itself. No refresh token (§4.4.3), no ID token; `sub`
//! is the client_id (RFC 9068 §2.2), which is never a UUID like a user's.
//! With `resource` (RFC 8707), the token is for that API: its `aud`, its
//! scopes, its lifetime and its signing algorithm.

use super::params::Params;
use super::token_error::TokenError;
use super::token_issuing::{access_token_key, access_token_ttl};
use super::token_minting::mint_access_token;
use super::token_response::TokenResponse;
use crate::model::AccessClaims;
use crate::model::ClientRecord;
use crate::oauth::scopes::ADMIN_SCOPE;
use crate::state::Provider;

/// Scopes that only make sense with a user.
const USER_SCOPES: &[&str] = &[
    "openid",
    "offline_access",
    "profile",
    "email",
    "phone",
    "address",
    "groups",
    "roles",
];

/// Issues an access token to the client itself.
pub async fn exchange(
    provider: &Provider,
    client: &ClientRecord,
    params: &Params,
) -> Result<TokenResponse, TokenError> {
    if client.is_public() || !client.allows_grant("client_credentials") {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use the client credentials grant".into(),
        ));
    }
    let api = match super::resource::requested(params).map_err(TokenError::InvalidTarget)? {
        Some(uri) => Some(super::resource::api_for(provider, client, uri).await?),
        None => None,
    };
    let api = api.as_deref();
    let allowed: Vec<&str> = client
        .scopes
        .iter()
        .map(String::as_str)
        .filter(|s| !USER_SCOPES.contains(s))
        // The admin API's scope, only ever for a client marked admin.
        .filter(|s| *s != ADMIN_SCOPE || client.is_admin)
        .chain(
            api.iter()
                .flat_map(|a| a.scopes.iter().map(|s| s.name.as_str())),
        )
        .collect();
    let scope = match params.get("scope").ok().flatten() {
        None => allowed.join(" "),
        Some(requested) => {
            let mut chosen: Vec<&str> = Vec::new();
            for s in requested.split(' ').filter(|s| !s.is_empty()) {
                if !allowed.contains(&s) {
                    return Err(TokenError::InvalidScope(format!(
                        "scope {s:?} is not allowed for this client"
                    )));
                }
                if !chosen.contains(&s) {
                    chosen.push(s);
                }
            }
            chosen.join(" ")
        }
    };
    let config = &provider.config;
    let now = provider.now();
    let ttl = access_token_ttl(config, client, api);
    let key = access_token_key(provider, api).await?;
    // Signed on the worker: nothing on this path waits for the database, so
    // handing the signature to another thread (as user tokens do, see
    // `off_worker`) only adds a hand-off; measured, it doubled p99.
    let (access_token, _) = mint_access_token(
        &key,
        AccessClaims {
            iss: config.issuer.clone(),
            sub: client.client_id.clone(),
            aud: api.map_or_else(|| client.client_id.clone(), |a| a.identifier.clone()),
            exp: now + ttl,
            iat: now,
            jti: String::new(),
            client_id: client.client_id.clone(),
            scope: scope.clone(),
            auth_time: None,
            grant_id: None,
            groups: None,
            roles: None,
        },
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        scope,
        id_token: None,
        refresh_token: None,
        user_id: None,
    })
}
