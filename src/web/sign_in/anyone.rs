//! The "sign in as anyone" form of the sign-in page, in test mode only
//! (`crate::sign_in::anyone`): a username, groups (comma-separated) and
//! claims (a JSON object), no password. The route exists only in test
//! mode (`web::routes`); it continues the pending request as the password
//! form does.

use super::password::{login_page, pending, AnyoneView, LoginView};
use super::{destination, refusal_status, signed_in, to_second_factor, visitor};
use crate::sign_in::{self, Outcome};
use crate::web::form::PostedForm;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

/// POST /login/anyone
pub async fn submit(form: PostedForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let field = |name: &str| form.field(name);
    let request = field("request");
    let then = destination(field("then"));
    let found = match pending(&provider, &pages, request).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let typed = AnyoneView {
        username: field("username"),
        groups: field("groups"),
        claims: field("claims"),
        error: None,
    };
    // The page again, with what was typed and what went wrong.
    let again = |status: StatusCode, error: &str| {
        let view = LoginView {
            request,
            then,
            client_name: found.client_name.clone(),
            username: None,
            error: None,
            upstreams: &found.upstreams,
            anyone: AnyoneView {
                error: Some(error),
                ..typed
            },
        };
        login_page(&req, &provider, &pages, status, view)
    };
    if !form.csrf_ok() {
        return again(
            StatusCode::FORBIDDEN,
            "This form had expired, so nothing was sent. Please sign in again.",
        );
    }
    let Some(username) = typed.username else {
        return again(StatusCode::BAD_REQUEST, "Enter the username to sign in as.");
    };
    let persona = match sign_in::anyone::Persona::read(username, typed.groups, typed.claims) {
        Ok(persona) => persona,
        Err(why) => return again(StatusCode::BAD_REQUEST, &why),
    };
    let outcome =
        match sign_in::anyone::sign_in(&provider, &visitor(&req, &provider), &persona).await {
            Ok(outcome) => outcome,
            Err(e) => return pages.fail(&e),
        };
    match outcome {
        Outcome::SignedIn(done) => signed_in(&provider, done, request, then),
        Outcome::SecondFactorDue { challenge } => {
            to_second_factor(&provider, challenge, request, then)
        }
        Outcome::Refused(why) => again(refusal_status(&why), &why.message()),
        Outcome::StartAgain => again(
            StatusCode::UNAUTHORIZED,
            "That did not work. Please try again.",
        ),
    }
}
