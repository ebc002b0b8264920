//! The admin API's APIs (resource servers, RFC 8707) and custom scopes.
//! An API's identifier is a URI: in a path it is percent-encoded as one
//! segment (`/apis/https%3A%2F%2Fapi.example.test%2F`), which the path
//! extractor decodes.

use super::api::{answer, body, fail, no_content};
use super::api_auth::{error, ApiClient};
use crate::admin::apis;
use crate::admin::{AdminError, Context};
use crate::model::{ApiRecord, ApiScope, Roles, ScopeRecord};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

/// An API as the API shows it.
pub fn api_json(a: &ApiRecord) -> Value {
    json!({
        "identifier": a.identifier,
        "name": a.name,
        "scopes": a.scopes,
        "roles": a.roles,
        "access_token_ttl": a.access_token_ttl,
        "signing_alg": a.signing_alg,
    })
}

/// A custom scope as the API shows it.
pub fn scope_json(s: &ScopeRecord) -> Value {
    json!({
        "name": s.name,
        "description": s.description,
        "claims": s.claims,
    })
}

pub(super) async fn list_apis(client: ApiClient) -> HttpResponse {
    answer(
        StatusCode::OK,
        apis::list(&client.context()).await,
        |list| json!({ "items": list.iter().map(api_json).collect::<Vec<_>>() }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ApiScopeBody {
    name: String,
    #[serde(default)]
    description: String,
}

/// An API as the API takes it; absent fields get the usual defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ApiBody {
    identifier: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    scopes: Vec<ApiScopeBody>,
    #[serde(default)]
    roles: Roles,
    access_token_ttl: Option<i64>,
    signing_alg: Option<String>,
}

impl ApiBody {
    fn record(self, identifier: String) -> ApiRecord {
        ApiRecord {
            identifier,
            name: self.name,
            scopes: self
                .scopes
                .into_iter()
                .map(|s| ApiScope {
                    name: s.name,
                    description: s.description,
                })
                .collect(),
            roles: self.roles,
            access_token_ttl: self.access_token_ttl,
            signing_alg: self.signing_alg.unwrap_or_else(|| "RS256".into()),
        }
    }
}

/// Saves `api` and answers with it as stored. The keys of its signing
/// algorithm are made now, so that the JWKS publishes them before the
/// first token is signed.
async fn save(client: &ApiClient, api: ApiRecord, replace: bool) -> HttpResponse {
    let ctx = client.context();
    let identifier = api.identifier.trim().to_string();
    let alg = api.signing_alg.clone();
    if let Err(e) = apis::save(&ctx, api, replace).await {
        return fail(e);
    }
    if let Err(e) = crate::key_lifecycle::signer_for(&client.provider, &alg).await {
        tracing::warn!(error = %e, alg, "making the API's signing key failed; it will be made when first needed");
    }
    let status = if replace {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    answer(status, apis::find(&ctx, &identifier).await, |api| {
        api_json(&api)
    })
}

pub(super) async fn create_api(
    client: ApiClient,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let new: ApiBody = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    let Some(identifier) = new.identifier.clone() else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "identifier is required",
        );
    };
    save(&client, new.record(identifier), false).await
}

pub(super) async fn get_api(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    answer(
        StatusCode::OK,
        apis::find(&client.context(), &path).await,
        |api| api_json(&api),
    )
}

pub(super) async fn update_api(
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let changed: ApiBody = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    if changed
        .identifier
        .as_deref()
        .is_some_and(|id| id.trim() != path.as_str())
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "identifier cannot be changed",
        );
    }
    save(&client, changed.record(path.to_string()), true).await
}

pub(super) async fn delete_api(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    no_content(apis::delete(&client.context(), &path).await)
}

pub(super) async fn list_scopes(client: ApiClient) -> HttpResponse {
    answer(
        StatusCode::OK,
        apis::scopes(&client.context()).await,
        |list| json!({ "items": list.iter().map(scope_json).collect::<Vec<_>>() }),
    )
}

/// A custom scope as the API takes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScopeBody {
    name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    claims: Vec<String>,
}

/// The custom scope `name`, or `NotFound`.
async fn find_scope(ctx: &Context<'_>, name: &str) -> Result<ScopeRecord, AdminError> {
    apis::scopes(ctx)
        .await?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| AdminError::NotFound(format!("There is no scope {name:?}.")))
}

pub(super) async fn create_scope(
    client: ApiClient,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let new: ScopeBody = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    let Some(name) = new.name.map(|n| n.trim().to_string()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "name is required",
        );
    };
    let ctx = client.context();
    match find_scope(&ctx, &name).await {
        Ok(_) => {
            return fail(AdminError::Conflict(format!(
                "A scope named {name:?} already exists."
            )))
        }
        Err(AdminError::NotFound(_)) => {}
        Err(e) => return fail(e),
    }
    let scope = ScopeRecord {
        name: name.clone(),
        description: new.description,
        claims: new.claims,
    };
    if let Err(e) = apis::save_scope(&ctx, scope).await {
        return fail(e);
    }
    answer(StatusCode::CREATED, find_scope(&ctx, &name).await, |s| {
        scope_json(&s)
    })
}

pub(super) async fn put_scope(
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let changed: ScopeBody = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    if changed
        .name
        .as_deref()
        .is_some_and(|n| n.trim() != path.as_str())
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "name cannot be changed",
        );
    }
    let ctx = client.context();
    let scope = ScopeRecord {
        name: path.to_string(),
        description: changed.description,
        claims: changed.claims,
    };
    if let Err(e) = apis::save_scope(&ctx, scope).await {
        return fail(e);
    }
    answer(StatusCode::OK, find_scope(&ctx, &path).await, |s| {
        scope_json(&s)
    })
}

pub(super) async fn delete_scope(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    no_content(apis::delete_scope(&client.context(), &path).await)
}
