//! The admin screens for APIs (resource servers) and custom scopes: the
//! APIs with a form to add one; an API's page (its identifier percent-encoded
//! in the path) to change its name, scopes, roles, token lifetime and
//! signing algorithm, or delete it; and the custom scopes with the user
//! attributes each releases.

use super::ui::{self, AdminForm, AdminUser};
use super::ui_client_form::{read_roles, roles_text};
use crate::admin::apis::{self, SIGNING_ALGS};
use crate::admin::AdminError;
use crate::model::{ApiRecord, ApiScope, ScopeRecord};
use crate::oauth::params::Params;
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

/// An API's scopes as the form shows them: `name: description`, one a line.
fn scopes_text(scopes: &[ApiScope]) -> String {
    scopes
        .iter()
        .map(|s| {
            if s.description.is_empty() {
                s.name.clone()
            } else {
                format!("{}: {}", s.name, s.description)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads scopes written one a line as `name: description` (or just the
/// name). A scope has no spaces, so the name is the first word, without
/// the colon that ends it; `api:read: Read` is `api:read`.
fn read_scopes(text: &str) -> Vec<ApiScope> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            ApiScope {
                name: word.strip_suffix(':').unwrap_or(word).to_string(),
                description: rest.trim().to_string(),
            }
        })
        .collect()
}

/// The form's fields for a stored API.
fn fields(api: &ApiRecord) -> Value {
    json!({
        "identifier": api.identifier,
        "path": ui::path_segment(&api.identifier),
        "name": api.name,
        "scopes": scopes_text(&api.scopes),
        "roles": roles_text(&api.roles),
        "access_token_ttl": api.access_token_ttl.map(|t| t.to_string()).unwrap_or_default(),
        "signing_alg": api.signing_alg,
    })
}

/// The form's fields as they were typed.
fn typed(form: &Params, identifier: &str) -> Value {
    json!({
        "identifier": identifier,
        "path": ui::path_segment(identifier),
        "name": ui::field(form, "name"),
        "scopes": ui::field(form, "scopes"),
        "roles": ui::field(form, "roles"),
        "access_token_ttl": ui::field(form, "access_token_ttl"),
        "signing_alg": ui::field(form, "signing_alg"),
    })
}

/// Reads the API form; the sentence if a field cannot be read at all
/// (the use case checks the rest).
fn read_api(form: &Params, identifier: &str) -> Result<ApiRecord, String> {
    let ttl = ui::field(form, "access_token_ttl");
    let ttl = ttl.trim();
    let access_token_ttl = if ttl.is_empty() {
        None
    } else {
        Some(ttl.parse::<i64>().map_err(|_| {
            "The access token lifetime must be a whole number of seconds, or empty for the client's or the server's.".to_string()
        })?)
    };
    let alg = ui::field(form, "signing_alg");
    Ok(ApiRecord {
        identifier: identifier.trim().to_string(),
        name: ui::field(form, "name"),
        scopes: read_scopes(&ui::field(form, "scopes")),
        roles: read_roles(&ui::field(form, "roles"))?,
        access_token_ttl,
        signing_alg: if alg.is_empty() { "RS256".into() } else { alg },
    })
}

/// The list of APIs, with what was typed in the create form and a problem.
async fn list_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    (status, notice, problem): (StatusCode, Option<&str>, Option<&str>),
    typed: Value,
) -> HttpResponse {
    let all = match apis::list(&admin.context(req, provider)).await {
        Ok(all) => all,
        Err(e) => return ui::failed(pages, &e),
    };
    let rows: Vec<Value> = all
        .iter()
        .map(|a| {
            json!({
                "identifier": a.identifier,
                "path": ui::path_segment(&a.identifier),
                "name": a.name,
                "scopes": a.scopes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(" "),
                "roles": a.roles.keys().cloned().collect::<Vec<_>>().join(" "),
                "signing_alg": a.signing_alg,
            })
        })
        .collect();
    ui::render(
        req,
        provider,
        pages,
        admin,
        (status, "admin_apis.html", "apis"),
        json!({
            "apis": rows,
            "typed": typed,
            "signing_algs": SIGNING_ALGS,
            "notice": notice,
            "problem": problem,
        }),
    )
}

/// GET /admin/apis
pub async fn list(admin: AdminUser, Screen(req, provider, pages): Screen) -> HttpResponse {
    let notice = ui::notice(&req);
    list_page(
        &req,
        &provider,
        &pages,
        &admin,
        (StatusCode::OK, notice, None),
        json!({ "signing_alg": "RS256" }),
    )
    .await
}

/// POST /admin/apis: a new API.
pub async fn create(
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let identifier = ui::field(&form, "identifier").trim().to_string();
    let shown = typed(&form, &identifier);
    let again = |status: StatusCode, why: String| {
        let (req, provider, pages, admin, shown) = (&req, &provider, &pages, &admin, &shown);
        async move {
            list_page(
                req,
                provider,
                pages,
                admin,
                (status, None, Some(&why)),
                shown.clone(),
            )
            .await
        }
    };
    let api = match read_api(&form, &identifier) {
        Ok(api) => api,
        Err(why) => return again(StatusCode::BAD_REQUEST, why).await,
    };
    match apis::save(&admin.context(&req, &provider), api, false).await {
        Ok(()) => ui::done(
            &provider,
            &format!("/apis/{}", ui::path_segment(&identifier)),
            "api-saved",
        ),
        Err(e @ (AdminError::Invalid(_) | AdminError::Conflict(_))) => {
            again(refused(&e), e.to_string()).await
        }
        Err(e) => ui::failed(&pages, &e),
    }
}

/// An API's page: its stored values or what was typed, with a notice or a
/// problem.
fn api_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    shown: Value,
    (status, notice, problem): (StatusCode, Option<&str>, Option<&str>),
) -> HttpResponse {
    ui::render(
        req,
        provider,
        pages,
        admin,
        (status, "admin_api.html", "apis"),
        json!({
            "api": shown,
            "signing_algs": SIGNING_ALGS,
            "notice": notice,
            "problem": problem,
        }),
    )
}

/// GET /admin/apis/{identifier}
pub async fn show(
    admin: AdminUser,
    path: web::Path<String>,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let api = match apis::find(&admin.context(&req, &provider), &path).await {
        Ok(api) => api,
        Err(e) => return ui::failed(&pages, &e),
    };
    let notice = ui::notice(&req);
    api_page(
        &req,
        &provider,
        &pages,
        &admin,
        fields(&api),
        (StatusCode::OK, notice, None),
    )
}

/// POST /admin/apis/{identifier}: everything but the identifier.
pub async fn update(
    path: web::Path<String>,
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let ctx = admin.context(&req, &provider);
    let stored = match apis::find(&ctx, &path).await {
        Ok(api) => api,
        Err(e) => return ui::failed(&pages, &e),
    };
    let again = |status: StatusCode, why: &str| {
        api_page(
            &req,
            &provider,
            &pages,
            &admin,
            typed(&form, &stored.identifier),
            (status, None, Some(why)),
        )
    };
    let api = match read_api(&form, &stored.identifier) {
        Ok(api) => api,
        Err(why) => return again(StatusCode::BAD_REQUEST, &why),
    };
    match apis::save(&ctx, api, true).await {
        Ok(()) => ui::done(
            &provider,
            &format!("/apis/{}", ui::path_segment(&stored.identifier)),
            "api-saved",
        ),
        Err(e @ AdminError::Invalid(_)) => again(refused(&e), &e.to_string()),
        Err(e) => ui::failed(&pages, &e),
    }
}

/// POST /admin/apis/{identifier}/{action}: delete.
pub async fn act(
    path: web::Path<(String, String)>,
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let (identifier, action) = path.into_inner();
    let ctx = admin.context(&req, &provider);
    let stored = match apis::find(&ctx, &identifier).await {
        Ok(api) => api,
        Err(e) => return ui::failed(&pages, &e),
    };
    if action != "delete" {
        return pages.error(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no such action.",
        );
    }
    if ui::field(&form, "confirm").trim() != stored.identifier {
        return api_page(
            &req,
            &provider,
            &pages,
            &admin,
            fields(&stored),
            (
                StatusCode::BAD_REQUEST,
                None,
                Some("To delete the API, type its identifier in the box first."),
            ),
        );
    }
    match apis::delete(&ctx, &stored.identifier).await {
        Ok(()) => ui::done(&provider, "/apis", "api-deleted"),
        Err(e) => ui::failed(&pages, &e),
    }
}

/// The custom scopes, with the form filled in with `shown`.
async fn scopes_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    admin: &AdminUser,
    (status, notice, problem): (StatusCode, Option<&str>, Option<&str>),
    shown: Value,
) -> HttpResponse {
    let all = match apis::scopes(&admin.context(req, provider)).await {
        Ok(all) => all,
        Err(e) => return ui::failed(pages, &e),
    };
    ui::render(
        req,
        provider,
        pages,
        admin,
        (status, "admin_scopes.html", "scopes"),
        json!({
            "scopes": all.iter().map(|s| json!({
                "name": s.name,
                "edit": form_urlencoded::byte_serialize(s.name.as_bytes()).collect::<String>(),
                "description": s.description,
                "claims": s.claims.join(" "),
            })).collect::<Vec<_>>(),
            "scope": shown,
            "notice": notice,
            "problem": problem,
        }),
    )
}

/// GET /admin/scopes, with `?edit=NAME` to fill the form with a scope.
pub async fn scopes(admin: AdminUser, Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let notice = ui::notice(&req);
    let editing = query.get("edit").ok().flatten().unwrap_or("");
    let ctx = admin.context(&req, &provider);
    let shown = match apis::scopes(&ctx).await {
        Ok(all) => all
            .into_iter()
            .find(|s| s.name == editing)
            .map(|s| {
                json!({
                    "name": s.name, "description": s.description,
                    "claims": s.claims.join(" "), "editing": true,
                })
            })
            .unwrap_or_else(|| json!({})),
        Err(e) => return ui::failed(&pages, &e),
    };
    scopes_page(
        &req,
        &provider,
        &pages,
        &admin,
        (StatusCode::OK, notice, None),
        shown,
    )
    .await
}

/// POST /admin/scopes: creates a scope, or replaces the one of that name.
pub async fn save_scope(
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let scope = ScopeRecord {
        name: ui::field(&form, "name").trim().to_string(),
        description: ui::field(&form, "description"),
        claims: ui::field(&form, "claims")
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
    };
    let shown = json!({
        "name": scope.name, "description": scope.description,
        "claims": ui::field(&form, "claims"),
    });
    match apis::save_scope(&admin.context(&req, &provider), scope).await {
        Ok(()) => ui::done(&provider, "/scopes", "scope-saved"),
        Err(e @ AdminError::Invalid(_)) => {
            scopes_page(
                &req,
                &provider,
                &pages,
                &admin,
                (refused(&e), None, Some(&e.to_string())),
                shown,
            )
            .await
        }
        Err(e) => ui::failed(&pages, &e),
    }
}

/// POST /admin/scopes/delete: the scope named in the form.
pub async fn delete_scope(
    AdminForm(admin, form): AdminForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let name = ui::field(&form, "name");
    match apis::delete_scope(&admin.context(&req, &provider), &name).await {
        Ok(()) => ui::done(&provider, "/scopes", "scope-deleted"),
        Err(e) => ui::failed(&pages, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_read_one_a_line_with_an_optional_description() {
        let read = read_scopes("read: Read your notes\n\n  write\napi:admin: Everything: really\n");
        let pairs: Vec<(&str, &str)> = read
            .iter()
            .map(|s| (s.name.as_str(), s.description.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("read", "Read your notes"),
                ("write", ""),
                ("api:admin", "Everything: really"),
            ]
        );
        assert_eq!(
            scopes_text(&read),
            "read: Read your notes\nwrite\napi:admin: Everything: really"
        );
    }
}
