//! The browser's side of an authorization request's journey
//! (`crate::oauth::journey`): redirects to the screens, and the answer to the
//! client delivered in the redirect URI's query (RFC 6749 §4.1.2) or by an
//! auto-submitting form (Form Post Response Mode).

use super::cookies;
use super::pages::Pages;
use crate::account::{session, AccountError};
use crate::model::{SessionRecord, UserRecord};
use crate::oauth::authorize::ResponseMode;
use crate::oauth::client_answer::ClientAnswer;
use crate::oauth::journey::{Denied, Interaction, Onward};
use crate::state::Provider;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

/// How to redirect: 302 after a GET, 303 after a POSTed form.
pub fn redirect_status(req: &HttpRequest) -> StatusCode {
    if req.method() == actix_web::http::Method::POST {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    }
}

/// A redirect to `location`.
pub fn redirect(status: StatusCode, location: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The browser's live session and its (enabled) user.
pub async fn current_session(
    req: &HttpRequest,
    provider: &Provider,
) -> Result<Option<(SessionRecord, UserRecord)>, AccountError> {
    let Some(cookie) = cookies::value(req, &provider.config, cookies::SESSION) else {
        return Ok(None);
    };
    Ok(session::current(provider, &cookie).await?)
}

/// The path of a screen, for the pending request `id`.
fn screen_path(provider: &Provider, screen: Interaction, id: &str) -> String {
    let base = provider.config.base_path();
    let path = match screen {
        Interaction::Login => "/login",
        Interaction::NewPassword => "/login/new-password",
        Interaction::EnrolMfa => "/account/mfa/enrol",
        Interaction::Consent => "/consent",
    };
    format!("{base}{path}?request={id}")
}

/// Sends the browser on: to a screen, or to the client with its answer.
pub fn go(pages: &Pages, provider: &Provider, status: StatusCode, onward: Onward) -> HttpResponse {
    match onward {
        Onward::Screen { screen, request } => {
            redirect(status, &screen_path(provider, screen, &request))
        }
        Onward::Client(answer) => to_client(pages, status, &answer),
        Onward::NoAccess(denied) => no_access(pages, &denied),
    }
}

/// The page telling a signed-in user they have no access to the client,
/// with a way back that gives the client `access_denied` (never a code).
fn no_access(pages: &Pages, denied: &Denied) -> HttpResponse {
    let answer = &denied.answer;
    let back_url = match answer.mode {
        ResponseMode::Query => match answer_url(answer) {
            Ok(url) => Some(url),
            Err(e) => return pages.internal_error(&e),
        },
        ResponseMode::FormPost => None,
    };
    pages.render(
        StatusCode::FORBIDDEN,
        "no_access.html",
        &json!({
            "app": denied.app, "user": denied.user, "back_url": back_url,
            "action": answer.redirect_uri, "fields": answer.params,
        }),
    )
}

/// The redirect URI with the answer's parameters in its query.
fn answer_url(answer: &ClientAnswer) -> Result<String, String> {
    let mut url = url::Url::parse(&answer.redirect_uri)
        .map_err(|e| format!("registered redirect_uri does not parse: {e}"))?;
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in &answer.params {
            query.append_pair(k, v);
        }
    }
    Ok(url.to_string())
}

/// Delivers the client's answer: its parameters appended to the redirect
/// URI's query, or POSTed to it by an auto-submitting form.
pub fn to_client(pages: &Pages, status: StatusCode, answer: &ClientAnswer) -> HttpResponse {
    match answer.mode {
        ResponseMode::Query => match answer_url(answer) {
            Ok(url) => redirect(status, &url),
            Err(e) => pages.internal_error(&e),
        },
        ResponseMode::FormPost => pages.render(
            StatusCode::OK,
            "form_post.html",
            &json!({ "action": answer.redirect_uri, "fields": answer.params }),
        ),
    }
}

/// The page shown when a screen's request id is unknown or expired.
pub fn expired_request(pages: &Pages) -> HttpResponse {
    pages.error(
        StatusCode::BAD_REQUEST,
        "This sign-in link has expired",
        "Go back to the application you came from and start signing in again.",
    )
}
