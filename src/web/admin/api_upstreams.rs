//! The admin API's upstream identity provider operations: list, add, get,
//! replace, delete. Every answer is an `UpstreamView`, which says whether a
//! client secret is set and never what it is.

use super::api::{answer, body, no_content, Refusal};
use super::api_auth::{error, ApiClient};
use crate::admin::upstreams::{self, UpstreamSettings};
use crate::model::UpstreamRecord;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// An upstream as the API shows it.
fn upstream_json(client: &ApiClient, upstream: &UpstreamRecord) -> Value {
    json!(upstreams::view(&client.provider.config.issuer, upstream))
}

pub(super) async fn list_upstreams(client: ApiClient) -> HttpResponse {
    answer(
        StatusCode::OK,
        upstreams::list(&client.context()).await,
        |list| json!({ "items": list.iter().map(|u| upstream_json(&client, u)).collect::<Vec<_>>() }),
    )
}

pub(super) async fn create_upstream(
    client: ApiClient,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let settings: UpstreamSettings = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    answer(
        StatusCode::CREATED,
        upstreams::create(&client.context(), &settings).await,
        |upstream| upstream_json(&client, &upstream),
    )
}

pub(super) async fn get_upstream(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    answer(
        StatusCode::OK,
        upstreams::find(&client.context(), &path).await,
        |upstream| upstream_json(&client, &upstream),
    )
}

/// The settings of a replacement: the body, whose `id` may be left out
/// (it is the path's).
fn replacement(req: &HttpRequest, bytes: &[u8], id: &str) -> Result<UpstreamSettings, Refusal> {
    let mut value: Value = body(req, bytes)?;
    let Some(fields) = value.as_object_mut() else {
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the JSON body does not fit: send an object",
        )));
    };
    fields
        .entry("id")
        .or_insert_with(|| Value::String(id.to_string()));
    serde_json::from_value(value).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("the JSON body does not fit: {e}"),
        ))
    })
}

pub(super) async fn update_upstream(
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let settings = match replacement(&req, &bytes, &path) {
        Ok(s) => s,
        Err(response) => return *response,
    };
    answer(
        StatusCode::OK,
        upstreams::update(&client.context(), &path, &settings).await,
        |upstream| upstream_json(&client, &upstream),
    )
}

pub(super) async fn delete_upstream(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    no_content(upstreams::delete(&client.context(), &path).await)
}
