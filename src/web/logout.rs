//! RP-initiated logout at `/end_session` (GET and POST) and its confirmation
//! step. A request tied to the current session by `id_token_hint` signs out
//! at once; any other asks the user first, so that a third-party page cannot
//! sign people out behind their backs.

use super::cookies;
use super::form::PostedForm;
use super::onward::{current_session, redirect, redirect_status};
use super::pages::Pages;
use super::params;
use super::rate_limit::client_address;
use super::sign_in::upstream::depart_response;
use crate::account::session;
use crate::oauth::logout::{self, LogoutError, LogoutRequest};
use crate::oauth::params::Params;
use crate::sign_in::upstream;
use crate::state::Provider;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

fn refused(pages: &Pages, e: LogoutError) -> HttpResponse {
    match e {
        LogoutError::Untrusted(why) => pages.error(
            StatusCode::BAD_REQUEST,
            "This sign-out request cannot be trusted",
            &format!("{why} You are still signed in. To sign out, go back to the application and try again."),
        ),
        LogoutError::Store(e) => pages.fail(&e),
    }
}

/// GET or POST /end_session
pub async fn end_session(body: web::Bytes, Screen(req, provider, pages): Screen) -> HttpResponse {
    let params = match params::read(&req, &body) {
        Ok(p) => p,
        Err(why) => {
            return pages.error(
                StatusCode::BAD_REQUEST,
                "This sign-out request is malformed",
                &why,
            )
        }
    };
    let request = match logout::validate(&provider, &params).await {
        Ok(r) => r,
        Err(e) => return refused(&pages, e),
    };
    let session = match current_session(&req, &provider).await {
        Ok(s) => s,
        Err(e) => return pages.fail(&e),
    };
    let status = redirect_status(&req);
    match session {
        None => signed_out(&pages, status, &request, None),
        Some((s, user)) if request.matches_session(&s.sid, &user.id) => {
            sign_out_and_finish(&req, &provider, &pages, status, &request).await
        }
        Some((_, user)) => pages.form(
            &req,
            &provider.config,
            StatusCode::OK,
            "logout.html",
            json!({
                "username": user.username,
                "client_name": request.client.as_ref().map(|c| c.name.clone()),
                "client_id": request.client.as_ref().map(|c| c.client_id.clone()),
                "post_logout_redirect_uri": request.redirect,
                "state": request.state,
            }),
        ),
    }
}

/// POST /end_session/confirm
pub async fn confirm(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let field = |name: &str| form.field(name);
    if !form.csrf_ok() {
        return pages.error(
            StatusCode::FORBIDDEN,
            "This form had expired",
            "You are still signed in. Go back to the application and sign out again.",
        );
    }
    // Re-validate what the form carried: it came back from the browser.
    let carried: Vec<(&str, &str)> = ["client_id", "post_logout_redirect_uri", "state"]
        .into_iter()
        .filter_map(|name| field(name).map(|v| (name, v)))
        .collect();
    let request = match logout::validate(&provider, &Params::from_pairs(carried)).await {
        Ok(r) => r,
        Err(e) => return refused(&pages, e),
    };
    match field("decision") {
        Some("logout") => {
            sign_out_and_finish(&req, &provider, &pages, StatusCode::SEE_OTHER, &request).await
        }
        _ => pages.render(
            StatusCode::OK,
            "signed_out.html",
            &json!({ "stayed": true, "client_name": request.client.map(|c| c.name) }),
        ),
    }
}

async fn sign_out_and_finish(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    request: &LogoutRequest,
) -> HttpResponse {
    let mut federation = Default::default();
    if let Some(cookie) = cookies::value(req, &provider.config, cookies::SESSION) {
        let ip = client_address(req, provider.config.trust_forwarded_for);
        let client_id = request.client.as_ref().map(|c| c.client_id.as_str());
        federation = match session::federation(provider, &cookie).await {
            Ok(found) => found,
            Err(e) => return pages.fail(&e),
        };
        if let Err(e) = session::sign_out(provider, &cookie, client_id, &ip).await {
            return pages.fail(&e);
        }
    }
    let clear = cookies::removal(&provider.config, cookies::SESSION);
    // Signed in through an upstream that Gatehouse signs out of too: there
    // first, then on to where this sign-out was going.
    let browser = cookies::value(req, &provider.config, cookies::UPSTREAM);
    match upstream::sign_out_there(
        provider,
        &federation,
        onward_url(request),
        browser.as_deref(),
    )
    .await
    {
        Ok(Some(departure)) => {
            let mut response = depart_response(provider, departure);
            let _ = response.add_cookie(&clear);
            response
        }
        Ok(None) => signed_out(pages, status, request, Some(clear)),
        Err(e) => pages.fail(&e),
    }
}

/// The client's post-logout URL with its `state`, if it asked for one.
fn onward_url(request: &LogoutRequest) -> Option<String> {
    let mut url = url::Url::parse(request.redirect.as_deref()?).ok()?;
    if let Some(state) = &request.state {
        url.query_pairs_mut().append_pair("state", state);
    }
    Some(url.to_string())
}

fn signed_out(
    pages: &Pages,
    status: StatusCode,
    request: &LogoutRequest,
    clear: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    let mut response = match &request.redirect {
        Some(uri) => match url::Url::parse(uri) {
            Ok(mut url) => {
                if let Some(state) = &request.state {
                    url.query_pairs_mut().append_pair("state", state);
                }
                redirect(status, url.as_str())
            }
            Err(e) => pages.internal_error(&format!(
                "registered post_logout_redirect_uri does not parse: {e}"
            )),
        },
        None => pages.render(
            StatusCode::OK,
            "signed_out.html",
            &json!({
                "stayed": false,
                "client_name": request.client.as_ref().map(|c| c.name.clone()),
                "redirect_refused": request.redirect_refused,
            }),
        ),
    };
    if let Some(cookie) = clear {
        let _ = response.add_cookie(&cookie);
    }
    response
}
