//! The screen that replaces a password an admin set (a new account's
//! temporary password, or a reset): right after signing in, before anything
//! else, the user chooses their own (`crate::sign_in::new_password`).

use super::{after_sign_in, carried, to_login, Carried};
use crate::model::UserRecord;
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
    (request, then): Carried<'_>,
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

/// The signed-in user, or the way back to the password screen.
async fn signed_in_user(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    carried: Carried<'_>,
    status: StatusCode,
) -> Result<UserRecord, HttpResponse> {
    match current_session(req, provider).await {
        Ok(Some((_, user))) => Ok(user),
        Ok(None) => Err(to_login(provider, carried, status)),
        Err(e) => Err(pages.fail(&e)),
    }
}

/// GET /login/new-password
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let Some((request, then)) = carried(|name| query.get(name).ok().flatten()) else {
        return onward::expired_request(&pages);
    };
    let screen = (request, then);
    let user = match signed_in_user(&req, &provider, &pages, screen, StatusCode::FOUND).await {
        Ok(user) => user,
        Err(elsewhere) => return elsewhere,
    };
    if !user.must_change_password {
        return redirect(StatusCode::FOUND, &after_sign_in(&provider, request, then));
    }
    page(
        &req,
        &provider,
        &pages,
        StatusCode::OK,
        screen,
        &user.username,
        None,
    )
}

/// POST /login/new-password
pub async fn submit(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let Some((request, then)) = carried(|name| form.field(name)) else {
        return onward::expired_request(&pages);
    };
    let screen = (request, then);
    let user = match signed_in_user(&req, &provider, &pages, screen, StatusCode::SEE_OTHER).await {
        Ok(user) => user,
        Err(elsewhere) => return elsewhere,
    };
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
    let new = form.field("new_password").unwrap_or("");
    let repeated = form.field("repeat_password").unwrap_or("");
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
