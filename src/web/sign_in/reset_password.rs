//! The page an emailed reset link opens: `GET
//! /reset-password?token=…` shows the form without using the link up (mail
//! scanners fetch links before people click them); the form's POST
//! chooses the password through `crate::account::password_reset`, which
//! uses the link up, ends every session of the account and sends the
//! "password changed" notice. A link that is unknown, expired, used or of
//! a disabled account gets one page saying so, with a way to ask for a new
//! one.

use super::visitor;
use crate::account::email_links::{lifetime_words, RESET_TTL};
use crate::account::password_reset::{self, Reset};
use crate::model::Device;
use crate::oauth::params::Params;
use crate::state::Provider;
use crate::web::form::PostedForm;
use crate::web::pages::Pages;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

fn form_page(
    (req, provider, pages): (&HttpRequest, &Provider, &Pages),
    status: StatusCode,
    (token, username): (&str, &str),
    error: Option<&str>,
) -> HttpResponse {
    pages.form(
        req,
        &provider.config,
        status,
        "reset_password.html",
        json!({ "token": token, "username": username, "error": error, "done": false }),
    )
}

/// The page for a link that does not work (any more).
fn dead_link(provider: &Provider, pages: &Pages) -> HttpResponse {
    let ask_again = format!("{}/forgot-password", provider.config.base_path());
    let why = format!(
        "A password reset link works once, for {}, and only the newest one sent works. Ask for a new link.",
        lifetime_words(RESET_TTL)
    );
    pages.error_with_link(
        StatusCode::GONE,
        "This link no longer works",
        &why,
        (&ask_again, "Ask for a new link"),
    )
}

/// GET /reset-password
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let token = query.get("token").ok().flatten().unwrap_or("");
    match password_reset::open_link(&provider, token).await {
        Ok(Some(user)) => form_page(
            (&req, &provider, &pages),
            StatusCode::OK,
            (token, &user.username),
            None,
        ),
        Ok(None) => dead_link(&provider, &pages),
        Err(e) => pages.fail(&e),
    }
}

/// POST /reset-password
pub async fn submit(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let shown = (&req, &**provider, &**pages);
    let token = form.field("token").unwrap_or("");
    if !form.csrf_ok() {
        return match password_reset::open_link(&provider, token).await {
            Ok(Some(user)) => form_page(
                shown,
                StatusCode::FORBIDDEN,
                (token, &user.username),
                Some("This form had expired, so nothing was changed. Please try again."),
            ),
            Ok(None) => dead_link(&provider, &pages),
            Err(e) => pages.fail(&e),
        };
    }
    let new = form.field("new_password").unwrap_or("");
    let repeated = form.field("repeat_password").unwrap_or("");
    let browser = visitor(&req, &provider);
    let device = Device {
        user_agent: browser.user_agent,
        ip: Some(browser.ip),
    };
    match password_reset::choose_password(&provider, token, (new, repeated), &device).await {
        Ok(Reset::Done(_)) => pages.render(
            StatusCode::OK,
            "reset_password.html",
            &json!({ "done": true }),
        ),
        Ok(Reset::Refused { why, username }) => form_page(
            shown,
            StatusCode::BAD_REQUEST,
            (token, &username),
            Some(why),
        ),
        Ok(Reset::DeadLink) => dead_link(&provider, &pages),
        Err(e) => pages.fail(&e),
    }
}
