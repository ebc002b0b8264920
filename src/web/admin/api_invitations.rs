//! The admin API's invitations: invite a user by email (the account is
//! made without a password, and a one-time link to choose one is sent), and
//! send the invitation of a user who has not accepted again. 503
//! `email_disabled` when no SMTP server is configured.

use super::api::{body, fail, ok};
use super::api_auth::ApiClient;
use super::api_users::user_json;
use crate::admin::invitations::{self, Invitee};
use crate::admin::{groups, users};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InvitationBody {
    username: String,
    email: String,
    name: Option<String>,
    #[serde(default)]
    is_admin: bool,
    #[serde(default)]
    groups: Vec<String>,
}

/// POST /invitations
pub(super) async fn invite(client: ApiClient, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    let new: InvitationBody = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    let ctx = client.context();
    // Groups are checked before the user exists, so a bad one makes nothing.
    if let Err(e) = groups::check_exist(&ctx, &new.groups).await {
        return fail(e);
    }
    let invitee = Invitee {
        username: new.username,
        email: new.email,
        name: new.name,
        is_admin: new.is_admin,
    };
    let user = match invitations::invite(&ctx, &client.provider.config, invitee).await {
        Ok(user) => user,
        Err(e) => return fail(e),
    };
    client.provider.outbox_wake.notify_one();
    if let Err(e) = groups::set_user_groups(&ctx, &user.id, &new.groups).await {
        return fail(e);
    }
    match users::find(&ctx, &user.id).await {
        Ok(user) => ok(StatusCode::CREATED, json!({ "user": user_json(&user) })),
        Err(e) => fail(e),
    }
}

/// POST /users/{id}/invitation
pub(super) async fn resend(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    let ctx = client.context();
    match invitations::resend(&ctx, &client.provider.config, &path).await {
        Ok(user) => {
            client.provider.outbox_wake.notify_one();
            ok(StatusCode::ACCEPTED, json!({ "user": user_json(&user) }))
        }
        Err(e) => fail(e),
    }
}
