//! Minting tokens on request (`POST /test/v1/tokens`), so that a test can
//! hand a resource server under test exactly the token it needs: for any
//! user, any audience, any scope and extra claims, already expired, or
//! signed with another algorithm. They are signed with the provider's
//! published keys (RFC 7517, `/jwks`), so they verify as real ones:
//! - an access token is an RFC 9068 JWT (`typ: at+jwt`) like the token
//!   endpoint's, with `aud` a string or a list (RFC 7519 §4.1.3); a user's
//!   token for a registered client belongs to a grant of its own, so that
//!   UserInfo answers it and revocation works as for a real one;
//! - an ID token is OpenID Connect Core §2's, with the claims the scope
//!   releases about the user, `amr: ["test", "mfa"]`;
//! - a refresh token is stored like one the token endpoint handed out, in a
//!   grant of its own, and works there (RFC 6749 §6) for a registered
//!   client that may refresh.
//!
//! `sub` names a user by username (or subject), made when unknown as a
//! sign-in as anyone would (`sign_in::anyone`); without it an access token
//! is the client's own, as from client_credentials. A negative `expires_in`
//! gives a token that expired that long ago, issued one usual lifetime
//! before.

use super::{event, record, test_clock, TestModeError};
use crate::crypto::key_set::SigningKey;
use crate::crypto::{jwt, random_token, token_hash};
use crate::model::{AccessClaims, ClientRecord, NewGrant, UserRecord};
use crate::oauth::claims;
use crate::sign_in::anyone::{self, Persona};
use crate::state::Provider;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The longest lifetime, either way: ten years.
pub const MAX_EXPIRES_IN: i64 = 10 * 366 * 86_400;

/// Algorithms a token may be signed with.
pub const ALGORITHMS: &[&str] = crate::key_lifecycle::ALL_ALGORITHMS;

/// Claims a minted token may carry although they are reserved for custom
/// attributes: resource servers decide on them.
const SETTABLE_RESERVED: &[&str] = &["groups", "roles"];

pub use super::mint_request::{Audience, Kind, MintRequest};

/// The token made.
#[derive(Debug, Clone)]
pub struct Minted {
    /// The token.
    pub token: String,
    /// When it expires (unix seconds, the provider's clock).
    pub expires_at: i64,
}

fn invalid(why: impl Into<String>) -> TestModeError {
    TestModeError::Invalid(why.into())
}

/// Mints the token `request` describes.
pub async fn mint(
    provider: &Provider,
    ip: &str,
    request: MintRequest,
) -> Result<Minted, TestModeError> {
    test_clock(provider)?;
    let checked = check(provider, &request).await?;
    let minted = match request.kind {
        Kind::AccessToken => access_token(provider, &request, &checked).await?,
        Kind::IdToken => id_token(provider, &request, &checked).await?,
        Kind::RefreshToken => refresh_token(provider, &checked).await?,
    };
    let mut event = event("test_mode.token_minted")
        .client(&request.client_id)
        .detail("kind", request.kind.name())
        .detail("expires_at", minted.expires_at.to_string());
    if let Some(user) = &checked.user {
        event = event.user(&user.id, &user.username);
    }
    record(provider, ip, event).await;
    Ok(minted)
}

/// What every kind needs, checked.
struct Checked {
    client: Option<ClientRecord>,
    user: Option<UserRecord>,
    scope: String,
    audience: Value,
    /// A refresh token's API (RFC 8707), if its `aud` named one.
    resource: Option<String>,
    issued_at: i64,
    expires_at: i64,
}

async fn check(provider: &Provider, request: &MintRequest) -> Result<Checked, TestModeError> {
    let client_id = request.client_id.trim();
    if client_id.is_empty() || client_id.len() > crate::model::limits::CLIENT_ID {
        return Err(invalid(
            "client_id must name a client (1 to 128 characters)",
        ));
    }
    let client = provider.store.client(client_id).await?;
    for name in request.claims.keys() {
        if claims::RESERVED.contains(&name.as_str()) && !SETTABLE_RESERVED.contains(&name.as_str())
        {
            return Err(invalid(format!(
                "the claim {name:?} is Gatehouse's to set: use the request's own fields \
                 (sub, aud, scope, expires_in, client_id) instead"
            )));
        }
    }
    let scope = match &request.scope {
        Some(scope) => scope.split_whitespace().collect::<Vec<_>>().join(" "),
        None if request.kind == Kind::RefreshToken => "openid offline_access".into(),
        None => "openid".into(),
    };
    if scope.len() > crate::model::limits::SCOPE
        || scope
            .bytes()
            .any(|b| b == b'"' || b == b'\\' || !(b' '..=b'~').contains(&b))
    {
        return Err(invalid(
            "scope must be space-separated scope tokens (RFC 6749 §3.3)",
        ));
    }
    let audience = match &request.aud {
        None => json!(client_id),
        Some(Audience::One(aud)) if !aud.trim().is_empty() => json!(aud.trim()),
        Some(Audience::Many(list))
            if !list.is_empty() && list.iter().all(|a| !a.trim().is_empty()) =>
        {
            json!(list.iter().map(|a| a.trim()).collect::<Vec<_>>())
        }
        Some(_) => return Err(invalid("aud must be a non-empty string or list of strings")),
    };
    let usual = match request.kind {
        Kind::AccessToken => provider.config.access_token_ttl,
        Kind::IdToken => provider.config.id_token_ttl,
        Kind::RefreshToken => provider.config.refresh_token_idle_ttl,
    };
    let lifetime = request.expires_in.unwrap_or(usual);
    if lifetime == 0 || lifetime.unsigned_abs() > MAX_EXPIRES_IN.unsigned_abs() {
        return Err(invalid(format!(
            "expires_in must be 1 to {MAX_EXPIRES_IN} seconds, or negative for a token \
             that has already expired"
        )));
    }
    let now = provider.now();
    let expires_at = now + lifetime;
    // An expired token looks like one issued a usual lifetime before it
    // expired, not one issued after its own expiry.
    let issued_at = if lifetime > 0 {
        now
    } else {
        expires_at - usual
    };
    if let Some(alg) = request.alg.as_deref() {
        if !ALGORITHMS.contains(&alg) {
            return Err(invalid(format!(
                "alg must be one of {}",
                ALGORITHMS.join(", ")
            )));
        }
    }
    let resource = match request.kind {
        Kind::RefreshToken => refresh_checks(provider, request, client.as_ref()).await?,
        _ => None,
    };
    // Last: a user named and unknown is made, so only once all else holds.
    let user = match request.sub.as_deref().map(str::trim) {
        Some(sub) => Some(user_for(provider, sub).await?),
        None if request.kind == Kind::AccessToken => None,
        None => {
            return Err(invalid(format!(
                "an {} is about a user: give sub (a username)",
                request.kind.name()
            )))
        }
    };
    Ok(Checked {
        client,
        user,
        resource,
        scope,
        audience,
        issued_at,
        expires_at,
    })
}

/// What a refresh token asks beyond the rest: a registered client that may
/// refresh, no claims, no algorithm, and at most one audience, a
/// registered API (the grant's resource, RFC 8707). Returns the resource.
async fn refresh_checks(
    provider: &Provider,
    request: &MintRequest,
    client: Option<&ClientRecord>,
) -> Result<Option<String>, TestModeError> {
    let client = client.ok_or_else(|| {
        invalid(format!(
            "there is no client {:?}: a refresh token works only for a registered client",
            request.client_id.trim()
        ))
    })?;
    if !client.allows_grant("refresh_token") {
        return Err(invalid(format!(
            "the client {:?} may not use the refresh_token grant",
            client.client_id
        )));
    }
    if !request.claims.is_empty() {
        return Err(invalid(
            "a refresh token carries no claims: the tokens made from it carry the user's",
        ));
    }
    if request.alg.is_some() {
        return Err(invalid(
            "a refresh token is not signed: leave alg out (the access tokens made from it \
             use the API's or the server's algorithm)",
        ));
    }
    match &request.aud {
        None => Ok(None),
        Some(Audience::One(aud)) => match provider.store.api(aud.trim()).await? {
            Some(api) => Ok(Some(api.identifier.clone())),
            None => Err(invalid(format!(
                "aud {aud:?} is not a registered API: a refresh token's access tokens are \
                 for an API (RFC 8707) or for the client"
            ))),
        },
        Some(Audience::Many(_)) => Err(invalid(
            "a refresh token is for one API at most: give aud as a string",
        )),
    }
}

/// The user `sub` names: by username, else by subject, else a new one with
/// that username.
async fn user_for(provider: &Provider, sub: &str) -> Result<UserRecord, TestModeError> {
    let store = &provider.store;
    let found = match store.user_by_username(sub).await? {
        Some(user) => Some(user),
        None => store.user_by_id(sub).await?,
    };
    let user = match found {
        Some(user) => user,
        None => {
            let persona = Persona::from_parts(sub, None, None).map_err(invalid)?;
            anyone::find_or_make(provider, &persona).await?
        }
    };
    if user.disabled {
        return Err(invalid(format!(
            "the user {:?} is disabled: a token for them would not be issued",
            user.username
        )));
    }
    Ok(user)
}

/// The key of `alg` (the request's, or `default`); test mode holds one of
/// every algorithm (`key_lifecycle::algorithms_for`).
async fn key_for(
    provider: &Provider,
    requested: Option<&str>,
    default: &str,
) -> Result<Arc<SigningKey>, TestModeError> {
    // `check` refused an algorithm outside `ALGORITHMS`.
    let alg = requested.unwrap_or(default);
    crate::key_lifecycle::signer_for(provider, alg)
        .await
        .map_err(|e| TestModeError::Fault(e.to_string()))
}

/// Adds the request's claims over `base`.
fn with_claims(mut base: Map<String, Value>, extra: &Map<String, Value>) -> Map<String, Value> {
    for (name, value) in extra {
        base.insert(name.clone(), value.clone());
    }
    base
}

async fn access_token(
    provider: &Provider,
    request: &MintRequest,
    checked: &Checked,
) -> Result<Minted, TestModeError> {
    // The algorithm the token endpoint would use for this audience: an
    // API's own, else the server's.
    let api = match checked.audience.as_str() {
        Some(aud) => provider.store.api(aud).await?,
        None => None,
    };
    let default = api
        .as_ref()
        .map_or(provider.config.signing_alg.as_str(), |a| {
            a.signing_alg.as_str()
        });
    let key = key_for(provider, request.alg.as_deref(), default).await?;
    // A user's token of a registered client belongs to a grant, as one
    // from the token endpoint does: UserInfo answers it, and revoking it
    // works.
    let grant_id = match (&checked.user, &checked.client) {
        (Some(user), Some(client)) => {
            let grant = grant_of(user, client, checked, checked.expires_at);
            provider
                .store
                .insert_grant(&grant, None, provider.now())
                .await?;
            Some(grant.id)
        }
        _ => None,
    };
    let claims = AccessClaims {
        iss: provider.config.issuer.clone(),
        sub: checked
            .user
            .as_ref()
            .map_or_else(|| request.client_id.trim().to_string(), |u| u.id.clone()),
        aud: String::new(),
        exp: checked.expires_at,
        iat: checked.issued_at,
        jti: random_token(),
        client_id: request.client_id.trim().to_string(),
        scope: checked.scope.clone(),
        auth_time: checked.user.as_ref().map(|_| checked.issued_at),
        grant_id,
        groups: None,
        roles: None,
    };
    let mut base = to_map(&claims)?;
    base.insert("aud".into(), checked.audience.clone());
    let token = jwt::sign(&key, "at+jwt", &with_claims(base, &request.claims))
        .map_err(|e| TestModeError::Fault(e.to_string()))?;
    Ok(Minted {
        token,
        expires_at: checked.expires_at,
    })
}

async fn id_token(
    provider: &Provider,
    request: &MintRequest,
    checked: &Checked,
) -> Result<Minted, TestModeError> {
    let user = checked
        .user
        .as_ref()
        .ok_or_else(|| invalid("an ID token is about a user: give sub"))?;
    let key = key_for(
        provider,
        request.alg.as_deref(),
        &provider.config.signing_alg,
    )
    .await?;
    let mut base = Map::new();
    if let Some(client) = &checked.client {
        let scopes: Vec<&str> = checked.scope.split(' ').collect();
        let custom = provider.store.custom_scopes().await?;
        base = claims::released_for(provider.test_mode(), user, &scopes, client, &custom);
    }
    for (name, value) in [
        ("iss", json!(provider.config.issuer)),
        ("sub", json!(user.id)),
        ("aud", checked.audience.clone()),
        ("azp", json!(request.client_id.trim())),
        ("exp", json!(checked.expires_at)),
        ("iat", json!(checked.issued_at)),
        ("auth_time", json!(checked.issued_at)),
        ("amr", json!(anyone::AMR)),
    ] {
        base.insert(name.into(), value);
    }
    let token = jwt::sign(&key, "JWT", &with_claims(base, &request.claims))
        .map_err(|e| TestModeError::Fault(e.to_string()))?;
    Ok(Minted {
        token,
        expires_at: checked.expires_at,
    })
}

async fn refresh_token(provider: &Provider, checked: &Checked) -> Result<Minted, TestModeError> {
    let client = checked
        .client
        .as_ref()
        .ok_or_else(|| TestModeError::Fault("a refresh token's client went unchecked".into()))?;
    let user = checked
        .user
        .as_ref()
        .ok_or_else(|| invalid("a refresh token is about a user: give sub"))?;
    let now = provider.now();
    let lifetimes = crate::oauth::token_issuing::Lifetimes::for_client(&provider.config, client);
    let token = random_token();
    // An expired token's grant has ended with it.
    let ends = if checked.expires_at > now {
        checked.expires_at.max(now + lifetimes.refresh_absolute)
    } else {
        checked.expires_at
    };
    let grant = grant_of(user, client, checked, ends);
    provider
        .store
        .insert_grant(&grant, Some((&token_hash(&token), checked.expires_at)), now)
        .await?;
    Ok(Minted {
        token,
        expires_at: checked.expires_at,
    })
}

/// The grant a minted token belongs to, as a test-mode sign-in's would be,
/// ending at `expires_at`.
fn grant_of(
    user: &UserRecord,
    client: &ClientRecord,
    checked: &Checked,
    expires_at: i64,
) -> NewGrant {
    NewGrant {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: Some(user.id.clone()),
        client_id: client.client_id.clone(),
        scope: checked.scope.clone(),
        sid: None,
        auth_time: Some(checked.issued_at),
        amr: anyone::AMR.join(" "),
        resource: checked.resource.clone(),
        expires_at,
    }
}

fn to_map<T: serde::Serialize>(value: &T) -> Result<Map<String, Value>, TestModeError> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(TestModeError::Fault("claims are not an object".into())),
        Err(e) => Err(TestModeError::Fault(e.to_string())),
    }
}
