//! Token introspection (RFC 7662). The caller authenticates as a client and
//! learns about its own tokens, and, if it is marked as introspecting for
//! APIs (a resource server or a gateway in front of one), about the access
//! tokens addressed to those APIs (§2.1 leaves to the server whom it
//! answers). Anything else (expired, revoked, malformed, unknown, or
//! another's) is exactly `{"active": false}` (§2.2).

use super::params::Params;
use super::token_error::TokenError;
use super::token_validation;
use crate::crypto::token_hash;
use crate::model::ClientRecord;
use crate::state::Provider;
use serde_json::{json, Value};

/// The answer for every token the caller may not learn about.
pub fn inactive() -> Value {
    json!({ "active": false })
}

/// Introspects `token` for `client`.
pub async fn introspect(
    provider: &Provider,
    client: &ClientRecord,
    params: &Params,
) -> Result<Value, TokenError> {
    let token = TokenError::the_token(params)?;
    // The hint only orders the lookups (§2.1); both kinds are always tried.
    let refresh_first = params.get("token_type_hint").ok().flatten() == Some("refresh_token");
    let lookups = if refresh_first {
        [true, false]
    } else {
        [false, true]
    };
    for refresh in lookups {
        let found = if refresh {
            refresh_token(provider, client, token).await?
        } else {
            access_token(provider, client, token).await?
        };
        if let Some(answer) = found {
            return Ok(answer);
        }
    }
    Ok(inactive())
}

async fn username(provider: &Provider, user_id: &str) -> Result<Option<String>, TokenError> {
    Ok(provider
        .store
        .cached_user(user_id)
        .await?
        .filter(|u| !u.disabled)
        .map(|u| u.username.clone()))
}

async fn access_token(
    provider: &Provider,
    client: &ClientRecord,
    token: &str,
) -> Result<Option<Value>, TokenError> {
    if token.split('.').count() != 3 {
        return Ok(None);
    }
    let claims = match token_validation::validate(provider, token).await {
        Ok(c) => c,
        Err(token_validation::Invalid::Token(_)) => return Ok(Some(inactive())),
        Err(token_validation::Invalid::Store(e)) => return Err(e.into()),
    };
    let for_api = client.introspects.iter().any(|api| *api == claims.aud);
    if claims.client_id != client.client_id && !for_api {
        return Ok(Some(inactive()));
    }
    let mut answer = json!({
        "active": true,
        "scope": claims.scope,
        "client_id": claims.client_id,
        "sub": claims.sub,
        "aud": claims.aud,
        "iss": claims.iss,
        "exp": claims.exp,
        "iat": claims.iat,
        "jti": claims.jti,
        "token_type": "Bearer",
    });
    if let Some(groups) = &claims.groups {
        answer["groups"] = json!(groups);
    }
    if let Some(roles) = &claims.roles {
        answer["roles"] = json!(roles);
    }
    if claims.grant_id.is_some() {
        match username(provider, &claims.sub).await? {
            Some(name) => answer["username"] = json!(name),
            None => return Ok(Some(inactive())),
        }
    }
    Ok(Some(answer))
}

async fn refresh_token(
    provider: &Provider,
    client: &ClientRecord,
    token: &str,
) -> Result<Option<Value>, TokenError> {
    let Some(record) = provider.store.refresh_token(&token_hash(token)).await? else {
        return Ok(None);
    };
    let now = provider.now();
    let grant = &record.grant;
    if grant.client_id != client.client_id
        || record.used_at.is_some()
        || record.expires_at <= now
        || !grant.is_active(now)
    {
        return Ok(Some(inactive()));
    }
    let Some(user_id) = &grant.user_id else {
        return Ok(Some(inactive()));
    };
    let Some(name) = username(provider, user_id).await? else {
        return Ok(Some(inactive()));
    };
    Ok(Some(json!({
        "active": true,
        "scope": grant.scope,
        "client_id": grant.client_id,
        "username": name,
        "sub": user_id,
        "aud": grant.resource.as_deref().unwrap_or(&grant.client_id),
        "iss": provider.config.issuer,
        "exp": record.expires_at,
        "iat": record.issued_at,
        "token_type": "refresh_token",
    })))
}
