//! The forgot-password screen: a user name or email address
//! in, and one answer out whatever it names ("If an account matches, we
//! sent a link…"), the same words and bytes for an account that exists, is
//! disabled, has no address or does not exist. The work is done after the
//! answer (`crate::account::password_reset`, whose header says why), so
//! the answer's timing does not depend on it either. The page answering
//! the form carries no CSRF token: nothing on it is per-request. The
//! pending authorization request (`request`/`then`) rides along so "Back
//! to sign in" returns to the client's flow. Without `smtp_url` the page
//! says that reset by email is not available here.

use super::{carried, screen_query, Carried};
use crate::account::email_links::{lifetime_words, RESET_TTL};
use crate::account::password_reset;
use crate::oauth::params::Params;
use crate::state::Provider;
use crate::web::form::PostedForm;
use crate::web::onward;
use crate::web::pages::Pages;
use crate::web::rate_limit::client_address;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

/// The sign-in page, carrying the pending request or destination.
fn back_to_sign_in(provider: &Provider, (request, then): Carried<'_>) -> String {
    format!(
        "{}/login{}",
        provider.config.base_path(),
        screen_query(request, then)
    )
}

fn form_page(
    (req, provider, pages): (&HttpRequest, &Provider, &Pages),
    status: StatusCode,
    screen: Carried<'_>,
    identifier: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    let (request, then) = screen;
    pages.form(
        req,
        &provider.config,
        status,
        "forgot_password.html",
        json!({
            "request": request, "then": then,
            "available": password_reset::available(provider),
            "identifier": identifier, "error": error,
            "back": back_to_sign_in(provider, screen),
        }),
    )
}

/// The one answer to a request for a link.
fn sent_page(provider: &Provider, pages: &Pages, screen: Carried<'_>) -> HttpResponse {
    pages.render(
        StatusCode::OK,
        "email_sent.html",
        &json!({
            "heading": "Check your email",
            "sentence": "If an account matches, we sent a link to its email address.",
            "hint": format!(
                "The link works once, for {}. If nothing arrives, check your spam folder or ask again in a few minutes.",
                lifetime_words(RESET_TTL)
            ),
            "link_href": back_to_sign_in(provider, screen),
            "link_label": "Back to sign in",
        }),
    )
}

/// GET /forgot-password
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let Some(screen) = carried(|name| query.get(name).ok().flatten()) else {
        return onward::expired_request(&pages);
    };
    form_page(
        (&req, &provider, &pages),
        StatusCode::OK,
        screen,
        None,
        None,
    )
}

/// POST /forgot-password
pub async fn submit(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let Some(screen) = carried(|name| form.field(name)) else {
        return onward::expired_request(&pages);
    };
    let shown = (&req, &**provider, &**pages);
    let identifier = form.field("identifier").map(str::trim).unwrap_or("");
    if !password_reset::available(&provider) {
        return form_page(shown, StatusCode::OK, screen, None, None);
    }
    if !form.csrf_ok() {
        return form_page(
            shown,
            StatusCode::FORBIDDEN,
            screen,
            Some(identifier),
            Some("This form had expired, so nothing was sent. Please try again."),
        );
    }
    if identifier.is_empty() {
        return form_page(
            shown,
            StatusCode::BAD_REQUEST,
            screen,
            None,
            Some("Enter your username or email address."),
        );
    }
    let ip = client_address(&req, provider.config.trust_forwarded_for);
    password_reset::request_link(provider.clone().into_inner(), identifier, &ip);
    sent_page(&provider, &pages, screen)
}
