//! The admin API's grant revocation, signing keys and audit log.

use super::api::{fail, no_content, ok};
use super::api_auth::ApiClient;
use crate::admin::{audit, tokens};
use crate::model::AuditFilter;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

pub(super) async fn revoke_grant(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    no_content(tokens::revoke_grant(&client.context(), &path).await)
}

pub(super) async fn list_keys(client: ApiClient) -> HttpResponse {
    match tokens::signing_keys(&client.context()).await {
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
        Err(e) => fail(e),
    }
}

pub(super) async fn rotate_keys(client: ApiClient) -> HttpResponse {
    let ctx = client.context();
    match tokens::rotate_keys(&ctx, &client.provider.config.signing_alg).await {
        Ok(rotation) => {
            crate::key_lifecycle::reload_keys(&client.provider).await;
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
pub(super) struct AuditQuery {
    user: Option<String>,
    client: Option<String>,
    event: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    before: Option<String>,
    limit: Option<i64>,
}

pub(super) async fn audit(client: ApiClient, query: web::Query<AuditQuery>) -> HttpResponse {
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
    match audit::events(&client.context(), &filter, limit).await {
        Ok(items) => {
            let next_before = (items.len() as i64 == limit)
                .then(|| items.last().map(|e| e.id.clone()))
                .flatten();
            ok(
                StatusCode::OK,
                json!({ "items": items, "next_before": next_before }),
            )
        }
        Err(e) => fail(e),
    }
}
