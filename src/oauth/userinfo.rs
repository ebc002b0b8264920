//! The UserInfo endpoint (OpenID Connect Core §5.3) with Bearer tokens
//! (RFC 6750). Claims are released by scope (§5.4): `profile` → name and
//! preferred_username; `email` → email and email_verified.

use super::tokens::AccessClaims;
use crate::crypto::jwt::{self, Expect};
use crate::state::Provider;
use crate::store::{StoreError, UserRecord};
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
}

impl From<StoreError> for UserinfoError {
    fn from(e: StoreError) -> Self {
        UserinfoError::Server(e.to_string())
    }
}

/// Verifies an access token: signature, type, issuer, expiry, and that its
/// grant is still alive.
pub async fn verify_access_token(
    provider: &Provider,
    token: &str,
) -> Result<AccessClaims, UserinfoError> {
    let keys = provider.keys();
    let claims: AccessClaims = jwt::verify(
        &keys,
        token,
        &Expect {
            typ: "at+jwt",
            issuer: &provider.config.issuer,
            audience: None,
            allow_expired: false,
            now: provider.now(),
        },
    )
    .map_err(|e| UserinfoError::InvalidToken(e.to_string()))?;
    if let Some(grant_id) = &claims.grant_id {
        if !provider
            .store
            .grant_is_active(grant_id, provider.now())
            .await?
        {
            return Err(UserinfoError::InvalidToken(
                "the token has been revoked".into(),
            ));
        }
    }
    Ok(claims)
}

/// The claims the token's scopes release about its user.
pub async fn userinfo(provider: &Provider, token: &str) -> Result<Value, UserinfoError> {
    let claims = verify_access_token(provider, token).await?;
    let scopes: Vec<&str> = claims.scope.split(' ').collect();
    if !scopes.contains(&"openid") {
        return Err(UserinfoError::InsufficientScope);
    }
    let user = provider
        .store
        .user_by_id(&claims.sub)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| {
            UserinfoError::InvalidToken("the user no longer exists or is disabled".into())
        })?;
    Ok(released_claims(&user, &scopes))
}

/// Builds the claim set for `scopes`.
pub fn released_claims(user: &UserRecord, scopes: &[&str]) -> Value {
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.id));
    if scopes.contains(&"profile") {
        out.insert("preferred_username".into(), json!(user.username));
        if let Some(name) = &user.name {
            out.insert("name".into(), json!(name));
        }
    }
    if scopes.contains(&"email") {
        if let Some(email) = &user.email {
            out.insert("email".into(), json!(email));
            // Addresses are set by an administrator or a seed file, who vouch
            // for them; Gatehouse has no self-service address change.
            out.insert("email_verified".into(), json!(true));
        }
    }
    Value::Object(out)
}
