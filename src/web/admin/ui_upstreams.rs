//! The admin screens for upstream identity providers: the list with the
//! redirect URI to register at each and a form to add one; an upstream's
//! page to change its settings (the client secret is write-only), turn it
//! on or off, and delete it.

use super::ui::{self, AdminForm, AdminUser};
use super::ui_upstream_form::{fields, read_settings, typed_fields};
use crate::admin::{groups, upstreams, AdminError};
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

/// The list, with what was typed in the add form and a problem.
async fn list_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    (status, notice, problem): (StatusCode, Option<&str>, Option<&str>),
    typed: Value,
) -> HttpResponse {
    let all = match upstreams::list(&admin.context(req, provider)).await {
        Ok(all) => all,
        Err(e) => return ui::failed(pages, &e),
    };
    let issuer = &provider.config.issuer;
    ui::render(
        req,
        provider,
        pages,
        admin,
        (status, "admin_upstreams.html", "upstreams"),
        json!({
            "upstreams": all.iter().map(|u| upstreams::view(issuer, u)).collect::<Vec<_>>(),
            "callback_example": upstreams::redirect_uri(issuer, "ID"),
            "form": typed,
            "notice": notice,
            "problem": problem,
        }),
    )
}

/// GET /admin/upstreams
pub async fn list(admin: AdminUser, Screen(req, provider, pages): Screen) -> HttpResponse {
    let notice = ui::notice(&req);
    list_page(
        &req,
        &provider,
        &pages,
        &admin,
        (StatusCode::OK, notice, None),
        json!({ "kind": "oidc", "jit": true, "enabled": true }),
    )
    .await
}

/// POST /admin/upstreams: the add form.
pub async fn create(
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let id = ui::field(&form, "id").trim().to_string();
    let result = match read_settings(&form, &id) {
        Ok(settings) => upstreams::create(&admin.context(&req, &provider), &settings).await,
        Err(why) => Err(AdminError::Invalid(why)),
    };
    match result {
        Ok(upstream) => ui::done(
            &provider,
            &format!("/upstreams/{}", upstream.id),
            "upstream-created",
        ),
        Err(e @ (AdminError::Invalid(_) | AdminError::Conflict(_))) => {
            list_page(
                &req,
                &provider,
                &pages,
                &admin,
                (refused(&e), None, Some(&e.to_string())),
                typed_fields(&form, &id),
            )
            .await
        }
        Err(e) => ui::failed(&pages, &e),
    }
}

/// An upstream's page: its settings in the form (or `typed`, for a form
/// that was refused), with a notice or a problem.
async fn upstream_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    id: &str,
    typed: Option<Value>,
    (status, notice, problem): (StatusCode, Option<&str>, Option<&str>),
) -> HttpResponse {
    let ctx = admin.context(req, provider);
    let loaded = async {
        let upstream = upstreams::find(&ctx, id).await?;
        let groups = groups::list(&ctx).await?;
        Ok::<_, AdminError>((upstream, groups))
    }
    .await;
    let (upstream, groups) = match loaded {
        Ok(found) => found,
        Err(e) => return ui::failed(pages, &e),
    };
    let view = upstreams::view(&provider.config.issuer, &upstream);
    let form = typed.unwrap_or_else(|| fields(&view));
    ui::render(
        req,
        provider,
        pages,
        admin,
        (status, "admin_upstream.html", "upstreams"),
        json!({
            "upstream": view,
            "form": form,
            "known_groups": groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            "notice": notice,
            "problem": problem,
        }),
    )
}

/// GET /admin/upstreams/{id}
pub async fn show(
    admin: AdminUser,
    path: web::Path<String>,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let notice = ui::notice(&req);
    upstream_page(
        &req,
        &provider,
        &pages,
        &admin,
        &path,
        None,
        (StatusCode::OK, notice, None),
    )
    .await
}

/// POST /admin/upstreams/{id}: every setting; an empty secret keeps the
/// stored one.
pub async fn update(
    path: web::Path<String>,
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let result = match read_settings(&form, &path) {
        Ok(settings) => upstreams::update(&admin.context(&req, &provider), &path, &settings).await,
        Err(why) => Err(AdminError::Invalid(why)),
    };
    match result {
        Ok(upstream) => ui::done(
            &provider,
            &format!("/upstreams/{}", upstream.id),
            "upstream-saved",
        ),
        Err(e @ AdminError::Invalid(_)) => {
            upstream_page(
                &req,
                &provider,
                &pages,
                &admin,
                &path,
                Some(typed_fields(&form, &path)),
                (refused(&e), None, Some(&e.to_string())),
            )
            .await
        }
        Err(e) => ui::failed(&pages, &e),
    }
}

/// POST /admin/upstreams/{id}/{action}: enable, disable or delete.
pub async fn act(
    path: web::Path<(String, String)>,
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let (id, action) = path.into_inner();
    let ctx = admin.context(&req, &provider);
    let upstream = match upstreams::find(&ctx, &id).await {
        Ok(found) => found,
        Err(e) => return ui::failed(&pages, &e),
    };
    let back = format!("/upstreams/{}", upstream.id);
    let result = match action.as_str() {
        "enable" => upstreams::set_enabled(&ctx, &upstream.id, true)
            .await
            .map(|()| ui::done(&provider, &back, "upstream-enabled")),
        "disable" => upstreams::set_enabled(&ctx, &upstream.id, false)
            .await
            .map(|()| ui::done(&provider, &back, "upstream-disabled")),
        "delete" if ui::field(&form, "confirm").trim() != upstream.id => Err(AdminError::Invalid(
            "To delete the upstream, type its id in the box first.".into(),
        )),
        "delete" => upstreams::delete(&ctx, &upstream.id)
            .await
            .map(|()| ui::done(&provider, "/upstreams", "upstream-deleted")),
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
        Err(e @ AdminError::Invalid(_)) => {
            upstream_page(
                &req,
                &provider,
                &pages,
                &admin,
                &upstream.id,
                None,
                (refused(&e), None, Some(&e.to_string())),
            )
            .await
        }
        Err(e) => ui::failed(&pages, &e),
    }
}
