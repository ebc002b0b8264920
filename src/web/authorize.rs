//! `/authorize` (GET and POST) and `/authorize/resume`, where the screens
//! hand a saved request back once the user has signed in or consented. The
//! journey itself is `crate::oauth::journey`; this reads the request and
//! sends the browser where it says. In test mode, a request with
//! `test_claims` signs in as the persona it names first
//! (`crate::sign_in::test_claims`).

use super::onward::{self, current_session, redirect_status};
use super::pages::Pages;
use super::params;
use crate::oauth::journey::{self, Begin};
use crate::sign_in::test_claims;
use crate::state::Provider;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

/// The authorization endpoint (RFC 6749 §4.1.1).
pub async fn authorize(body: web::Bytes, Screen(req, provider, pages): Screen) -> HttpResponse {
    if req.method() == actix_web::http::Method::POST {
        // A cross-site form POST carries no SameSite=Lax session cookie, so
        // the request continues as a top-level GET, which does.
        return match params::form(&req, &body) {
            Ok(form) => {
                let base = provider.config.base_path();
                let query = form.to_query();
                onward::redirect(StatusCode::SEE_OTHER, &format!("{base}/authorize?{query}"))
            }
            Err(why) => pages.error(
                StatusCode::BAD_REQUEST,
                "This sign-in request is malformed",
                &why,
            ),
        };
    }
    let status = redirect_status(&req);
    let params = crate::oauth::params::Params::parse(req.query_string().as_bytes());
    if test_claims::asked(&provider, &params) {
        let visitor = super::sign_in::visitor(&req, &provider);
        return match test_claims::authorize(&provider, &visitor, &params).await {
            Ok((begin, done)) => {
                let response = answer(&pages, &provider, status, begin);
                match done {
                    Some(done) => super::sign_in::with_session_cookies(&provider, response, done),
                    None => response,
                }
            }
            Err(e) => pages.fail(&e),
        };
    }
    let begun = journey::begin(&provider, &params, current_session(&req, &provider)).await;
    match begun {
        Ok(begin) => answer(&pages, &provider, status, begin),
        Err(e) => pages.fail(&e),
    }
}

/// Where `/authorize` sends the browser: on, or to the page saying the
/// request cannot be trusted.
fn answer(pages: &Pages, provider: &Provider, status: StatusCode, begin: Begin) -> HttpResponse {
    match begin {
        Begin::Onward(onward) => onward::go(pages, provider, status, onward),
        Begin::Untrusted(why) => pages.error(
            StatusCode::BAD_REQUEST,
            "This sign-in request cannot be trusted",
            &format!("{why} Go back to the application and try again, or tell its developers."),
        ),
    }
}

/// Continues a saved request after a screen.
pub async fn resume(Screen(req, provider, pages): Screen) -> HttpResponse {
    let params = crate::oauth::params::Params::parse(req.query_string().as_bytes());
    let Some(id) = params.get("request").ok().flatten() else {
        return onward::expired_request(&pages);
    };
    match journey::resume(&provider, id, current_session(&req, &provider)).await {
        Ok(Some(onward)) => onward::go(&pages, &provider, StatusCode::FOUND, onward),
        Ok(None) => onward::expired_request(&pages),
        Err(e) => pages.fail(&e),
    }
}
