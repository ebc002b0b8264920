//! The admin screens for users: list and search, create with a temporary
//! password shown once, edit, disable and enable, reset the password or
//! the second factor, clear the sign-in delays, remove a passkey, delete;
//! with each user's passkeys, sessions, grants and recent audit events.

use super::ui::{self, show_secret, AdminForm, AdminUser};
use crate::admin::users::{self, NewPassword, UserInput};
use crate::admin::{audit, groups, passkeys, tokens, AdminError};
use crate::model::{AuditFilter, Profile, UserRecord};
use crate::oauth::params::Params;
use crate::state::Provider;
use crate::web::display;
use crate::web::pages::Pages;
use crate::web::profile_fields;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

const PER_PAGE: i64 = 25;

fn user_row(u: &UserRecord) -> Value {
    json!({
        "id": u.id, "username": u.username, "name": u.name, "email": u.email,
        "is_admin": u.is_admin, "disabled": u.disabled, "mfa": u.totp_secret.is_some(),
        "passkeys": u.passkeys,
        "must_change_password": u.must_change_password,
        "may_invite": crate::admin::invitations::may_invite(u),
    })
}

fn query_value(params: &Params, name: &str) -> Option<String> {
    params.get(name).ok().flatten().map(str::to_string)
}

/// GET /admin/users
pub async fn list(admin: AdminUser, Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let search = query_value(&query, "q").unwrap_or_default();
    let page = query_value(&query, "page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1);
    let found = match users::list(
        &admin.context(&req, &provider),
        Some(&search),
        page,
        PER_PAGE,
    )
    .await
    {
        Ok(found) => found,
        Err(e) => return ui::failed(&pages, &e),
    };
    let encoded: String = form_urlencoded::byte_serialize(search.as_bytes()).collect();
    let link = |page: i64| format!("?q={encoded}&page={page}");
    ui::render(
        &req,
        &provider,
        &pages,
        &admin,
        (StatusCode::OK, "admin_users.html", "users"),
        json!({
            "users": found.items.iter().map(user_row).collect::<Vec<_>>(),
            "q": search,
            "total": found.total,
            "total_exact": found.total_exact,
            "page": found.page,
            "pages": found.pages(),
            "previous": (found.page > 1).then(|| link(found.page - 1)),
            "next": (found.page < found.pages()).then(|| link(found.page + 1)),
            "notice": ui::notice(&req),
        }),
    )
}

/// The new-user form, empty or with what was typed and a problem.
fn new_form(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    status: StatusCode,
    fields: Value,
    problem: Option<&str>,
) -> HttpResponse {
    ui::render(
        req,
        provider,
        pages,
        admin,
        (status, "admin_user_new.html", "users"),
        json!({
            "fields": fields, "problem": problem,
            "email_on": provider.config.email_enabled(),
        }),
    )
}

/// GET /admin/users/new
pub async fn new(admin: AdminUser, Screen(req, provider, pages): Screen) -> HttpResponse {
    new_form(
        &req,
        &provider,
        &pages,
        &admin,
        StatusCode::OK,
        json!({}),
        None,
    )
}

/// POST /admin/users
pub async fn create(
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    if super::ui_invitations::asked(&form) {
        return super::ui_invitations::create(&admin, &form, (&req, &provider, &pages)).await;
    }
    let input = UserInput {
        username: query_value(&form, "username").unwrap_or_default(),
        email: query_value(&form, "email"),
        name: query_value(&form, "name"),
        is_admin: form.get("is_admin").ok().flatten() == Some("on"),
        email_verified: form.get("email_verified").ok().flatten() == Some("on"),
        profile: Profile::default(),
    };
    let typed = json!({
        "username": input.username, "email": input.email, "name": input.name,
        "is_admin": input.is_admin, "email_verified": input.email_verified,
    });
    let ctx = admin.context(&req, &provider);
    match users::create(&ctx, input, NewPassword::Temporary).await {
        Ok((user, shown)) => {
            let base = provider.config.base_path();
            show_secret(
                &req,
                &provider,
                &pages,
                &admin,
                "users",
                json!({
                    "title": format!("{} was created", user.username),
                    "label": "Temporary password",
                    "secret": shown,
                    "explanation": "Give it to the user over a safe channel. It is shown only now, and they must choose their own password when they first sign in.",
                    "continue_to": format!("{base}/admin/users/{}", user.id),
                }),
            )
        }
        Err(e @ (AdminError::Invalid(_) | AdminError::Conflict(_))) => {
            let status = if matches!(e, AdminError::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            new_form(
                &req,
                &provider,
                &pages,
                &admin,
                status,
                typed,
                Some(&e.to_string()),
            )
        }
        Err(e) => ui::failed(&pages, &e),
    }
}

/// What the details form shows for a stored user.
fn details(user: &UserRecord) -> Value {
    json!({
        "name": user.name, "email": user.email, "email_verified": user.email_verified,
        "is_admin": user.is_admin, "p": profile_fields::values(&user.profile),
        "open": false,
    })
}

/// What the admin typed into a form of the user's page, shown again with
/// the problem: the details form (`details`) or the claim form (`claim`).
#[derive(Default)]
struct Typed {
    details: Option<Value>,
    claim: Option<Value>,
}

/// The user's page, with a notice or a problem.
async fn user_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    id: &str,
    (status, notice, problem): (StatusCode, Option<&str>, Option<&str>),
    typed: Typed,
) -> HttpResponse {
    let ctx = admin.context(req, provider);
    let user = match users::find(&ctx, id).await {
        Ok(u) => u,
        Err(e) => return ui::failed(pages, &e),
    };
    let filter = AuditFilter {
        user: Some(user.id.clone()),
        ..Default::default()
    };
    let loaded = async {
        let keys = passkeys::list(&ctx, &user.id).await?;
        let sessions = users::sessions(&ctx, &user.id).await?;
        let grants = tokens::live_grants(&ctx, Some(&user.id), None).await?;
        let events = audit::events(&ctx, &filter, 20).await?;
        let all_groups = groups::list(&ctx).await?;
        let delay = users::sign_in_delay(&ctx, &user).await?;
        Ok::<_, crate::admin::AdminError>((keys, sessions, grants, events, all_groups, delay))
    }
    .await;
    let (keys, sessions, grants, events, all_groups, delay) = match loaded {
        Ok(found) => found,
        Err(e) => return ui::failed(pages, &e),
    };
    let details = typed.details.unwrap_or_else(|| details(&user));
    ui::render(
        req,
        provider,
        pages,
        admin,
        (status, "admin_user.html", "users"),
        json!({
            "user": user_row(&user),
            "is_self": user.id == admin.user.id,
            "sign_in_delay": delay,
            "p": details["p"],
            "open_details": details["open"],
            "details": details,
            "may_verify": true,
            "email_on": provider.config.email_enabled(),
            "groups": user.groups,
            "other_groups": all_groups
                .iter()
                .filter(|g| !user.groups.contains(&g.name))
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>(),
            "claims": user.claims.iter().map(|(name, value)| json!({
                "name": name, "value": value.to_string(),
            })).collect::<Vec<_>>(),
            "claim": typed.claim.unwrap_or_else(|| json!({})),
            "passkeys": keys.iter().map(|k| json!({
                "id": k.id, "name": k.name, "added": display::date_time(k.created_at),
                "last_used": k.last_used_at.map(display::date_time),
            })).collect::<Vec<_>>(),
            "sessions": sessions.iter().map(|s| json!({
                "sid": s.sid,
                "device": display::device(s.device.user_agent.as_deref()),
                "ip": s.device.ip,
                "signed_in": display::date_time(s.created_at),
                "amr": s.amr,
            })).collect::<Vec<_>>(),
            "grants": grants.iter().map(|g| json!({
                "id": g.id, "client_id": g.client_id, "client_name": g.client_name,
                "scope": g.scope, "created": display::date_time(g.created_at),
            })).collect::<Vec<_>>(),
            "events": events.iter().map(super::ui_system::event_row).collect::<Vec<_>>(),
            "notice": notice,
            "problem": problem,
        }),
    )
}

/// GET /admin/users/{id}
pub async fn show(
    admin: AdminUser,
    path: web::Path<String>,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let notice = ui::notice(&req);
    user_page(
        &req,
        &provider,
        &pages,
        &admin,
        &path,
        (StatusCode::OK, notice, None),
        Typed::default(),
    )
    .await
}

/// POST /admin/users/{id}: name, email (and whether it is verified), the
/// standard claims and the admin role.
pub async fn update(
    path: web::Path<String>,
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let is_admin = form.get("is_admin").ok().flatten() == Some("on");
    let field = |name: &str| form.get(name).ok().flatten();
    let profile = profile_fields::read(field, true);
    let typed = json!({
        "name": field("name"), "email": field("email"),
        "email_verified": field("email_verified") == Some("on"), "is_admin": is_admin,
        "p": profile_fields::values(&profile), "open": true,
    });
    let problem = |why: String| {
        let (req, provider, pages, admin, path) = (&req, &provider, &pages, &admin, &path);
        let typed = Typed {
            details: Some(typed.clone()),
            claim: None,
        };
        async move {
            user_page(
                req,
                provider,
                pages,
                admin,
                path,
                (StatusCode::BAD_REQUEST, None, Some(&why)),
                typed,
            )
            .await
        }
    };
    // The URL may name the user by id or by username.
    let target = match users::find(&admin.context(&req, &provider), &path).await {
        Ok(u) => u,
        Err(e) => return ui::failed(&pages, &e),
    };
    if target.id == admin.user.id && !is_admin {
        return problem("You can't take the admin role from yourself; ask another admin.".into())
            .await;
    }
    let ctx = admin.context(&req, &provider);
    let input = UserInput {
        username: target.username.clone(),
        name: field("name").map(str::to_string),
        email: field("email").map(str::to_string),
        is_admin,
        email_verified: field("email_verified") == Some("on"),
        profile,
    };
    match users::update(&ctx, &path, input).await {
        Ok(()) => ui::done(&provider, &format!("/users/{}", target.id), "user-saved"),
        Err(AdminError::Invalid(why)) => problem(why).await,
        Err(e) => ui::failed(&pages, &e),
    }
}

/// POST /admin/users/{id}/{action}
pub async fn act(
    path: web::Path<(String, String)>,
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let (named, action) = path.into_inner();
    // The URL may name the user by id or by username.
    let id = match users::find(&admin.context(&req, &provider), &named).await {
        Ok(u) => u.id,
        Err(e) => return ui::failed(&pages, &e),
    };
    let ctx = admin.context(&req, &provider);
    let own = id == admin.user.id;
    let back = format!("/users/{id}");
    let problem_with = |why: String, typed: Typed| {
        let (req, provider, pages, admin, id) = (&req, &provider, &pages, &admin, &id);
        async move {
            user_page(
                req,
                provider,
                pages,
                admin,
                id,
                (StatusCode::BAD_REQUEST, None, Some(&why)),
                typed,
            )
            .await
        }
    };
    let problem = |why: &str| problem_with(why.to_string(), Typed::default());
    let result = match action.as_str() {
        "disable" if own => return problem("You can't disable your own account.").await,
        "disable" => users::set_disabled(&ctx, &id, true)
            .await
            .map(|()| ui::done(&provider, &back, "user-disabled")),
        "enable" => users::set_disabled(&ctx, &id, false)
            .await
            .map(|()| ui::done(&provider, &back, "user-enabled")),
        "reset-mfa" => users::reset_mfa(&ctx, &id)
            .await
            .map(|()| ui::done(&provider, &back, "mfa-reset")),
        "send-invitation" => {
            return super::ui_invitations::resend(&admin, &id, (&req, &provider, &pages)).await
        }
        "unlock" => users::unlock(&ctx, &id)
            .await
            .map(|()| ui::done(&provider, &back, "user-unlocked")),
        "remove-passkey" => {
            let passkey = form.get("passkey").ok().flatten().unwrap_or("");
            // Already gone (another admin, the owner, a second click): the
            // page says so and shows what is left.
            match passkeys::remove(&ctx, &id, passkey).await {
                Ok(_) => Ok(ui::done(&provider, &back, "passkey-removed")),
                Err(AdminError::NotFound(why)) => return problem(&why).await,
                Err(e) => Err(e),
            }
        }
        "end-session" => {
            let sid = form.get("sid").ok().flatten().unwrap_or("");
            tokens::end_session(&ctx, &id, sid)
                .await
                .map(|()| ui::done(&provider, &back, "session-ended"))
        }
        "delete" if own => return problem("You can't delete your own account.").await,
        "delete" => {
            let user = match users::find(&admin.context(&req, &provider), &id).await {
                Ok(u) => u,
                Err(e) => return ui::failed(&pages, &e),
            };
            if form.get("confirm").ok().flatten().map(str::trim) != Some(user.username.as_str()) {
                return problem("To delete the user, type their username in the box first.").await;
            }
            users::delete(&ctx, &id)
                .await
                .map(|()| ui::done(&provider, "/users", "user-deleted"))
        }
        "add-group" | "remove-group" => {
            let group = form.get("group").ok().flatten().unwrap_or("");
            if group.is_empty() {
                return problem("Choose a group first.").await;
            }
            let changed = if action == "add-group" {
                groups::add_member(&ctx, group, &id).await
            } else {
                groups::remove_member(&ctx, group, &id).await
            };
            match changed {
                Ok(()) => Ok(ui::done(&provider, &back, "groups-saved")),
                Err(AdminError::NotFound(why)) => return problem(&why).await,
                Err(e) => Err(e),
            }
        }
        "set-claim" | "remove-claim" => {
            let name = form.get("name").ok().flatten().unwrap_or("").trim();
            let text = form.get("value").ok().flatten().unwrap_or("");
            let typed = Typed {
                details: None,
                claim: Some(json!({ "name": name, "value": text })),
            };
            let value = if action == "remove-claim" {
                None
            } else {
                match serde_json::from_str::<Value>(text) {
                    Ok(value) => Some(value),
                    Err(_) => {
                        let why = "The value must be JSON: a string in double quotes (\"acme\"), a number, true or false, a list or an object.";
                        return problem_with(why.into(), typed).await;
                    }
                }
            };
            let key = if value.is_some() {
                "claim-saved"
            } else {
                "claim-removed"
            };
            match users::set_claim(&ctx, &id, name, value).await {
                Ok(()) => Ok(ui::done(&provider, &back, key)),
                Err(AdminError::Invalid(why)) => return problem_with(why, typed).await,
                Err(e) => Err(e),
            }
        }
        "reset-password" => match users::reset_password(&ctx, &id, NewPassword::Temporary).await {
            Ok(shown) => {
                let base = provider.config.base_path();
                let user = users::find(&admin.context(&req, &provider), &id).await;
                let name = user.map(|u| u.username).unwrap_or_default();
                return show_secret(
                    &req,
                    &provider,
                    &pages,
                    &admin,
                    "users",
                    json!({
                        "title": format!("New password for {name}"),
                        "label": "Temporary password",
                        "secret": shown,
                        "explanation": "Their sessions were ended. The password is shown only now; they must choose their own when they next sign in.",
                        "continue_to": format!("{base}/admin/users/{id}"),
                    }),
                );
            }
            Err(e) => Err(e),
        },
        _ => {
            return pages.error(
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is no such action.",
            )
        }
    };
    result.unwrap_or_else(|e| ui::failed(&pages, &e))
}
