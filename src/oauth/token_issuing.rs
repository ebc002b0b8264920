//! Issuing the token response for a user's grant: an RFC 9068 access token,
//! an ID token when `openid` is in scope (OpenID Connect Core §3.1.3.3,
//! §12.2 for refreshes), and the refresh token the grant already decided on.

use super::token_error::TokenError;
use super::token_minting::{at_hash, mint_access_token, mint_id_token, off_worker};
use super::token_response::TokenResponse;
use crate::config::Config;
use crate::model::ClientRecord;
use crate::model::{AccessClaims, IdClaims};
use crate::state::Provider;

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

/// What the tokens say about the user and the sign-in.
#[derive(Debug)]
pub struct Subject<'a> {
    /// The user id (`sub`).
    pub user_id: &'a str,
    /// The grant the tokens belong to.
    pub grant_id: &'a str,
    /// Browser session of the sign-in.
    pub sid: Option<&'a str>,
    /// When the user authenticated.
    pub auth_time: i64,
    /// Methods used, space-separated.
    pub amr: &'a str,
}

/// Signs the tokens for `scope` (space-separated) and builds the response.
pub async fn user_tokens(
    provider: &Provider,
    client: &ClientRecord,
    subject: &Subject<'_>,
    scope: &str,
    nonce: Option<&str>,
    refresh_token: Option<String>,
) -> Result<TokenResponse, TokenError> {
    let config = &provider.config;
    let now = provider.now();
    let lifetimes = Lifetimes::for_client(config, client);
    let keys = provider.keys();
    let access_claims = AccessClaims {
        iss: config.issuer.clone(),
        sub: subject.user_id.to_string(),
        aud: client.client_id.clone(),
        exp: now + lifetimes.access_token,
        iat: now,
        jti: String::new(),
        client_id: client.client_id.clone(),
        scope: scope.to_string(),
        auth_time: Some(subject.auth_time),
        grant_id: Some(subject.grant_id.to_string()),
    };
    let id_claims = scope.split(' ').any(|s| s == "openid").then(|| IdClaims {
        iss: config.issuer.clone(),
        sub: subject.user_id.to_string(),
        aud: client.client_id.clone(),
        azp: client.client_id.clone(),
        exp: now + config.id_token_ttl,
        iat: now,
        auth_time: subject.auth_time,
        nonce: nonce.map(str::to_string),
        amr: subject.amr.split(' ').map(str::to_string).collect(),
        sid: subject.sid.map(str::to_string),
        at_hash: None,
    });
    let (access_token, id_token) = off_worker(move || {
        let (access_token, _) = mint_access_token(&keys.signing, access_claims)?;
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
        expires_in: lifetimes.access_token,
        scope: scope.to_string(),
        id_token,
        refresh_token,
        user_id: Some(subject.user_id.to_string()),
    })
}
