//! The admin API's user operations: list, create, get, change, delete,
//! disable, enable, reset the password or MFA, unlock sign-in, sessions and
//! grants; a
//! user's standard claims, custom claims (all at once or one by one) and
//! groups.

use super::api::{answer, body, fail, grants, no_content, ok, Refusal};
use super::api_auth::{error, ApiClient};
use crate::admin::users::{self, NewPassword, UserInput};
use crate::admin::{groups, tokens};
use crate::model::{Profile, UserRecord};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Map;
use serde_json::{json, Value};

/// A user as the API shows it.
pub fn user_json(u: &UserRecord) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "email_verified": u.email_verified,
        "name": u.name,
        "profile": u.profile,
        "claims": u.claims,
        "groups": u.groups,
        "is_admin": u.is_admin,
        "disabled": u.disabled,
        "mfa_enabled": u.totp_secret.is_some(),
        "passkeys": u.passkeys,
        "must_change_password": u.must_change_password,
    })
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

pub(super) async fn list_users(client: ApiClient, query: web::Query<ListQuery>) -> HttpResponse {
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(50);
    match users::list(&client.context(), query.q.as_deref(), page, per_page).await {
        Ok(found) => ok(
            StatusCode::OK,
            json!({
                "items": found.items.iter().map(user_json).collect::<Vec<_>>(),
                "total": found.total,
                "total_exact": found.total_exact,
                "page": found.page,
                "per_page": found.per_page,
            }),
        ),
        Err(e) => fail(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewUserBody {
    username: String,
    email: Option<String>,
    name: Option<String>,
    #[serde(default)]
    is_admin: bool,
    password: Option<String>,
    #[serde(default)]
    email_verified: bool,
    #[serde(default)]
    profile: Profile,
    #[serde(default)]
    claims: Map<String, Value>,
    #[serde(default)]
    groups: Vec<String>,
}

pub(super) async fn create_user(
    client: ApiClient,
    req: HttpRequest,
    bytes: web::Bytes,
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
        email_verified: new.email_verified,
        profile: new.profile,
    };
    let claims = new.claims;
    let groups = new.groups;
    let password = new
        .password
        .map_or(NewPassword::Temporary, NewPassword::Given);
    let ctx = client.context();
    // Attributes and groups are checked before the user exists, so a bad
    // one creates nothing.
    if let Err(e) = users::check_claims(&claims) {
        return fail(e);
    }
    if let Err(e) = groups::check_exist(&ctx, &groups).await {
        return fail(e);
    }
    let (user, shown) = match users::create(&ctx, input, password).await {
        Ok(created) => created,
        Err(e) => return fail(e),
    };
    if !claims.is_empty() {
        if let Err(e) = users::set_claims(&ctx, &user.id, claims).await {
            return fail(e);
        }
    }
    if let Err(e) = groups::set_user_groups(&ctx, &user.id, &groups).await {
        return fail(e);
    }
    match users::find(&ctx, &user.id).await {
        Ok(user) => ok(
            StatusCode::CREATED,
            json!({ "user": user_json(&user), "temporary_password": shown }),
        ),
        Err(e) => fail(e),
    }
}

pub(super) async fn get_user(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    answer(
        StatusCode::OK,
        users::find(&client.context(), &path).await,
        |user| user_json(&user),
    )
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

pub(super) async fn update_user(
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let changes: Map<String, Value> = match body(&req, &bytes) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    const CHANGEABLE: &[&str] = &[
        "name",
        "email",
        "email_verified",
        "is_admin",
        "profile",
        "claims",
        "groups",
    ];
    if let Some(key) = changes.keys().find(|k| !CHANGEABLE.contains(&k.as_str())) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("{key} cannot be changed here"),
        );
    }
    let user = match users::find(&client.context(), &path).await {
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
    // A new address is not verified unless the body says it is.
    let email_verified = match changes.get("email_verified") {
        None => user.email_verified && email == user.email,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "email_verified must be true or false",
            )
        }
    };
    let profile: Profile = match changes.get("profile") {
        None => user.profile.clone(),
        Some(v) => match serde_json::from_value(v.clone()) {
            Ok(p) => p,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("profile: {e}"),
                )
            }
        },
    };
    let claims: Option<Map<String, Value>> = match changes.get("claims") {
        None => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "claims must be an object",
            )
        }
    };
    let group_names: Option<Vec<String>> = match changes.get("groups") {
        None => None,
        Some(v) => match serde_json::from_value(v.clone()) {
            Ok(g) => Some(g),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "groups must be a list of group names",
                )
            }
        },
    };
    let ctx = client.context();
    // Everything is checked before anything changes.
    if let Some(c) = &claims {
        if let Err(e) = users::check_claims(c) {
            return fail(e);
        }
    }
    if let Some(g) = &group_names {
        if let Err(e) = groups::check_exist(&ctx, g).await {
            return fail(e);
        }
    }
    let input = UserInput {
        username: user.username.clone(),
        name,
        email,
        is_admin,
        email_verified,
        profile,
    };
    if let Err(e) = users::update(&ctx, &user.id, input).await {
        return fail(e);
    }
    if let Some(c) = claims {
        if let Err(e) = users::set_claims(&ctx, &user.id, c).await {
            return fail(e);
        }
    }
    if let Some(g) = group_names {
        if let Err(e) = groups::set_user_groups(&ctx, &user.id, &g).await {
            return fail(e);
        }
    }
    answer(
        StatusCode::OK,
        users::find(&client.context(), &user.id).await,
        |user| user_json(&user),
    )
}

pub(super) async fn delete_user(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    no_content(users::delete(&client.context(), &path).await)
}

pub(super) async fn disable_user(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    no_content(users::set_disabled(&client.context(), &path, true).await)
}

pub(super) async fn enable_user(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    no_content(users::set_disabled(&client.context(), &path, false).await)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ResetBody {
    password: Option<String>,
}

pub(super) async fn reset_password(
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
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
    answer(
        StatusCode::OK,
        users::reset_password(&client.context(), &path, password).await,
        |shown| json!({ "temporary_password": shown }),
    )
}

pub(super) async fn reset_mfa(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    no_content(users::reset_mfa(&client.context(), &path).await)
}

pub(super) async fn unlock(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    no_content(users::unlock(&client.context(), &path).await)
}

pub(super) async fn user_sessions(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    let ctx = client.context();
    let user = match users::find(&ctx, &path).await {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    match users::sessions(&ctx, &user.id).await {
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
        Err(e) => fail(e),
    }
}

pub(super) async fn end_session(
    client: ApiClient,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (user_id, sid) = path.into_inner();
    no_content(tokens::end_session(&client.context(), &user_id, &sid).await)
}

pub(super) async fn user_grants(client: ApiClient, path: web::Path<String>) -> HttpResponse {
    let ctx = client.context();
    match users::find(&ctx, &path).await {
        Ok(user) => grants(&ctx, Some(&user.id), None).await,
        Err(e) => fail(e),
    }
}

/// PUT: sets one custom attribute of a user to the JSON value in the body.
pub(super) async fn set_claim(
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    bytes: web::Bytes,
) -> HttpResponse {
    let value: Value = match body(&req, &bytes) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    let (user_id, name) = path.into_inner();
    let ctx = client.context();
    if let Err(e) = users::set_claim(&ctx, &user_id, &name, Some(value)).await {
        return fail(e);
    }
    answer(StatusCode::OK, users::find(&ctx, &user_id).await, |user| {
        user_json(&user)
    })
}

/// DELETE: removes one custom attribute of a user.
pub(super) async fn unset_claim(
    client: ApiClient,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (user_id, name) = path.into_inner();
    no_content(users::set_claim(&client.context(), &user_id, &name, None).await)
}
