//! Signing in through an upstream provider (`crate::sign_in::upstream`):
//! the sign-in page's buttons post to `POST /upstream/{id}/start`, which
//! sends the browser to the upstream; it comes back to
//! `GET /upstream/{id}/callback`, and after a sign-out there to
//! `GET /upstream/{id}/signed-out`. The trip cookie ties the way back to
//! the browser that left. Every failure is a page that says what happened
//! and leads back to the sign-in page.

use super::{destination, refusal_status, signed_in, to_second_factor, visitor};
use crate::oauth::params::Params;
use crate::sign_in::upstream::{self as method, Arrival, Departure, Leaving, Way};
use crate::sign_in::upstream_problem::Problem;
use crate::sign_in::{Outcome, Visitor};
use crate::state::Provider;
use crate::web::cookies;
use crate::web::form::PostedForm;
use crate::web::onward::{expired_request, redirect};
use crate::web::pages::Pages;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// The page for a trip that did not work, with a way back to sign in.
pub fn problem_page(
    provider: &Provider,
    pages: &Pages,
    (problem, name): (&Problem, &str),
    request: Option<&str>,
) -> HttpResponse {
    let base = provider.config.base_path();
    let back = match request {
        Some(id) => format!("{base}/login?request={id}&choose=1"),
        None => format!("{base}/login"),
    };
    let status = StatusCode::from_u16(problem.status()).unwrap_or(StatusCode::BAD_REQUEST);
    pages.error_with_link(
        status,
        problem.title(),
        &problem.sentence(name),
        (&back, "Back to sign in"),
    )
}

/// Sends the browser to the upstream, with the trip cookie.
pub fn depart_response(provider: &Provider, departure: Departure) -> HttpResponse {
    let mut response = redirect(StatusCode::SEE_OTHER, &departure.url);
    let _ = response.add_cookie(&cookies::build(
        &provider.config,
        cookies::UPSTREAM,
        departure.browser,
        Some(method::TRIP_TTL),
    ));
    response
}

/// Starts a sign-in through `id` for the pending `request` (or towards
/// `then`): the answer to a button, and to a hint on `/authorize`.
pub async fn leave_for(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    id: &str,
    (request, then): (Option<&str>, Option<&str>),
) -> HttpResponse {
    let browser = cookies::value(req, &provider.config, cookies::UPSTREAM);
    let leaving = Leaving {
        request,
        then,
        linking: None,
    };
    let visitor = visitor(req, provider);
    match method::depart(provider, &visitor, id, leaving, browser.as_deref()).await {
        Ok(Ok(departure)) => depart_response(provider, departure),
        Ok(Err((problem, name))) => problem_page(provider, pages, (&problem, &name), request),
        Err(e) => pages.fail(&e),
    }
}

/// POST /upstream/{id}/start: a sign-in page button.
pub async fn start(
    path: web::Path<String>,
    form: PostedForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let request = form.field("request");
    if request.is_some_and(|r| !crate::oauth::pending_requests::is_request_id(r)) {
        return expired_request(&pages);
    }
    let then = destination(form.field("then"));
    if !form.csrf_ok() {
        let base = provider.config.base_path();
        return pages.error_with_link(
            StatusCode::FORBIDDEN,
            "This page had expired",
            "Nothing was sent. Go back to the sign-in page and choose again.",
            (&format!("{base}/login"), "Back to sign in"),
        );
    }
    leave_for(&req, &provider, &pages, &path, (request, then)).await
}

/// The query of the way back, and who is coming back.
fn arriving(req: &HttpRequest, provider: &Provider) -> (Params, Visitor, Option<String>) {
    (
        Params::parse(req.query_string().as_bytes()),
        visitor(req, provider),
        cookies::value(req, &provider.config, cookies::UPSTREAM),
    )
}

/// GET /upstream/{id}/callback: back from the upstream with a code (or an
/// error).
pub async fn callback(
    path: web::Path<String>,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let (query, visitor, browser) = arriving(&req, &provider);
    let arrival = method::arrive(
        &provider,
        &visitor,
        (&path, Way::Callback),
        browser.as_deref(),
        |name: &str| query.get(name),
    )
    .await;
    let arrival = match arrival {
        Ok(arrival) => arrival,
        Err(e) => return pages.fail(&e),
    };
    match arrival {
        Arrival::SignedIn {
            outcome,
            request,
            then,
        } => {
            let then = destination(then.as_deref());
            let request = request.as_deref();
            match outcome {
                Outcome::SignedIn(done) => signed_in(&provider, done, request, then),
                Outcome::SecondFactorDue { challenge } => {
                    to_second_factor(&provider, challenge, request, then)
                }
                Outcome::Refused(why) => {
                    pages.error(refusal_status(&why), "Not signed in", &why.message())
                }
                Outcome::StartAgain => pages.error(
                    StatusCode::UNAUTHORIZED,
                    "Not signed in",
                    "Go back to the application and sign in again.",
                ),
            }
        }
        Arrival::Linked { .. } => {
            crate::web::account::page::done(&provider, "upstream-linked", "upstreams")
        }
        Arrival::Failed {
            problem,
            name,
            request,
        } => problem_page(&provider, &pages, (&problem, &name), request.as_deref()),
        Arrival::SignedOut { .. } => pages.error(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired",
            "Go back to the application and sign in again.",
        ),
    }
}

/// GET /upstream/{id}/signed-out: back from signing out at the upstream;
/// on to where the sign-out here was going.
pub async fn signed_out(
    path: web::Path<String>,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let (query, visitor, browser) = arriving(&req, &provider);
    let arrival = method::arrive(
        &provider,
        &visitor,
        (&path, Way::SignedOut),
        browser.as_deref(),
        |name: &str| query.get(name),
    )
    .await;
    match arrival {
        Ok(Arrival::SignedOut { then: Some(url) }) => redirect(StatusCode::SEE_OTHER, &url),
        Ok(Arrival::SignedOut { then: None }) | Ok(Arrival::Failed { .. }) => pages.render(
            StatusCode::OK,
            "signed_out.html",
            &serde_json::json!({ "stayed": false }),
        ),
        Ok(_) => pages.internal_error("a sign-out trip ended as a sign-in"),
        Err(e) => pages.fail(&e),
    }
}
