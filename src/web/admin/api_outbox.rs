//! The admin API's outbox operations: list messages by state, read one, and
//! retry a parked one. Answers carry each message's kind, recipient,
//! subject, state, attempts, last error and dates, never its bodies (they
//! may hold a one-time link).

use super::api::{answer, fail, ok};
use super::api_auth::ApiClient;
use crate::admin::outbox;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
pub(super) struct ListQuery {
    state: Option<String>,
    limit: Option<i64>,
}

pub(super) async fn list(client: ApiClient, query: web::Query<ListQuery>) -> HttpResponse {
    let ctx = client.context();
    let state = match outbox::parse_state(query.state.as_deref()) {
        Ok(state) => state,
        Err(e) => return fail(e),
    };
    let limit = query.limit.unwrap_or(50);
    let found = async {
        let items = outbox::list(&ctx, state, limit).await?;
        let counts = outbox::counts(&ctx).await?;
        Ok::<_, crate::admin::AdminError>((items, counts))
    }
    .await;
    match found {
        Ok((items, counts)) => ok(
            StatusCode::OK,
            json!({
                "items": items,
                "pending": counts.pending,
                "parked": counts.parked,
                "email_enabled": client.provider.config.email_enabled(),
            }),
        ),
        Err(e) => fail(e),
    }
}

pub(super) async fn get(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    answer(
        StatusCode::OK,
        outbox::find(&client.context(), &path).await,
        |mail| json!(mail),
    )
}

pub(super) async fn retry(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    let result = outbox::retry(&client.context(), &path).await;
    if result.is_ok() {
        client.provider.outbox_wake.notify_one();
    }
    answer(StatusCode::OK, result, |mail| json!(mail))
}
