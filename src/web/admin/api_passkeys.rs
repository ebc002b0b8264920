//! The admin API's passkey operations: a user's passkeys, and removing
//! one. Passkeys are added only by their owner, in a WebAuthn ceremony of
//! their own browser, so there is no operation to add one.

use super::api::{fail, no_content, ok};
use super::api_auth::ApiClient;
use crate::admin::passkeys;
use crate::model::PasskeyRecord;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

/// A passkey as the API shows it; never its key material.
fn passkey_json(p: &PasskeyRecord) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "created_at": p.created_at,
        "last_used_at": p.last_used_at,
    })
}

/// GET /users/{id}/passkeys
pub(super) async fn list(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    match passkeys::list(&client.context(), &path).await {
        Ok(found) => ok(
            StatusCode::OK,
            json!({ "items": found.iter().map(passkey_json).collect::<Vec<_>>() }),
        ),
        Err(e) => fail(e),
    }
}

/// DELETE /users/{id}/passkeys/{passkey_id}
pub(super) async fn remove(client: ApiClient, path: web::Path<(String, String)>) -> HttpResponse {
    let (user_id, passkey_id) = path.into_inner();
    let removed = passkeys::remove(&client.context(), &user_id, &passkey_id).await;
    no_content(removed.map(|_| ()))
}
