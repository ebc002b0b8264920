//! Token revocation (RFC 7009). Revoking a refresh token revokes its grant
//! and so every token of the family (§2.1); revoking an access token puts its
//! `jti` on the deny-list until it expires. Unknown tokens get 200 (§2.2); a
//! token issued to another client is refused and left alone (§2.1).

use super::params::Params;
use super::token_error::TokenError;
use crate::audit_log::{Actor, Event};
use crate::crypto::jwt::{self, Expect};
use crate::crypto::token_hash;
use crate::model::AccessClaims;
use crate::model::ClientRecord;
use crate::state::Provider;

/// Records a revocation.
async fn record_revocation(
    provider: &Provider,
    client: &ClientRecord,
    user_id: Option<&str>,
    ip: &str,
    kind: &'static str,
) {
    let mut event = Event::new("token.revoked", Actor::Client(client.client_id.clone()))
        .client(&client.client_id)
        .ip(ip)
        .detail("token_type", kind);
    if let Some(user_id) = user_id {
        event = event.subject(user_id);
    }
    provider.audit.record(provider.now(), event).await;
}

/// Revokes `token` for `client`.
pub async fn revoke(
    provider: &Provider,
    client: &ClientRecord,
    params: &Params,
    ip: &str,
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
        record_revocation(
            provider,
            client,
            record.grant.user_id.as_deref(),
            ip,
            "refresh_token",
        )
        .await;
        provider
            .metrics
            .revocations
            .with_label_values(&["refresh_token"])
            .inc();
        return Ok(());
    }
    if token.split('.').count() == 3 {
        let keys = provider.keys().await;
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
                let user = (claims.sub != client.client_id).then_some(claims.sub.as_str());
                record_revocation(provider, client, user, ip, "access_token").await;
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
