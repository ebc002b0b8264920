//! Token revocation (RFC 7009). Revoking a refresh token revokes its grant
//! and so every token of the family (§2.1); revoking an access token puts its
//! `jti` on the deny-list until it expires. Unknown tokens get 200 (§2.2); a
//! token issued to another client is refused and left alone (§2.1).

use super::params::Params;
use super::token_error::TokenError;
use super::tokens::AccessClaims;
use crate::crypto::jwt::{self, Expect};
use crate::crypto::token_hash;
use crate::state::Provider;
use crate::store::ClientRecord;

/// Revokes `token` for `client`.
pub async fn revoke(
    provider: &Provider,
    client: &ClientRecord,
    params: &Params,
) -> Result<(), TokenError> {
    let token = TokenError::the_token(params)?;
    let now = provider.now();
    let not_yours = || TokenError::InvalidRequest("the token was not issued to this client".into());

    if let Some(record) = provider.store.refresh_token(&token_hash(token)).await? {
        if record.grant.client_id != client.client_id {
            return Err(not_yours());
        }
        provider.store.revoke_grant(&record.grant.id, now).await?;
        tracing::info!(client_id = %client.client_id, grant_id = %record.grant.id, "refresh token revoked");
        provider
            .metrics
            .revocations
            .with_label_values(&["refresh_token"])
            .inc();
        return Ok(());
    }
    if token.split('.').count() == 3 {
        let keys = provider.keys();
        let expect = Expect {
            typ: "at+jwt",
            issuer: &provider.config.issuer,
            audience: None,
            allow_expired: true,
            now,
        };
        if let Ok(claims) = jwt::verify::<AccessClaims>(&keys, token, &expect) {
            if claims.client_id != client.client_id {
                return Err(not_yours());
            }
            if claims.exp > now {
                provider
                    .store
                    .revoke_access_token(&claims.jti, claims.exp)
                    .await?;
                tracing::info!(client_id = %client.client_id, jti = %claims.jti, "access token revoked");
                provider
                    .metrics
                    .revocations
                    .with_label_values(&["access_token"])
                    .inc();
            }
        }
    }
    Ok(())
}
