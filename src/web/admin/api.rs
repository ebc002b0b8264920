//! The JSON admin API, `/admin/api/v1/` (described by `openapi.json` next
//! to this file): the same operations as the admin screens, for
//! automation. Every call is made by an admin client (see `api_auth`) and
//! every change lands in the audit log with that client as the actor.

use super::api_auth::{error, ApiClient};
use super::{
    api_apis, api_clients, api_groups, api_invitations, api_outbox, api_passkeys, api_system,
    api_upstreams, api_users,
};
use crate::admin::tokens;
use crate::admin::{AdminError, Context};
use crate::web::error::HttpError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

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
    ("post", "/users/{id}/unlock"),
    ("get", "/users/{id}/sessions"),
    ("delete", "/users/{id}/sessions/{sid}"),
    ("get", "/users/{id}/grants"),
    ("get", "/users/{id}/passkeys"),
    ("delete", "/users/{id}/passkeys/{passkey_id}"),
    ("put", "/users/{id}/claims/{name}"),
    ("delete", "/users/{id}/claims/{name}"),
    ("get", "/clients"),
    ("post", "/clients"),
    ("get", "/clients/{client_id}"),
    ("put", "/clients/{client_id}"),
    ("delete", "/clients/{client_id}"),
    ("post", "/clients/{client_id}/rotate-secret"),
    ("get", "/clients/{client_id}/grants"),
    ("delete", "/grants/{id}"),
    ("get", "/groups"),
    ("post", "/groups"),
    ("get", "/groups/{name}"),
    ("patch", "/groups/{name}"),
    ("delete", "/groups/{name}"),
    ("get", "/groups/{name}/members"),
    ("put", "/groups/{name}/members/{user}"),
    ("delete", "/groups/{name}/members/{user}"),
    ("get", "/apis"),
    ("post", "/apis"),
    ("get", "/apis/{identifier}"),
    ("put", "/apis/{identifier}"),
    ("delete", "/apis/{identifier}"),
    ("get", "/scopes"),
    ("post", "/scopes"),
    ("put", "/scopes/{name}"),
    ("delete", "/scopes/{name}"),
    ("get", "/upstreams"),
    ("post", "/upstreams"),
    ("get", "/upstreams/{id}"),
    ("put", "/upstreams/{id}"),
    ("delete", "/upstreams/{id}"),
    ("get", "/keys"),
    ("post", "/keys/rotate"),
    ("get", "/audit"),
    ("get", "/openapi.json"),
    ("post", "/invitations"),
    ("post", "/users/{id}/invitation"),
    ("get", "/outbox"),
    ("get", "/outbox/{id}"),
    ("post", "/outbox/{id}/retry"),
];

/// Registers the API under `/admin/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin/api/v1")
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                let message = format!("the query string does not fit: {e}");
                let response = error(StatusCode::BAD_REQUEST, "invalid_request", &message);
                actix_web::error::InternalError::from_response(e, response).into()
            }))
            .route("/users", web::get().to(api_users::list_users))
            .route("/users", web::post().to(api_users::create_user))
            .route("/users/{id}", web::get().to(api_users::get_user))
            .route("/users/{id}", web::patch().to(api_users::update_user))
            .route("/users/{id}", web::delete().to(api_users::delete_user))
            .route(
                "/users/{id}/disable",
                web::post().to(api_users::disable_user),
            )
            .route("/users/{id}/enable", web::post().to(api_users::enable_user))
            .route(
                "/users/{id}/reset-password",
                web::post().to(api_users::reset_password),
            )
            .route(
                "/users/{id}/reset-mfa",
                web::post().to(api_users::reset_mfa),
            )
            .route("/users/{id}/unlock", web::post().to(api_users::unlock))
            .route(
                "/users/{id}/sessions",
                web::get().to(api_users::user_sessions),
            )
            .route(
                "/users/{id}/sessions/{sid}",
                web::delete().to(api_users::end_session),
            )
            .route("/users/{id}/grants", web::get().to(api_users::user_grants))
            .route("/users/{id}/passkeys", web::get().to(api_passkeys::list))
            .route(
                "/users/{id}/passkeys/{passkey_id}",
                web::delete().to(api_passkeys::remove),
            )
            .route(
                "/users/{id}/claims/{name}",
                web::put().to(api_users::set_claim),
            )
            .route(
                "/users/{id}/claims/{name}",
                web::delete().to(api_users::unset_claim),
            )
            .route("/clients", web::get().to(api_clients::list_clients))
            .route("/clients", web::post().to(api_clients::create_client))
            .route(
                "/clients/{client_id}",
                web::get().to(api_clients::get_client),
            )
            .route(
                "/clients/{client_id}",
                web::put().to(api_clients::update_client),
            )
            .route(
                "/clients/{client_id}",
                web::delete().to(api_clients::delete_client),
            )
            .route(
                "/clients/{client_id}/rotate-secret",
                web::post().to(api_clients::rotate_secret),
            )
            .route(
                "/clients/{client_id}/grants",
                web::get().to(api_clients::client_grants),
            )
            .route("/grants/{id}", web::delete().to(api_system::revoke_grant))
            .route("/groups", web::get().to(api_groups::list_groups))
            .route("/groups", web::post().to(api_groups::create_group))
            .route("/groups/{name}", web::get().to(api_groups::get_group))
            .route("/groups/{name}", web::patch().to(api_groups::update_group))
            .route("/groups/{name}", web::delete().to(api_groups::delete_group))
            .route(
                "/groups/{name}/members",
                web::get().to(api_groups::group_members),
            )
            .route(
                "/groups/{name}/members/{user}",
                web::put().to(api_groups::add_member),
            )
            .route(
                "/groups/{name}/members/{user}",
                web::delete().to(api_groups::remove_member),
            )
            // The identifier is a URI, percent-encoded as one segment.
            .route("/apis", web::get().to(api_apis::list_apis))
            .route("/apis", web::post().to(api_apis::create_api))
            .route("/apis/{identifier}", web::get().to(api_apis::get_api))
            .route("/apis/{identifier}", web::put().to(api_apis::update_api))
            .route("/apis/{identifier}", web::delete().to(api_apis::delete_api))
            .route("/scopes", web::get().to(api_apis::list_scopes))
            .route("/scopes", web::post().to(api_apis::create_scope))
            .route("/scopes/{name}", web::put().to(api_apis::put_scope))
            .route("/scopes/{name}", web::delete().to(api_apis::delete_scope))
            .route("/upstreams", web::get().to(api_upstreams::list_upstreams))
            .route("/upstreams", web::post().to(api_upstreams::create_upstream))
            .route(
                "/upstreams/{id}",
                web::get().to(api_upstreams::get_upstream),
            )
            .route(
                "/upstreams/{id}",
                web::put().to(api_upstreams::update_upstream),
            )
            .route(
                "/upstreams/{id}",
                web::delete().to(api_upstreams::delete_upstream),
            )
            .route("/keys", web::get().to(api_system::list_keys))
            .route("/keys/rotate", web::post().to(api_system::rotate_keys))
            .route("/audit", web::get().to(api_system::audit))
            .route("/openapi.json", web::get().to(openapi))
            .route("/invitations", web::post().to(api_invitations::invite))
            .route(
                "/users/{id}/invitation",
                web::post().to(api_invitations::resend),
            )
            .route("/outbox", web::get().to(api_outbox::list))
            .route("/outbox/{id}", web::get().to(api_outbox::get))
            .route("/outbox/{id}/retry", web::post().to(api_outbox::retry))
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

/// The JSON answer for an admin error (`HttpError::json`).
pub(super) fn fail(e: AdminError) -> HttpResponse {
    HttpError::from(e).json()
}

/// `status` with the value as JSON, or the error's answer.
pub(super) fn answer<T>(
    status: StatusCode,
    result: Result<T, AdminError>,
    body: impl FnOnce(T) -> Value,
) -> HttpResponse {
    match result {
        Ok(value) => ok(status, body(value)),
        Err(e) => fail(e),
    }
}

pub(super) fn ok(status: StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// 204 for a change that was made, the error answer otherwise.
pub(super) fn no_content(result: Result<(), AdminError>) -> HttpResponse {
    match result {
        Ok(()) => HttpResponse::NoContent()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(e) => fail(e),
    }
}

/// A 4xx answer to send instead (boxed: an `HttpResponse` is large).
pub(crate) type Refusal = Box<HttpResponse>;

/// A JSON request body as `T`, or the 4xx answer.
pub(crate) fn body<T: for<'de> Deserialize<'de>>(
    req: &HttpRequest,
    bytes: &[u8],
) -> Result<T, Refusal> {
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

/// The live grants of a user or of a client.
pub(super) async fn grants(
    ctx: &Context<'_>,
    user_id: Option<&str>,
    client_id: Option<&str>,
) -> HttpResponse {
    match tokens::live_grants(ctx, user_id, client_id).await {
        Ok(items) => ok(StatusCode::OK, json!({ "items": items })),
        Err(e) => fail(e),
    }
}

async fn openapi(_client: ApiClient) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(OPENAPI)
}
