//! The screen that replaces a password an admin set (a new account's
//! temporary password, or a reset): right after signing in, before anything
//! else, the user chooses their own (`crate::sign_in::new_password`).

use super::{after_sign_in, destination, screen_query};
use crate::oauth::params::Params;
use crate::sign_in::new_password::{choose, Change};
use crate::state::Provider;
use crate::web::form::PostedForm;
use crate::web::onward::{self, current_session, redirect};
use crate::web::pages::Pages;
use crate::web::rate_limit::client_address;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

fn page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    (request, then): (Option<&str>, Option<&'static str>),
    username: &str,
    error: Option<&str>,
) -> HttpResponse {
    pages.form(
        req,
        &provider.config,
        status,
        "new_password.html",
        json!({
            "request": request, "then": then,
            "username": username, "error": error,
        }),
    )
}

/// GET /login/new-password
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let request = query.get("request").ok().flatten();
    let then = destination(query.get("then").ok().flatten());
    if request.is_some_and(|r| !onward::is_request_id(r)) {
        return onward::expired_request(&pages);
    }
    let base = provider.config.base_path();
    let user = match current_session(&req, &provider).await {
        Ok(Some((_, user))) => user,
        Ok(None) => {
            let to = format!("{base}/login{}", screen_query(request, then));
            return redirect(StatusCode::FOUND, &to);
        }
        Err(e) => return pages.fail(&e),
    };
    if !user.must_change_password {
        return redirect(StatusCode::FOUND, &after_sign_in(&provider, request, then));
    }
    page(
        &req,
        &provider,
        &pages,
        StatusCode::OK,
        (request, then),
        &user.username,
        None,
    )
}

/// POST /login/new-password
pub async fn submit(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let field = |name: &str| form.field(name);
    let request = field("request");
    let then = destination(field("then"));
    if request.is_some_and(|r| !onward::is_request_id(r)) {
        return onward::expired_request(&pages);
    }
    let base = provider.config.base_path();
    let user = match current_session(&req, &provider).await {
        Ok(Some((_, user))) => user,
        Ok(None) => {
            let to = format!("{base}/login{}", screen_query(request, then));
            return redirect(StatusCode::SEE_OTHER, &to);
        }
        Err(e) => return pages.fail(&e),
    };
    let screen = (request, then);
    let refuse = |status: StatusCode, why: &str| {
        page(
            &req,
            &provider,
            &pages,
            status,
            screen,
            &user.username,
            Some(why),
        )
    };
    if !form.csrf_ok() {
        return refuse(
            StatusCode::FORBIDDEN,
            "This form had expired, so nothing was changed. Please try again.",
        );
    }
    let new = field("new_password").unwrap_or("");
    let repeated = field("repeat_password").unwrap_or("");
    let ip = client_address(&req, provider.config.trust_forwarded_for);
    match choose(&provider, &user, new, repeated, &ip).await {
        Ok(Change::Changed | Change::NotDue) => redirect(
            StatusCode::SEE_OTHER,
            &after_sign_in(&provider, request, then),
        ),
        Ok(Change::Refused(why)) => refuse(StatusCode::BAD_REQUEST, why),
        Err(e) => pages.fail(&e),
    }
}
