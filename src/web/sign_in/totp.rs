//! The second sign-in step: a TOTP code or a recovery code
//! (`crate::sign_in::totp`) for users who have a second factor, after their
//! password was accepted. The page also offers the user's passkeys, when
//! they have some (`passkey` answers those). The challenge cookie ties the browser to that user.

use super::{carried, refusal_status, second_factor_given, to_login, visitor, Carried};
use crate::oauth::params::Params;
use crate::sign_in::{self, Outcome};
use crate::sign_in::{SignInError, Visitor};
use crate::state::Provider;
use crate::web::cookies;
use crate::web::form::PostedForm;
use crate::web::onward;
use crate::web::pages::Pages;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;
use std::future::Future;

/// The two-step page for the challenge named by the browser's cookie,
/// offering the factors its user has; back to the password screen when
/// the challenge is closed.
pub(super) async fn challenge_page(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    (request, then): Carried<'_>,
    error: Option<&str>,
) -> HttpResponse {
    let offered = match cookies::value(req, &provider.config, cookies::MFA) {
        Some(token) => match sign_in::totp::offered(provider, &token).await {
            Ok(offered) => offered,
            Err(e) => return pages.fail(&e),
        },
        None => None,
    };
    let offered = match offered {
        Some(offered) => offered,
        // A form that had expired is answered on the page it came from,
        // whatever became of the challenge; it changed nothing.
        None if status == StatusCode::FORBIDDEN => sign_in::totp::Offered {
            code: true,
            passkey: false,
        },
        None => return back_to_login(provider, (request, then)),
    };
    pages.form(
        req,
        &provider.config,
        status,
        "totp.html",
        json!({
            "request": request, "then": then, "error": error,
            "code": offered.code, "passkey": offered.passkey,
        }),
    )
}

/// Back to the password screen, the challenge cookie removed.
pub(super) fn back_to_login(provider: &Provider, carried: Carried<'_>) -> HttpResponse {
    let mut response = to_login(provider, carried, StatusCode::SEE_OTHER);
    let _ = response.add_cookie(&cookies::removal(&provider.config, cookies::MFA));
    response
}

/// GET /login/totp
pub async fn show(Screen(req, provider, pages): Screen) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes());
    let Some((request, then)) = carried(|name| query.get(name).ok().flatten()) else {
        return onward::expired_request(&pages);
    };
    challenge_page(
        &req,
        &provider,
        &pages,
        StatusCode::OK,
        (request, then),
        None,
    )
    .await
}

/// A posted second step, whatever its method: checks what every
/// second-step form needs (the carried request, the CSRF token, the
/// challenge cookie), runs `method` with the browser and the challenge's
/// cookie value, and answers its outcome: onward, the two-step page again
/// with what went wrong, or back to the password screen.
pub(super) async fn answer_second_step<Method, Running>(
    form: &PostedForm,
    Screen(req, provider, pages): Screen,
    method: Method,
) -> HttpResponse
where
    Method: FnOnce(Visitor, String) -> Running,
    Running: Future<Output = Result<Outcome, SignInError>>,
{
    let Some((request, then)) = carried(|name| form.field(name)) else {
        return onward::expired_request(&pages);
    };
    let again = |status: StatusCode, error: String| {
        let (req, provider, pages) = (&req, &provider, &pages);
        async move { challenge_page(req, provider, pages, status, (request, then), Some(&error)).await }
    };
    if !form.csrf_ok() {
        return again(
            StatusCode::FORBIDDEN,
            "This form had expired, so nothing was sent. Please try again.".into(),
        )
        .await;
    }
    let Some(challenge) = cookies::value(&req, &provider.config, cookies::MFA) else {
        return back_to_login(&provider, (request, then));
    };
    let outcome = match method(visitor(&req, &provider), challenge).await {
        Ok(outcome) => outcome,
        Err(e) => return pages.fail(&e),
    };
    match outcome {
        Outcome::SignedIn(done) => second_factor_given(&provider, done, request, then),
        Outcome::Refused(why) => again(refusal_status(&why), why.message()).await,
        Outcome::StartAgain | Outcome::SecondFactorDue { .. } => {
            back_to_login(&provider, (request, then))
        }
    }
}

/// POST /login/totp
pub async fn submit(form: PostedForm, screen: Screen) -> HttpResponse {
    let provider = screen.1.clone();
    let code = form.field("code").unwrap_or("");
    answer_second_step(&form, screen, |visitor, challenge| async move {
        sign_in::totp::sign_in(&provider, &visitor, &challenge, code).await
    })
    .await
}
