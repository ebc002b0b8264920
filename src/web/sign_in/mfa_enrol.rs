//! Setting up two-step verification (RFC 6238): the key as a QR code drawn
//! here and as text, then a current code to prove the app holds it. Reached
//! from the account page, or in the middle of a sign-in when the client
//! requires two-step verification and the user has none yet; then the
//! request resumes once the key is confirmed.

use crate::account::enrolment::Confirmation;
use crate::model::{SessionRecord, UserRecord};
use crate::oauth::params::Params;
use crate::sign_in::enrolment;
use crate::state::Provider;
use crate::web::account::show_recovery_codes;
use crate::web::account::{sign_in_first, AccountForm};
use crate::web::onward::{self, current_session, redirect};
use crate::web::pages::Pages;
use crate::web::qr;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

/// The pending request's id and its client's name, if the enrolment is part
/// of a sign-in; `Err` is the page for an unknown or expired request.
async fn pending(
    provider: &Provider,
    pages: &Pages,
    request: Option<&str>,
) -> Result<Option<(String, String)>, HttpResponse> {
    let Some(id) = request else { return Ok(None) };
    match crate::oauth::pending_requests::load(provider, id).await {
        Ok(Some((_, client))) => Ok(Some((id.to_string(), client.name))),
        Ok(None) => Err(onward::expired_request(pages)),
        Err(e) => Err(pages.fail(&e)),
    }
}

/// Where to go when there is nothing (more) to enrol.
fn onward(
    provider: &Provider,
    request: Option<&(String, String)>,
    status: StatusCode,
) -> HttpResponse {
    let base = provider.config.base_path();
    match request {
        Some((id, _)) => redirect(status, &format!("{base}/authorize/resume?request={id}")),
        None => redirect(status, &format!("{base}/account#mfa")),
    }
}

/// Renders the enrolment screen with the user's pending key.
async fn enrol_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    user: &UserRecord,
    request: Option<&(String, String)>,
    error: Option<&str>,
) -> HttpResponse {
    let key = match enrolment::begin(provider, user).await {
        Ok(Some(key)) => key,
        Ok(None) => return onward(provider, request, StatusCode::FOUND),
        Err(e) => return pages.fail(&e),
    };
    let Some(qr) = qr::svg(&key.uri, "QR code holding your two-step verification key") else {
        return pages.internal_error("the otpauth URI does not fit in a QR code");
    };
    // Groups of four are easier to copy by hand; apps ignore the spaces.
    let grouped: Vec<String> = key
        .secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    pages.form(
        req,
        &provider.config,
        status,
        "mfa_enrol.html",
        json!({
            "qr": qr,
            "secret": grouped.join(" "),
            "request": request.map(|(id, _)| id),
            "client_name": request.map(|(_, name)| name),
            "error": error,
        }),
    )
}

/// The signed-in user, or where an anonymous visitor should go.
async fn signed_in(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    request: Option<&(String, String)>,
) -> Result<(SessionRecord, UserRecord), HttpResponse> {
    let base = provider.config.base_path();
    match current_session(req, provider).await {
        Ok(Some((_, user))) if user.must_change_password => {
            let query = match request {
                Some((id, _)) => format!("request={id}"),
                None => "then=account".into(),
            };
            Err(redirect(
                StatusCode::FOUND,
                &format!("{base}/login/new-password?{query}"),
            ))
        }
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(match request {
            Some((id, _)) => redirect(StatusCode::FOUND, &format!("{base}/login?request={id}")),
            None => sign_in_first(provider, StatusCode::FOUND),
        }),
        Err(e) => Err(pages.fail(&e)),
    }
}

/// GET /account/mfa/enrol
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let request = match pending(&provider, &pages, query.get("request").ok().flatten()).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let (_, user) = match signed_in(&req, &provider, &pages, request.as_ref()).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    enrol_page(
        &req,
        &provider,
        &pages,
        StatusCode::OK,
        &user,
        request.as_ref(),
        None,
    )
    .await
}

/// POST /account/mfa/enrol
pub async fn confirm(form: AccountForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let AccountForm {
        fields: params,
        session,
        user,
        ip,
        ..
    } = form;
    let request = match pending(&provider, &pages, params.get("request").ok().flatten()).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let code = params.get("code").ok().flatten().unwrap_or("");
    let codes = match enrolment::confirm(&provider, &session, &user, code, &ip).await {
        Ok(Confirmation::Enrolled(codes)) => codes,
        Ok(Confirmation::Rejected(why)) => {
            return enrol_page(
                &req,
                &provider,
                &pages,
                StatusCode::BAD_REQUEST,
                &user,
                request.as_ref(),
                Some(why),
            )
            .await
        }
        Ok(Confirmation::NothingPending) => {
            return onward(&provider, request.as_ref(), StatusCode::SEE_OTHER)
        }
        Err(e) => return pages.fail(&e),
    };
    let base = provider.config.base_path();
    let continue_to = match &request {
        Some((id, _)) => format!("{base}/authorize/resume?request={id}"),
        None => format!("{base}/account#mfa"),
    };
    show_recovery_codes(&pages, &codes, true, &continue_to)
}
