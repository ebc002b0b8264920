//! The admin screens for groups: the list with member counts and a form to
//! create one; a group's page to change its description, add and remove
//! members, and delete it (refused while a client or an API still names
//! it).

use super::ui::{self, AdminForm, AdminUser};
use crate::admin::{groups, AdminError};
use crate::state::Provider;
use crate::web::pages::Pages;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// The status a refused change answers with.
fn refused(e: &AdminError) -> StatusCode {
    match e {
        AdminError::Conflict(_) => StatusCode::CONFLICT,
        AdminError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The list, with what was typed in the create form and a problem.
async fn list_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    (status, notice, problem): (StatusCode, Option<&str>, Option<&str>),
    typed: Value,
) -> HttpResponse {
    let all = match groups::list(&admin.context(req, provider)).await {
        Ok(all) => all,
        Err(e) => return ui::failed(pages, &e),
    };
    ui::render(
        req,
        provider,
        pages,
        admin,
        (status, "admin_groups.html", "groups"),
        json!({
            "groups": all,
            "typed": typed,
            "notice": notice,
            "problem": problem,
        }),
    )
}

/// GET /admin/groups
pub async fn list(admin: AdminUser, Screen(req, provider, pages): Screen) -> HttpResponse {
    let notice = ui::notice(&req);
    list_page(
        &req,
        &provider,
        &pages,
        &admin,
        (StatusCode::OK, notice, None),
        json!({}),
    )
    .await
}

/// POST /admin/groups: name and description.
pub async fn create(
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let name = ui::field(&form, "name").trim().to_string();
    let description = ui::field(&form, "description");
    let ctx = admin.context(&req, &provider);
    match groups::create(&ctx, &name, &description).await {
        Ok(()) => ui::done(&provider, &format!("/groups/{name}"), "group-created"),
        Err(e @ (AdminError::Invalid(_) | AdminError::Conflict(_))) => {
            list_page(
                &req,
                &provider,
                &pages,
                &admin,
                (refused(&e), None, Some(&e.to_string())),
                json!({ "name": name, "description": description }),
            )
            .await
        }
        Err(e) => ui::failed(&pages, &e),
    }
}

/// A group's page, with a notice or a problem.
async fn group_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    name: &str,
    (status, notice, problem): (StatusCode, Option<&str>, Option<&str>),
) -> HttpResponse {
    let ctx = admin.context(req, provider);
    let loaded = async {
        let group = groups::find(&ctx, name).await?;
        let members = groups::members(&ctx, name).await?;
        Ok::<_, AdminError>((group, members))
    }
    .await;
    let (group, members) = match loaded {
        Ok(found) => found,
        Err(e) => return ui::failed(pages, &e),
    };
    ui::render(
        req,
        provider,
        pages,
        admin,
        (status, "admin_group.html", "groups"),
        json!({
            "group": group,
            "members": members.iter().map(|m| json!({
                "username": m, "path": ui::path_segment(m),
            })).collect::<Vec<_>>(),
            "notice": notice,
            "problem": problem,
        }),
    )
}

/// GET /admin/groups/{name}
pub async fn show(
    admin: AdminUser,
    path: web::Path<String>,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let notice = ui::notice(&req);
    group_page(
        &req,
        &provider,
        &pages,
        &admin,
        &path,
        (StatusCode::OK, notice, None),
    )
    .await
}

/// POST /admin/groups/{name}: the description.
pub async fn update(
    path: web::Path<String>,
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let ctx = admin.context(&req, &provider);
    match groups::describe(&ctx, &path, &ui::field(&form, "description")).await {
        Ok(()) => ui::done(&provider, &format!("/groups/{path}"), "group-saved"),
        Err(e @ AdminError::Invalid(_)) => {
            group_page(
                &req,
                &provider,
                &pages,
                &admin,
                &path,
                (refused(&e), None, Some(&e.to_string())),
            )
            .await
        }
        Err(e) => ui::failed(&pages, &e),
    }
}

/// POST /admin/groups/{name}/{action}: add-member, remove-member or delete.
pub async fn act(
    path: web::Path<(String, String)>,
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let (name, action) = path.into_inner();
    let ctx = admin.context(&req, &provider);
    if let Err(e) = groups::find(&ctx, &name).await {
        return ui::failed(&pages, &e);
    }
    let back = format!("/groups/{name}");
    let result = match action.as_str() {
        "add-member" => {
            let user = ui::field(&form, "username").trim().to_string();
            if user.is_empty() {
                Err(AdminError::Invalid(
                    "Type the username of the user to add.".into(),
                ))
            } else {
                groups::add_member(&ctx, &name, &user)
                    .await
                    .map(|()| ui::done(&provider, &back, "member-added"))
            }
        }
        "remove-member" => groups::remove_member(&ctx, &name, &ui::field(&form, "user"))
            .await
            .map(|()| ui::done(&provider, &back, "member-removed")),
        "delete" if ui::field(&form, "confirm").trim() != name => Err(AdminError::Invalid(
            "To delete the group, type its name in the box first.".into(),
        )),
        "delete" => groups::delete(&ctx, &name)
            .await
            .map(|()| ui::done(&provider, "/groups", "group-deleted")),
        _ => {
            return pages.error(
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is no such action.",
            )
        }
    };
    match result {
        Ok(done) => done,
        // A user that is not there, or not a member, is the admin's typing:
        // said on the group's page like the other refusals.
        Err(e @ (AdminError::Invalid(_) | AdminError::Conflict(_) | AdminError::NotFound(_))) => {
            group_page(
                &req,
                &provider,
                &pages,
                &admin,
                &name,
                (refused(&e), None, Some(&e.to_string())),
            )
            .await
        }
        Err(e) => ui::failed(&pages, &e),
    }
}
