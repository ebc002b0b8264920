//! Validating the access tokens Gatehouse issued (RFC 9068 §4): signature by
//! a published key, `typ: at+jwt`, issuer, expiry, and that neither the token
//! (by `jti`) nor its grant has been revoked.

use super::tokens::AccessClaims;
use crate::crypto::jwt::{self, Expect};
use crate::state::Provider;
use crate::store::StoreError;

/// Why a token is not acceptable.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    /// Not one of ours, tampered, expired or revoked; the reason is for logs.
    #[error("{0}")]
    Token(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Verifies an access token and returns its claims.
pub async fn validate(provider: &Provider, token: &str) -> Result<AccessClaims, Invalid> {
    let now = provider.now();
    let keys = provider.keys();
    let claims: AccessClaims = jwt::verify(
        &keys,
        token,
        &Expect {
            typ: "at+jwt",
            issuer: &provider.config.issuer,
            audience: None,
            allow_expired: false,
            now,
        },
    )
    .map_err(|e| Invalid::Token(e.to_string()))?;
    if let Some(grant_id) = &claims.grant_id {
        if !provider.store.grant_is_active(grant_id, now).await? {
            return Err(Invalid::Token(
                "the grant has been revoked or has ended".into(),
            ));
        }
    }
    if provider.store.access_token_revoked(&claims.jti).await? {
        return Err(Invalid::Token("the token has been revoked".into()));
    }
    Ok(claims)
}
