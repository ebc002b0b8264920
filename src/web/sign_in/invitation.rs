//! The invitation page, `/invitation?token=…`: the link an admin's
//! invitation carries (`account::invitation`). GET shows "Welcome, choose
//! a password" for the invited username without using the link up; the
//! POST (CSRF-checked) sets the password under the password policy, which
//! uses the link and verifies the address, and sends the browser to sign
//! in. A link that is not live gets a page saying to ask for a new one.

use crate::account::invitation::{accept, invited, Accepted};
use crate::model::UserRecord;
use crate::oauth::params::Params;
use crate::state::Provider;
use crate::web::form::PostedForm;
use crate::web::onward::redirect;
use crate::web::pages::Pages;
use crate::web::rate_limit::client_address;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

fn page(
    (req, provider, pages): (&HttpRequest, &Provider, &Pages),
    status: StatusCode,
    token: &str,
    user: &UserRecord,
    error: Option<&str>,
) -> HttpResponse {
    pages.form(
        req,
        &provider.config,
        status,
        "invitation.html",
        json!({
            "token": token,
            "username": user.username,
            "name": user.name,
            "email": user.email,
            "error": error,
        }),
    )
}

fn gone(pages: &Pages) -> HttpResponse {
    pages.error(
        StatusCode::BAD_REQUEST,
        "This invitation link does not work",
        "It has expired, was already used, or a newer invitation replaced it. Ask an administrator to send you a new one.",
    )
}

/// GET /invitation?token=…
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let token = query.get("token").ok().flatten().unwrap_or("");
    match invited(&provider, token).await {
        Ok(Some(user)) => page(
            (&req, &provider, &pages),
            StatusCode::OK,
            token,
            &user,
            None,
        ),
        Ok(None) => gone(&pages),
        Err(e) => pages.fail(&e),
    }
}

/// POST /invitation
pub async fn submit(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let token = form.field("token").unwrap_or("");
    if !form.csrf_ok() {
        return match invited(&provider, token).await {
            Ok(Some(user)) => page(
                (&req, &provider, &pages),
                StatusCode::FORBIDDEN,
                token,
                &user,
                Some("This form had expired, so nothing was changed. Please try again."),
            ),
            Ok(None) => gone(&pages),
            Err(e) => pages.fail(&e),
        };
    }
    let new = form.field("new_password").unwrap_or("");
    let repeated = form.field("repeat_password").unwrap_or("");
    let ip = client_address(&req, provider.config.trust_forwarded_for);
    match accept(&provider, token, (new, repeated), &ip).await {
        Ok(Accepted::Done(_)) => {
            let base = provider.config.base_path();
            redirect(StatusCode::SEE_OTHER, &format!("{base}/login"))
        }
        Ok(Accepted::Refused(why, user)) => page(
            (&req, &provider, &pages),
            StatusCode::BAD_REQUEST,
            token,
            &user,
            Some(why),
        ),
        Ok(Accepted::Gone) => gone(&pages),
        Err(e) => pages.fail(&e),
    }
}
