//! The UserInfo endpoint (OpenID Connect Core §5.3) with Bearer tokens
//! (RFC 6750). Claims are released by scope (§5.4), as `claims::released`
//! says: the standard claims, groups, the user's roles for the client, and
//! custom claims.

use super::{claims, token_validation};
use crate::state::Provider;
use crate::store::StoreError;
use serde_json::{json, Map, Value};

/// Why a UserInfo request failed (RFC 6750 §3.1).
#[derive(Debug, thiserror::Error)]
pub enum UserinfoError {
    /// No token at all: the answer carries no error code (RFC 6750 §3.1).
    #[error("no access token")]
    Missing,
    /// Malformed request (two tokens, say).
    #[error("invalid_request")]
    InvalidRequest(String),
    /// Expired, revoked, forged or unknown token.
    #[error("invalid_token")]
    InvalidToken(String),
    /// The token was not issued for OpenID Connect.
    #[error("insufficient_scope")]
    InsufficientScope,
    /// Our fault.
    #[error("server_error")]
    Server(String),
    /// The database is unreachable for now.
    #[error("temporarily_unavailable")]
    Unavailable(String),
}

impl From<StoreError> for UserinfoError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            UserinfoError::Unavailable(e.to_string())
        } else {
            UserinfoError::Server(e.to_string())
        }
    }
}

/// The claims the token's scopes release about its user.
pub async fn userinfo(provider: &Provider, token: &str) -> Result<Value, UserinfoError> {
    let claims = token_validation::validate(provider, token)
        .await
        .map_err(|e| match e {
            token_validation::Invalid::Token(why) => UserinfoError::InvalidToken(why),
            token_validation::Invalid::Store(e) => e.into(),
        })?;
    let scopes: Vec<&str> = claims.scope.split(' ').collect();
    // Tokens of the client_credentials grant speak for a client, not a user.
    if !scopes.contains(&"openid") || claims.grant_id.is_none() {
        return Err(UserinfoError::InsufficientScope);
    }
    let user = provider
        .store
        .cached_user(&claims.sub)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| {
            UserinfoError::InvalidToken("the user no longer exists or is disabled".into())
        })?;
    let client = provider
        .store
        .client(&claims.client_id)
        .await?
        .ok_or_else(|| UserinfoError::InvalidToken("the client no longer exists".into()))?;
    let custom = if scopes.iter().any(|s| !claims::STANDARD_SCOPES.contains(s)) {
        provider.store.custom_scopes().await?
    } else {
        Default::default()
    };
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.id));
    out.extend(claims::released_for(
        provider.test_mode(),
        &user,
        &scopes,
        &client,
        &custom,
    ));
    Ok(Value::Object(out))
}
