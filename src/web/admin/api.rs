//! The JSON admin API, `/admin/api/v1/` (described by `openapi.json` next
//! to this file): the same operations as the admin screens, for
//! automation. Every call is made by an admin client (see `api_auth`) and
//! every change lands in the audit log with that client as the actor.

use super::api_auth::{error, ApiClient};
use crate::admin::clients::{self, ClientSpec};
use crate::admin::users::{self, NewPassword, UserInput};
use crate::admin::{tokens, AdminError, Context};
use crate::audit::Actor;
use crate::state::Provider;
use crate::store::{AuditFilter, ClientRecord, Lifetimes, UserRecord};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The OpenAPI 3 document, served as it is.
pub const OPENAPI: &str = include_str!("openapi.json");

/// (method, path) of every operation, as registered and as documented.
pub const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/users"),
    ("post", "/users"),
    ("get", "/users/{id}"),
    ("patch", "/users/{id}"),
    ("delete", "/users/{id}"),
    ("post", "/users/{id}/disable"),
    ("post", "/users/{id}/enable"),
    ("post", "/users/{id}/reset-password"),
    ("post", "/users/{id}/reset-mfa"),
    ("get", "/users/{id}/sessions"),
    ("delete", "/users/{id}/sessions/{sid}"),
    ("get", "/users/{id}/grants"),
    ("get", "/clients"),
    ("post", "/clients"),
    ("get", "/clients/{client_id}"),
    ("put", "/clients/{client_id}"),
    ("delete", "/clients/{client_id}"),
    ("post", "/clients/{client_id}/rotate-secret"),
    ("get", "/clients/{client_id}/grants"),
    ("delete", "/grants/{id}"),
    ("get", "/keys"),
    ("post", "/keys/rotate"),
    ("get", "/audit"),
    ("get", "/openapi.json"),
];

/// Registers the API under `/admin/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin/api/v1")
            .route("/users", web::get().to(list_users))
            .route("/users", web::post().to(create_user))
            .route("/users/{id}", web::get().to(get_user))
            .route("/users/{id}", web::patch().to(update_user))
            .route("/users/{id}", web::delete().to(delete_user))
            .route("/users/{id}/disable", web::post().to(disable_user))
            .route("/users/{id}/enable", web::post().to(enable_user))
            .route("/users/{id}/reset-password", web::post().to(reset_password))
            .route("/users/{id}/reset-mfa", web::post().to(reset_mfa))
            .route("/users/{id}/sessions", web::get().to(user_sessions))
            .route("/users/{id}/sessions/{sid}", web::delete().to(end_session))
            .route("/users/{id}/grants", web::get().to(user_grants))
            .route("/clients", web::get().to(list_clients))
            .route("/clients", web::post().to(create_client))
            .route("/clients/{client_id}", web::get().to(get_client))
            .route("/clients/{client_id}", web::put().to(update_client))
            .route("/clients/{client_id}", web::delete().to(delete_client))
            .route(
                "/clients/{client_id}/rotate-secret",
                web::post().to(rotate_secret),
            )
            .route("/clients/{client_id}/grants", web::get().to(client_grants))
            .route("/grants/{id}", web::delete().to(revoke_grant))
            .route("/keys", web::get().to(list_keys))
            .route("/keys/rotate", web::post().to(rotate_keys))
            .route("/audit", web::get().to(audit))
            .route("/openapi.json", web::get().to(openapi))
            .default_service(web::to(unknown)),
    );
}

async fn unknown(_client: ApiClient) -> HttpResponse {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such operation; see /admin/api/v1/openapi.json",
    )
}

fn context<'a>(provider: &'a Provider, client: &ApiClient) -> Context<'a> {
    Context {
        store: &provider.store,
        audit: &provider.audit,
        actor: Actor::Client(client.client_id.clone()),
        ip: Some(client.ip.clone()),
        now: provider.now(),
    }
}

fn fail(e: AdminError) -> HttpResponse {
    let status = match &e {
        AdminError::NotFound(_) => StatusCode::NOT_FOUND,
        AdminError::Conflict(_) => StatusCode::CONFLICT,
        AdminError::Invalid(_) => StatusCode::BAD_REQUEST,
        AdminError::Store(s) if s.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
        AdminError::Store(_) | AdminError::Account(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status.is_server_error() {
        let error_id = uuid::Uuid::new_v4().to_string();
        tracing::error!(%error_id, error = %e, "admin API call failed");
        return error(
            status,
            e.code(),
            &format!("the operation failed; error id {error_id}"),
        );
    }
    error(status, e.code(), &e.to_string())
}

fn ok(status: StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// 204 for a change that was made, the error answer otherwise.
fn no_content(result: Result<(), AdminError>) -> HttpResponse {
    match result {
        Ok(()) => HttpResponse::NoContent()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(e) => fail(e),
    }
}

/// A 4xx answer to send instead (boxed: an `HttpResponse` is large).
type Refusal = Box<HttpResponse>;

/// A JSON request body as `T`, or the 4xx answer.
fn body<T: for<'de> Deserialize<'de>>(req: &HttpRequest, bytes: &[u8]) -> Result<T, Refusal> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(Box::new(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "send the body as application/json",
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("the JSON body does not fit: {e}"),
        ))
    })
}

/// A user as the API shows it.
pub fn user_json(u: &UserRecord) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "name": u.name,
        "is_admin": u.is_admin,
        "disabled": u.disabled,
        "mfa_enabled": u.totp_secret.is_some(),
        "must_change_password": u.must_change_password,
    })
}

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
        "access_token_ttl": c.lifetimes.access_token,
        "refresh_token_idle_ttl": c.lifetimes.refresh_token_idle,
        "refresh_token_absolute_ttl": c.lifetimes.refresh_token_absolute,
    })
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

async fn list_users(
    _client: ApiClient,
    query: web::Query<ListQuery>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(50);
    match users::list(&provider.store, query.q.as_deref(), page, per_page).await {
        Ok(found) => ok(
            StatusCode::OK,
            json!({
                "items": found.items.iter().map(user_json).collect::<Vec<_>>(),
                "total": found.total,
                "page": found.page,
                "per_page": found.per_page,
            }),
        ),
        Err(e) => fail(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    username: String,
    email: Option<String>,
    name: Option<String>,
    #[serde(default)]
    is_admin: bool,
    password: Option<String>,
}

async fn create_user(
    client: ApiClient,
    req: HttpRequest,
    bytes: web::Bytes,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let new: NewUserBody = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    let input = UserInput {
        username: new.username,
        email: new.email,
        name: new.name,
        is_admin: new.is_admin,
    };
    let password = new
        .password
        .map_or(NewPassword::Temporary, NewPassword::Given);
    match users::create(&context(&provider, &client), input, password).await {
        Ok((user, shown)) => ok(
            StatusCode::CREATED,
            json!({ "user": user_json(&user), "temporary_password": shown }),
        ),
        Err(e) => fail(e),
    }
}

async fn get_user(
    _client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    match users::find(&provider.store, &path).await {
        Ok(user) => ok(StatusCode::OK, user_json(&user)),
        Err(e) => fail(e),
    }
}

/// A text field of a PATCH body: absent keeps the value, `null` clears it.
fn patched(
    body: &Map<String, Value>,
    key: &str,
    current: Option<&str>,
) -> Result<Option<String>, Refusal> {
    match body.get(key) {
        None => Ok(current.map(str::to_string)),
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("{key} must be a string or null"),
        ))),
    }
}

async fn update_user(
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let changes: Map<String, Value> = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    if let Some(key) = changes
        .keys()
        .find(|k| !["name", "email", "is_admin"].contains(&k.as_str()))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("{key} cannot be changed here"),
        );
    }
    let user = match users::find(&provider.store, &path).await {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    let name = match patched(&changes, "name", user.name.as_deref()) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    let email = match patched(&changes, "email", user.email.as_deref()) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    let is_admin = match changes.get("is_admin") {
        None => user.is_admin,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "is_admin must be true or false",
            )
        }
    };
    let ctx = context(&provider, &client);
    if let Err(e) = users::update(&ctx, &user.id, name.as_deref(), email.as_deref(), is_admin).await
    {
        return fail(e);
    }
    match users::find(&provider.store, &user.id).await {
        Ok(user) => ok(StatusCode::OK, user_json(&user)),
        Err(e) => fail(e),
    }
}

async fn delete_user(
    client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    no_content(users::delete(&context(&provider, &client), &path).await)
}

async fn disable_user(
    client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    no_content(users::set_disabled(&context(&provider, &client), &path, true).await)
}

async fn enable_user(
    client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    no_content(users::set_disabled(&context(&provider, &client), &path, false).await)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    password: Option<String>,
}

async fn reset_password(
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let reset: ResetBody = if bytes.is_empty() {
        ResetBody::default()
    } else {
        match body(&req, &bytes) {
            Ok(b) => b,
            Err(response) => return *response,
        }
    };
    let password = reset
        .password
        .map_or(NewPassword::Temporary, NewPassword::Given);
    match users::reset_password(&context(&provider, &client), &path, password).await {
        Ok(shown) => ok(StatusCode::OK, json!({ "temporary_password": shown })),
        Err(e) => fail(e),
    }
}

async fn reset_mfa(
    client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    no_content(users::reset_mfa(&context(&provider, &client), &path).await)
}

async fn user_sessions(
    _client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let user = match users::find(&provider.store, &path).await {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    match provider
        .store
        .sessions_of_user(&user.id, provider.now())
        .await
    {
        Ok(sessions) => {
            let items: Vec<Value> = sessions
                .iter()
                .map(|s| {
                    json!({
                        "sid": s.sid,
                        "created_at": s.created_at,
                        "auth_time": s.auth_time,
                        "amr": s.amr.split(' ').collect::<Vec<_>>(),
                        "expires_at": s.expires_at,
                        "user_agent": s.device.user_agent,
                        "ip": s.device.ip,
                    })
                })
                .collect();
            ok(StatusCode::OK, json!({ "items": items }))
        }
        Err(e) => fail(e.into()),
    }
}

async fn end_session(
    client: ApiClient,
    path: web::Path<(String, String)>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let (user_id, sid) = path.into_inner();
    no_content(tokens::end_session(&context(&provider, &client), &user_id, &sid).await)
}

async fn grants(
    provider: &Provider,
    user_id: Option<&str>,
    client_id: Option<&str>,
) -> HttpResponse {
    match provider
        .store
        .live_grants(user_id, client_id, provider.now())
        .await
    {
        Ok(items) => ok(StatusCode::OK, json!({ "items": items })),
        Err(e) => fail(e.into()),
    }
}

async fn user_grants(
    _client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    match users::find(&provider.store, &path).await {
        Ok(user) => grants(&provider, Some(&user.id), None).await,
        Err(e) => fail(e),
    }
}

async fn list_clients(_client: ApiClient, provider: web::Data<Provider>) -> HttpResponse {
    match provider.store.list_clients().await {
        Ok(list) => ok(
            StatusCode::OK,
            json!({ "items": list.iter().map(client_json).collect::<Vec<_>>() }),
        ),
        Err(e) => fail(e.into()),
    }
}

/// A client as the API takes it; absent fields get the usual defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientBody {
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
        }
    }
}

async fn create_client(
    client: ApiClient,
    req: HttpRequest,
    bytes: web::Bytes,
    provider: web::Data<Provider>,
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
    let ctx = context(&provider, &client);
    let secret = match clients::create(&ctx, new.spec(client_id.clone())).await {
        Ok(secret) => secret,
        Err(e) => return fail(e),
    };
    refresh_origins(&provider).await;
    match clients::find(&ctx, &client_id).await {
        Ok(record) => ok(
            StatusCode::CREATED,
            json!({ "client": client_json(&record), "client_secret": secret }),
        ),
        Err(e) => fail(e),
    }
}

/// New redirect URIs mean new CORS origins: pick them up at once here
/// (other replicas do within 30 seconds).
async fn refresh_origins(provider: &Provider) {
    if let Err(e) = provider.refresh_cors_origins().await {
        tracing::warn!(error = %e, "reloading the allowed origins failed");
    }
}

async fn get_client(
    client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    match clients::find(&context(&provider, &client), &path).await {
        Ok(record) => ok(StatusCode::OK, client_json(&record)),
        Err(e) => fail(e),
    }
}

async fn update_client(
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
    provider: web::Data<Provider>,
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
    let ctx = context(&provider, &client);
    if let Err(e) = clients::update(&ctx, changed.spec(path.to_string())).await {
        return fail(e);
    }
    refresh_origins(&provider).await;
    match clients::find(&ctx, &path).await {
        Ok(record) => ok(StatusCode::OK, client_json(&record)),
        Err(e) => fail(e),
    }
}

async fn delete_client(
    client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    match clients::delete(&context(&provider, &client), &path).await {
        Ok(()) => {
            refresh_origins(&provider).await;
            no_content(Ok(()))
        }
        Err(e) => fail(e),
    }
}

async fn rotate_secret(
    client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    match clients::rotate_secret(&context(&provider, &client), &path).await {
        Ok(secret) => ok(StatusCode::OK, json!({ "client_secret": secret })),
        Err(e) => fail(e),
    }
}

async fn client_grants(
    client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    match clients::find(&context(&provider, &client), &path).await {
        Ok(record) => grants(&provider, None, Some(&record.client_id)).await,
        Err(e) => fail(e),
    }
}

async fn revoke_grant(
    client: ApiClient,
    path: web::Path<String>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    no_content(tokens::revoke_grant(&context(&provider, &client), &path).await)
}

async fn list_keys(_client: ApiClient, provider: web::Data<Provider>) -> HttpResponse {
    match provider.store.signing_keys().await {
        Ok(keys) => {
            let items: Vec<Value> = keys
                .iter()
                .map(|k| {
                    json!({
                        "kid": k.kid, "alg": k.alg, "state": k.state,
                        "created_at": k.created_at, "retired_at": k.retired_at,
                    })
                })
                .collect();
            ok(StatusCode::OK, json!({ "items": items }))
        }
        Err(e) => fail(e.into()),
    }
}

async fn rotate_keys(client: ApiClient, provider: web::Data<Provider>) -> HttpResponse {
    let ctx = context(&provider, &client);
    match tokens::rotate_keys(&ctx, &provider.config.signing_alg).await {
        Ok(rotation) => {
            crate::startup::reload_keys(&provider).await;
            ok(
                StatusCode::OK,
                json!({
                    "current": rotation.current,
                    "next": rotation.next,
                    "retired": rotation.retired,
                }),
            )
        }
        Err(e) => fail(e),
    }
}

#[derive(Deserialize)]
struct AuditQuery {
    user: Option<String>,
    client: Option<String>,
    event: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    before: Option<String>,
    limit: Option<i64>,
}

async fn audit(
    _client: ApiClient,
    query: web::Query<AuditQuery>,
    provider: web::Data<Provider>,
) -> HttpResponse {
    let query = query.into_inner();
    let filter = AuditFilter {
        user: query.user.filter(|s| !s.is_empty()),
        client_id: query.client.filter(|s| !s.is_empty()),
        event: query.event.filter(|s| !s.is_empty()),
        since: query.since,
        until: query.until,
        before_id: query.before.filter(|s| !s.is_empty()),
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    // What this replica has queued is written before it is read.
    provider.audit.flush().await;
    match provider.store.audit_events(&filter, limit).await {
        Ok(items) => {
            let next_before = (items.len() as i64 == limit)
                .then(|| items.last().map(|e| e.id.clone()))
                .flatten();
            ok(
                StatusCode::OK,
                json!({ "items": items, "next_before": next_before }),
            )
        }
        Err(e) => fail(e.into()),
    }
}

async fn openapi(_client: ApiClient) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(OPENAPI)
}
