//! Verifying an email address: the account page's "Send a verification
//! link" (`POST /account/verify-email`), and the page the link opens
//! (`GET /verify-email?token=…`), which asks for a click (`POST
//! /verify-email`) before it uses the link up, since mail scanners open
//! links on their own. The use case is `account::email_verification`.

use super::form::AccountForm;
use super::page::{done, problem};
use crate::account::email_verification::{self, Resend};
use crate::oauth::params::Params;
use crate::state::Provider;
use crate::web::form::PostedForm;
use crate::web::pages::Pages;
use crate::web::rate_limit::client_address;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

/// POST /account/verify-email: a new link for the current address.
pub async fn resend(form: AccountForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let why = match email_verification::resend(&provider, &form.user, &form.ip).await {
        Ok(Resend::Sent(_)) => return done(&provider, "verify-sent", "profile"),
        Ok(Resend::AlreadyVerified) => "Your address is verified already.",
        Ok(Resend::NoAddress) => "Add an email address to your profile first.",
        Ok(Resend::EmailOff) => {
            "This server sends no email, so addresses cannot be verified here. Ask an administrator."
        }
        Ok(Resend::TooSoon) => {
            "A link was sent less than a minute ago. Check your inbox (and spam folder) before asking again."
        }
        Err(e) => return pages.fail(&e),
    };
    problem(&req, &provider, &pages, &form, "profile", why).await
}

fn page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    values: serde_json::Value,
) -> HttpResponse {
    pages.form(req, &provider.config, status, "verify_email.html", values)
}

/// GET /verify-email?token=…: the address and a button, or why the link
/// no longer works.
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let token = query.get("token").ok().flatten().unwrap_or("");
    match email_verification::pending(&provider, token).await {
        Ok(Some(link)) => page(
            &req,
            &provider,
            &pages,
            StatusCode::OK,
            json!({ "state": "pending", "token": token, "email": link.email }),
        ),
        Ok(None) => page(
            &req,
            &provider,
            &pages,
            StatusCode::NOT_FOUND,
            json!({ "state": "invalid" }),
        ),
        Err(e) => pages.fail(&e),
    }
}

/// POST /verify-email: uses the link up.
pub async fn confirm(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let token = form.field("token").unwrap_or("").to_string();
    if !form.csrf_ok() {
        // The page again, with a fresh CSRF token: nothing was used up.
        return match email_verification::pending(&provider, &token).await {
            Ok(Some(link)) => page(
                &req,
                &provider,
                &pages,
                StatusCode::FORBIDDEN,
                json!({ "state": "pending", "token": token, "email": link.email,
                        "error": "This page had expired. Please confirm again." }),
            ),
            Ok(None) => page(
                &req,
                &provider,
                &pages,
                StatusCode::NOT_FOUND,
                json!({ "state": "invalid" }),
            ),
            Err(e) => pages.fail(&e),
        };
    }
    let ip = client_address(&req, provider.config.trust_forwarded_for);
    match email_verification::confirm(&provider, &token, &ip).await {
        Ok(Some(link)) => page(
            &req,
            &provider,
            &pages,
            StatusCode::OK,
            json!({ "state": "done", "email": link.email }),
        ),
        Ok(None) => page(
            &req,
            &provider,
            &pages,
            StatusCode::NOT_FOUND,
            json!({ "state": "invalid" }),
        ),
        Err(e) => pages.fail(&e),
    }
}
