//! Who may call the JSON admin API: a bearer access token (RFC 6750, RFC
//! 9068) that an admin client obtained for itself with client_credentials
//! and the `gatehouse:admin` scope, addressed to itself (`aud` is its
//! client_id, not an API's), while the client is still an admin.
//! Users' tokens never qualify, even an admin's: the API is for automation,
//! and people have the admin screens.

use crate::oauth::scopes::ADMIN_SCOPE;
use crate::oauth::token_validation::{self, Invalid};
use crate::state::Provider;
use crate::store::StoreError;

/// What a bearer token allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The admin client `client_id` may call the API.
    Granted {
        /// The calling client.
        client_id: String,
    },
    /// Not a valid token of ours (the reason is for the log).
    InvalidToken(String),
    /// A valid token that is not an admin client's own with the admin scope.
    InsufficientScope,
}

/// Checks a bearer token presented to the admin API.
pub async fn check(provider: &Provider, token: &str) -> Result<Access, StoreError> {
    let claims = match token_validation::validate(provider, token).await {
        Ok(claims) => claims,
        Err(Invalid::Token(why)) => return Ok(Access::InvalidToken(why)),
        Err(Invalid::Store(e)) => return Err(e),
    };
    // A token issued for an API (RFC 8707 `resource`) is addressed to that
    // API, not to Gatehouse: RFC 9068 §4 has a resource server refuse a
    // token whose `aud` is not its own.
    if claims.aud != claims.client_id {
        return Ok(Access::InvalidToken(format!(
            "the token is for {:?}, not for the admin API",
            claims.aud
        )));
    }
    let has_scope = claims.scope.split(' ').any(|s| s == ADMIN_SCOPE);
    let own_token = claims.sub == claims.client_id && claims.grant_id.is_none();
    let still_admin = provider
        .store
        .client(&claims.client_id)
        .await?
        .is_some_and(|c| c.is_admin);
    if has_scope && own_token && still_admin {
        Ok(Access::Granted {
            client_id: claims.client_id.clone(),
        })
    } else {
        Ok(Access::InsufficientScope)
    }
}
