//! The passkey routes of the sign-in screens (`crate::sign_in::passkey`).
//! The page script (`static/passkey.js`) asks for a challenge, hands it to
//! `navigator.credentials.get()`, and posts the browser's answer in a plain
//! form, so the answer ends the way a password does: a redirect onward, or
//! the page again with what went wrong.
//!
//! - `POST /login/passkey/options` (`purpose` = `sign_in` | `second_factor`):
//!   the options as JSON, and the ceremony cookie.
//! - `POST /login/passkey`: a sign-in without a username.
//! - `POST /login/passkey/second-factor`: the second step after a password.

use super::password::{login_page, pending, LoginView};
use super::totp::answer_second_step;
use super::{destination, refusal_status, signed_in, to_second_factor, visitor};
use crate::account::passkey_problem::{Problem, Step};
use crate::account::webauthn_ceremony::CEREMONY_TTL;
use crate::sign_in::{self, Outcome, Refusal};
use crate::state::Provider;
use crate::web::cookies;
use crate::web::error::HttpError;
use crate::web::form::PostedForm;
use crate::web::screen::Screen;
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::Value;

/// The answer to an options request: the JSON for the browser, and the
/// cookie naming the ceremony.
pub fn options_response(provider: &Provider, started: Step<(Value, String)>) -> HttpResponse {
    match started {
        Ok(Ok((options, ceremony))) => {
            let mut response = HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(options);
            let _ = response.add_cookie(&cookies::build(
                &provider.config,
                cookies::PASSKEY,
                ceremony,
                Some(CEREMONY_TTL),
            ));
            response
        }
        Ok(Err(problem)) => HttpError::from(problem).json(),
        Err(e) => HttpError::from(e).json(),
    }
}

/// The refusal of an options request whose form had expired.
pub fn stale_form() -> HttpResponse {
    HttpError::refused(
        StatusCode::FORBIDDEN,
        "invalid_csrf",
        "This page had expired. Reload it and try again.",
    )
    .json()
}

/// POST /login/passkey/options
pub async fn options(form: PostedForm, Screen(req, provider, _): Screen) -> HttpResponse {
    if !form.csrf_ok() {
        return stale_form();
    }
    let browser = cookies::value(&req, &provider.config, cookies::PASSKEY);
    let browser = browser.as_deref();
    let started = match form.field("purpose") {
        Some("sign_in") => sign_in::passkey::begin_sign_in(&provider, browser).await,
        Some("second_factor") => match cookies::value(&req, &provider.config, cookies::MFA) {
            Some(challenge) => {
                sign_in::passkey::begin_second_factor(&provider, &challenge, browser).await
            }
            None => Ok(Err(Problem::Expired)),
        },
        _ => {
            return HttpError::refused(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "purpose must be sign_in or second_factor",
            )
            .json()
        }
    };
    options_response(&provider, started)
}

/// POST /login/passkey
pub async fn submit(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let request = form.field("request");
    let then = destination(form.field("then"));
    let found = match pending(&provider, &pages, request).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let again = |status: StatusCode, error: &str| {
        let view = LoginView {
            request,
            then,
            client_name: found.client_name.clone(),
            username: None,
            error: Some(error),
            upstreams: &found.upstreams,
            anyone: Default::default(),
        };
        login_page(&req, &provider, &pages, status, view)
    };
    if !form.csrf_ok() {
        return again(
            StatusCode::FORBIDDEN,
            "This form had expired, so nothing was sent. Please sign in again.",
        );
    }
    let Some(answer) = form.field("credential") else {
        return again(
            StatusCode::BAD_REQUEST,
            "Your browser sent no passkey. Please try again.",
        );
    };
    let ceremony = cookies::value(&req, &provider.config, cookies::PASSKEY);
    let outcome = match sign_in::passkey::sign_in(
        &provider,
        &visitor(&req, &provider),
        ceremony.as_deref(),
        answer,
    )
    .await
    {
        Ok(outcome) => outcome,
        Err(e) => return pages.fail(&e),
    };
    match outcome {
        Outcome::SignedIn(done) => signed_in(&provider, done, request, then),
        // Only a passkey without user verification would open a challenge,
        // and every ceremony asks for verification; handled all the same.
        Outcome::SecondFactorDue { challenge } => {
            to_second_factor(&provider, challenge, request, then)
        }
        Outcome::Refused(why) => again(refusal_status(&why), &why.message()),
        Outcome::StartAgain => again(StatusCode::UNAUTHORIZED, Problem::Expired.sentence()),
    }
}

/// POST /login/passkey/second-factor
pub async fn second_factor(form: PostedForm, screen: Screen) -> HttpResponse {
    let Screen(req, provider, _) = &screen;
    let ceremony = cookies::value(req, &provider.config, cookies::PASSKEY);
    let provider = provider.clone();
    let answer = form.field("credential");
    answer_second_step(&form, screen, |visitor, challenge| async move {
        let Some(answer) = answer else {
            return Ok(Outcome::Refused(Refusal::Wrong {
                problem: "Your browser sent no passkey. Please try again.",
            }));
        };
        let ceremony = ceremony.as_deref();
        sign_in::passkey::confirm(&provider, &visitor, &challenge, ceremony, answer).await
    })
    .await
}
