//! The admin API's client operations: list, register, get, replace,
//! delete, rotate the secret, and the client's grants.

use super::api::{answer, body, fail, grants, no_content};
use super::api_auth::{error, ApiClient};
use super::refresh_origins;
use crate::admin::clients::{self, Backchannel, ClientAccess, ClientSpec};
use crate::model::{ClientRecord, Lifetimes, Roles};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

/// A client as the API shows it (never its secret or hash).
pub fn client_json(c: &ClientRecord) -> Value {
    json!({
        "client_id": c.client_id,
        "name": c.name,
        "public": c.is_public(),
        "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_redirect_uris,
        "grant_types": c.grant_types,
        "scopes": c.scopes,
        "require_consent": c.require_consent,
        "require_mfa": c.require_mfa,
        "is_admin": c.is_admin,
        "apis": c.apis,
        "allowed_groups": c.allowed_groups,
        "introspects": c.introspects,
        "roles": c.roles,
        "access_token_ttl": c.lifetimes.access_token,
        "refresh_token_idle_ttl": c.lifetimes.refresh_token_idle,
        "refresh_token_absolute_ttl": c.lifetimes.refresh_token_absolute,
        "backchannel_logout_uri": c.backchannel_logout_uri,
        "backchannel_logout_session_required": c.backchannel_logout_session_required,
    })
}

pub(super) async fn list_clients(client: ApiClient) -> HttpResponse {
    answer(
        StatusCode::OK,
        clients::list(&client.context()).await,
        |list| json!({ "items": list.iter().map(client_json).collect::<Vec<_>>() }),
    )
}

/// A client as the API takes it; absent fields get the usual defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClientBody {
    client_id: Option<String>,
    name: Option<String>,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    grant_types: Vec<String>,
    scopes: Option<Vec<String>>,
    require_consent: Option<bool>,
    #[serde(default)]
    require_mfa: bool,
    #[serde(default)]
    is_admin: bool,
    access_token_ttl: Option<i64>,
    refresh_token_idle_ttl: Option<i64>,
    refresh_token_absolute_ttl: Option<i64>,
    #[serde(default)]
    apis: Vec<String>,
    #[serde(default)]
    allowed_groups: Vec<String>,
    #[serde(default)]
    introspects: Vec<String>,
    #[serde(default)]
    roles: Roles,
    backchannel_logout_uri: Option<String>,
    #[serde(default)]
    backchannel_logout_session_required: bool,
}

impl ClientBody {
    fn spec(self, client_id: String) -> ClientSpec {
        ClientSpec {
            client_id,
            name: self.name.unwrap_or_default(),
            public: self.public,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            grant_types: self.grant_types,
            scopes: self
                .scopes
                .unwrap_or_else(|| vec!["openid".into(), "profile".into(), "email".into()]),
            require_consent: self.require_consent.unwrap_or(true),
            require_mfa: self.require_mfa,
            is_admin: self.is_admin,
            lifetimes: Lifetimes {
                access_token: self.access_token_ttl,
                refresh_token_idle: self.refresh_token_idle_ttl,
                refresh_token_absolute: self.refresh_token_absolute_ttl,
            },
            access: ClientAccess {
                apis: self.apis,
                allowed_groups: self.allowed_groups,
                introspects: self.introspects,
                roles: self.roles,
            },
            backchannel: Backchannel {
                uri: self.backchannel_logout_uri,
                session_required: self.backchannel_logout_session_required,
            },
        }
    }
}

pub(super) async fn create_client(
    client: ApiClient,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let new: ClientBody = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    let Some(client_id) = new.client_id.clone() else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id is required",
        );
    };
    let ctx = client.context();
    let secret = match clients::create(&ctx, new.spec(client_id.clone())).await {
        Ok(secret) => secret,
        Err(e) => return fail(e),
    };
    refresh_origins(&client.provider).await;
    answer(
        StatusCode::CREATED,
        clients::find(&ctx, &client_id).await,
        |record| json!({ "client": client_json(&record), "client_secret": secret }),
    )
}

pub(super) async fn get_client(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    answer(
        StatusCode::OK,
        clients::find(&client.context(), &path).await,
        |record| client_json(&record),
    )
}

pub(super) async fn update_client(
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let changed: ClientBody = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    if changed
        .client_id
        .as_deref()
        .is_some_and(|id| id != path.as_str())
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id cannot be changed",
        );
    }
    let ctx = client.context();
    if let Err(e) = clients::update(&ctx, changed.spec(path.to_string())).await {
        return fail(e);
    }
    refresh_origins(&client.provider).await;
    answer(StatusCode::OK, clients::find(&ctx, &path).await, |record| {
        client_json(&record)
    })
}

pub(super) async fn delete_client(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    match clients::delete(&client.context(), &path).await {
        Ok(()) => {
            refresh_origins(&client.provider).await;
            no_content(Ok(()))
        }
        Err(e) => fail(e),
    }
}

pub(super) async fn rotate_secret(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    answer(
        StatusCode::OK,
        clients::rotate_secret(&client.context(), &path).await,
        |secret| json!({ "client_secret": secret }),
    )
}

pub(super) async fn client_grants(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    let ctx = client.context();
    match clients::find(&ctx, &path).await {
        Ok(record) => grants(&ctx, None, Some(&record.client_id)).await,
        Err(e) => fail(e),
    }
}
