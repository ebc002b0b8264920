//! Managing APIs (resource servers, RFC 8707) and custom scopes. An API's
//! identifier is an absolute URI without fragment; its scopes carry the
//! words the consent screen shows; its roles are held by groups; its
//! tokens may be signed with RS256 (default), ES256 or EdDSA, and the keys
//! for that algorithm are made (and published) when the API is saved.

use super::clients::check_roles;
use super::groups::check_description;
use super::{AdminError, Context};
use crate::model::{ApiRecord, ApiScope, ScopeRecord};
use crate::oauth::{claims, resource};

/// The algorithms an API's access tokens may be signed with.
pub const SIGNING_ALGS: &[&str] = &["RS256", "ES256", "EdDSA"];

/// Checks an API and puts it in canonical form.
pub fn validated(mut api: ApiRecord) -> Result<ApiRecord, AdminError> {
    let invalid = |why: String| Err(AdminError::Invalid(why));
    api.identifier = api.identifier.trim().to_string();
    resource::check_identifier(&api.identifier)
        .map_err(|why| AdminError::Invalid(format!("API identifier {why}")))?;
    api.name = api.name.trim().to_string();
    if api.name.is_empty() {
        api.name = api.identifier.clone();
    }
    if api.name.chars().count() > 200 || api.name.chars().any(char::is_control) {
        return invalid("the name can have up to 200 characters, without line breaks".into());
    }
    let mut seen: Vec<ApiScope> = Vec::new();
    for mut scope in std::mem::take(&mut api.scopes) {
        scope.name = scope.name.trim().to_string();
        claims::check_scope_name(&scope.name).map_err(AdminError::Invalid)?;
        if claims::STANDARD_SCOPES.contains(&scope.name.as_str()) {
            return invalid(format!(
                "{:?} is a scope Gatehouse defines; an API cannot use it",
                scope.name
            ));
        }
        scope.description = check_description(&scope.description)?;
        if !seen.iter().any(|s| s.name == scope.name) {
            seen.push(scope);
        }
    }
    api.scopes = seen;
    check_roles(&mut api.roles)?;
    if !SIGNING_ALGS.contains(&api.signing_alg.as_str()) {
        return invalid(format!(
            "signing algorithm {:?} is not supported; use RS256, ES256 or EdDSA",
            api.signing_alg
        ));
    }
    if api
        .access_token_ttl
        .is_some_and(|t| t <= 0 || t > 10 * 365 * 86_400)
    {
        return invalid("the access token lifetime must be a positive number of seconds".into());
    }
    Ok(api)
}

/// Every API.
pub async fn list(ctx: &Context<'_>) -> Result<Vec<ApiRecord>, AdminError> {
    Ok(ctx.store.apis().await?)
}

/// An API, or `NotFound`.
pub async fn find(ctx: &Context<'_>, identifier: &str) -> Result<ApiRecord, AdminError> {
    ctx.store
        .api(identifier)
        .await?
        .map(|a| ApiRecord::clone(&a))
        .ok_or_else(|| AdminError::NotFound(format!("There is no API {identifier:?}.")))
}

/// Checks that the groups holding the API's roles exist.
pub async fn check_references(ctx: &Context<'_>, api: &ApiRecord) -> Result<(), AdminError> {
    let holders: Vec<String> = api.roles.values().flatten().cloned().collect();
    super::groups::check_exist(ctx, &holders).await
}

/// Creates (`replace` false: refused if it exists) or replaces an API.
pub async fn save(ctx: &Context<'_>, api: ApiRecord, replace: bool) -> Result<(), AdminError> {
    let api = validated(api)?;
    check_references(ctx, &api).await?;
    let exists = ctx.store.api(&api.identifier).await?.is_some();
    if exists && !replace {
        return Err(AdminError::Conflict(format!(
            "An API {:?} already exists.",
            api.identifier
        )));
    }
    if !exists && replace {
        return Err(AdminError::NotFound(format!(
            "There is no API {:?}.",
            api.identifier
        )));
    }
    ctx.store.upsert_api(&api, ctx.now).await?;
    let name = if exists {
        "admin.api.updated"
    } else {
        "admin.api.created"
    };
    ctx.record(name, |e| {
        e.detail("api", api.identifier.as_str())
            .detail("signing_alg", api.signing_alg.as_str())
    })
    .await;
    Ok(())
}

/// Deletes an API, unless a client still names it (in `apis` or
/// `introspects`); its tokens already issued stay valid until they expire.
pub async fn delete(ctx: &Context<'_>, identifier: &str) -> Result<(), AdminError> {
    let id = identifier.to_string();
    let users: Vec<String> = ctx
        .store
        .list_clients()
        .await?
        .into_iter()
        .filter(|c| c.apis.contains(&id) || c.introspects.contains(&id))
        .map(|c| c.client_id)
        .collect();
    if !users.is_empty() {
        return Err(AdminError::Conflict(format!(
            "The API {identifier:?} is still named by the client(s) {}; remove it there first.",
            users.join(", ")
        )));
    }
    if !ctx.store.delete_api(identifier).await? {
        return Err(AdminError::NotFound(format!(
            "There is no API {identifier:?}."
        )));
    }
    ctx.record("admin.api.deleted", |e| e.detail("api", identifier))
        .await;
    Ok(())
}

/// Checks a custom scope and puts it in canonical form.
pub fn validated_scope(mut scope: ScopeRecord) -> Result<ScopeRecord, AdminError> {
    scope.name = scope.name.trim().to_string();
    claims::check_scope_name(&scope.name).map_err(AdminError::Invalid)?;
    if claims::STANDARD_SCOPES.contains(&scope.name.as_str()) {
        return Err(AdminError::Invalid(format!(
            "{:?} is a scope Gatehouse defines; choose another name",
            scope.name
        )));
    }
    scope.description = check_description(&scope.description)?;
    for claim in &scope.claims {
        claims::check_claim_name(claim).map_err(AdminError::Invalid)?;
    }
    scope.claims.sort();
    scope.claims.dedup();
    Ok(scope)
}

/// Every custom scope.
pub async fn scopes(ctx: &Context<'_>) -> Result<Vec<ScopeRecord>, AdminError> {
    Ok(ctx.store.custom_scopes().await?.to_vec())
}

/// Creates or replaces a custom scope.
pub async fn save_scope(ctx: &Context<'_>, scope: ScopeRecord) -> Result<(), AdminError> {
    let scope = validated_scope(scope)?;
    ctx.store.upsert_scope(&scope, ctx.now).await?;
    ctx.record("admin.scope.saved", |e| {
        e.detail("scope", scope.name.as_str())
            .detail("claims", scope.claims.join(" "))
    })
    .await;
    Ok(())
}

/// Deletes a custom scope.
pub async fn delete_scope(ctx: &Context<'_>, name: &str) -> Result<(), AdminError> {
    if !ctx.store.delete_scope(name).await? {
        return Err(AdminError::NotFound(format!("There is no scope {name:?}.")));
    }
    ctx.record("admin.scope.deleted", |e| e.detail("scope", name))
        .await;
    Ok(())
}
