//! The admin API's group operations: list, create, get, describe, delete,
//! and the members of a group.

use super::api::{answer, body, fail, no_content, ok};
use super::api_auth::ApiClient;
use crate::admin::groups;
use crate::model::GroupRecord;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

/// A group as the API shows it.
pub fn group_json(g: &GroupRecord) -> Value {
    json!({
        "name": g.name,
        "description": g.description,
        "members": g.members,
    })
}

pub(super) async fn list_groups(client: ApiClient) -> HttpResponse {
    answer(
        StatusCode::OK,
        groups::list(&client.context()).await,
        |list| json!({ "items": list.iter().map(group_json).collect::<Vec<_>>() }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewGroupBody {
    name: String,
    #[serde(default)]
    description: String,
}

pub(super) async fn create_group(
    client: ApiClient,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let new: NewGroupBody = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    let ctx = client.context();
    if let Err(e) = groups::create(&ctx, &new.name, &new.description).await {
        return fail(e);
    }
    answer(
        StatusCode::CREATED,
        groups::find(&ctx, new.name.trim()).await,
        |group| group_json(&group),
    )
}

pub(super) async fn get_group(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    answer(
        StatusCode::OK,
        groups::find(&client.context(), &path).await,
        |group| group_json(&group),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GroupChangesBody {
    description: String,
}

pub(super) async fn update_group(
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let changes: GroupChangesBody = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    let ctx = client.context();
    if let Err(e) = groups::describe(&ctx, &path, &changes.description).await {
        return fail(e);
    }
    answer(StatusCode::OK, groups::find(&ctx, &path).await, |group| {
        group_json(&group)
    })
}

pub(super) async fn delete_group(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    no_content(groups::delete(&client.context(), &path).await)
}

pub(super) async fn group_members(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    match groups::members(&client.context(), &path).await {
        Ok(usernames) => ok(StatusCode::OK, json!({ "items": usernames })),
        Err(e) => fail(e),
    }
}

pub(super) async fn add_member(
    client: ApiClient,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (group, user) = path.into_inner();
    no_content(groups::add_member(&client.context(), &group, &user).await)
}

pub(super) async fn remove_member(
    client: ApiClient,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (group, user) = path.into_inner();
    no_content(groups::remove_member(&client.context(), &group, &user).await)
}
