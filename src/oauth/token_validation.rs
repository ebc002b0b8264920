//! Validating the access tokens Gatehouse issued (RFC 9068 §4): signature by
//! a published key, `typ: at+jwt`, issuer, expiry, and that neither the token
//! (by `jti`) nor its grant has been revoked.

use crate::crypto::jwt::{self, Expect};
use crate::crypto::verified_tokens;
use crate::model::AccessClaims;
use crate::state::Provider;
use crate::store::StoreError;
use std::sync::Arc;

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

/// Verifies an access token and returns its claims. A token the keys in
/// force already verified is not verified again (see [`VerifiedTokens`]);
/// its expiry is.
///
/// [`VerifiedTokens`]: crate::crypto::verified_tokens::VerifiedTokens
pub async fn validate(provider: &Provider, token: &str) -> Result<Arc<AccessClaims>, Invalid> {
    let now = provider.now();
    let keys = provider.keys().await;
    let digest = verified_tokens::digest(token);
    let claims = match provider.verified_tokens.get(&keys, &digest) {
        Some(claims) if claims.exp > now => claims,
        Some(_) => return Err(Invalid::Token("the token has expired".into())),
        None => {
            let claims: Arc<AccessClaims> = Arc::new(
                jwt::verify(
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
                .map_err(|e| Invalid::Token(e.to_string()))?,
            );
            provider.verified_tokens.put(&keys, digest, claims.clone());
            claims
        }
    };
    let usable = provider
        .store
        .access_token_usable(&claims.jti, claims.grant_id.as_deref(), now)
        .await?;
    if !usable {
        return Err(Invalid::Token(
            "the token, or the grant it belongs to, has been revoked or has ended".into(),
        ));
    }
    Ok(claims)
}
