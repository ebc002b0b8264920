//! `/authorize` (GET and POST) and `/authorize/resume`, where the screens
//! hand a stored request back once the user has signed in or consented.

use super::flow::{self, current_session, redirect_status};
use super::pages::Pages;
use super::params;
use crate::oauth::authorize::{self, AuthorizeError};
use crate::state::Provider;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// The authorization endpoint (RFC 6749 §4.1.1).
pub async fn authorize(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
    pages: web::Data<Pages>,
) -> HttpResponse {
    if req.method() == actix_web::http::Method::POST {
        // A cross-site form POST carries no SameSite=Lax session cookie, so
        // the request continues as a top-level GET, which does.
        return match params::form(&req, &body) {
            Ok(form) => {
                let base = provider.config.base_path();
                let query = form.to_query();
                flow::redirect(StatusCode::SEE_OTHER, &format!("{base}/authorize?{query}"))
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
    let untrusted = |why: &str| {
        pages.error(
            StatusCode::BAD_REQUEST,
            "This sign-in request cannot be trusted",
            &format!("{why} Go back to the application and try again, or tell its developers."),
        )
    };
    let client_id = match authorize::client_id(&params) {
        Ok(id) => id,
        Err(why) => return untrusted(&why),
    };
    let client = match provider.store.client(client_id).await {
        Ok(c) => c,
        Err(e) => return pages.fail(&e),
    };
    let mut request = match authorize::validate(&params, client.as_ref()) {
        Ok(r) => r,
        Err(AuthorizeError::Untrusted(why)) => return untrusted(&why),
        Err(AuthorizeError::Redirect(e)) => {
            return flow::error_to_client(&pages, &provider, status, &e)
        }
    };
    let Some(client) = client else {
        return untrusted("The application is not registered with this sign-in service.");
    };
    let session = match current_session(&req, &provider).await {
        Ok(s) => s,
        Err(e) => return pages.fail(&e),
    };
    if request.prompts("login") {
        request.reauth_of = session.as_ref().map(|(s, _)| s.sid.clone());
    }
    request.requested_at = provider.now();
    flow::proceed(
        &provider,
        &pages,
        status,
        &request,
        &client,
        session.as_ref(),
        None,
    )
    .await
}

/// Continues a stored request after a screen.
pub async fn resume(
    req: HttpRequest,
    provider: web::Data<Provider>,
    pages: web::Data<Pages>,
) -> HttpResponse {
    let params = crate::oauth::params::Params::parse(req.query_string().as_bytes());
    let Some(id) = params.get("request").ok().flatten().map(str::to_string) else {
        return flow::expired_request(&pages);
    };
    let (request, client) = match flow::load_request(&provider, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return flow::expired_request(&pages),
        Err(e) => return pages.fail(&e),
    };
    let session = match current_session(&req, &provider).await {
        Ok(s) => s,
        Err(e) => return pages.fail(&e),
    };
    flow::proceed(
        &provider,
        &pages,
        StatusCode::FOUND,
        &request,
        &client,
        session.as_ref(),
        Some(id),
    )
    .await
}
