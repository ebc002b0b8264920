//! The account page's passkeys (`crate::account::passkeys`): adding one
//! (the page script asks `POST /account/passkeys/options` for a challenge,
//! runs `navigator.credentials.create()` and posts the answer with the
//! name to `POST /account/passkeys`), renaming and removing one. Each ends
//! back on the page with a notice, or the page with the problem.

use super::form::AccountForm;
use super::page::{done, problem};
use crate::account::passkeys;
use crate::web::cookies;
use crate::web::error::HttpError;
use crate::web::form::PostedForm;
use crate::web::onward::current_session;
use crate::web::screen::Screen;
use crate::web::sign_in::passkey::{options_response, stale_form};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

/// The section of the page passkey problems are shown in.
const SECTION: &str = "passkeys";

/// POST /account/passkeys/options: the creation options as JSON. Errors
/// are JSON too, for the page script to show.
pub async fn options(form: PostedForm, Screen(req, provider, _): Screen) -> HttpResponse {
    let signed_in = match current_session(&req, &provider).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return HttpError::refused(
                StatusCode::UNAUTHORIZED,
                "login_required",
                "You are signed out. Sign in again to add a passkey.",
            )
            .json()
        }
        Err(e) => return HttpError::from(e).json(),
    };
    if !form.csrf_ok() {
        return stale_form();
    }
    if signed_in.1.must_change_password {
        return HttpError::refused(
            StatusCode::FORBIDDEN,
            "password_change_required",
            "Choose a new password before adding a passkey.",
        )
        .json();
    }
    let browser = cookies::value(&req, &provider.config, cookies::PASSKEY);
    let signed_in = (&signed_in.0, &signed_in.1);
    let started = passkeys::begin_registration(&provider, signed_in, browser.as_deref()).await;
    options_response(&provider, started)
}

/// POST /account/passkeys: the browser's answer and the passkey's name.
pub async fn add(form: AccountForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let ceremony = cookies::value(&req, &provider.config, cookies::PASSKEY);
    let answer = form.field("credential").unwrap_or("");
    let name = form.field("name").unwrap_or("");
    let added = passkeys::finish_registration(
        &provider,
        &form.user,
        &form.ip,
        (ceremony.as_deref(), answer),
        name,
    )
    .await;
    match added {
        Ok(Ok(_)) => done(&provider, "passkey-added", SECTION),
        Ok(Err(why)) => problem(&req, &provider, &pages, &form, SECTION, why.sentence()).await,
        Err(e) => pages.fail(&e),
    }
}

/// POST /account/passkeys/rename: `id` and the new `name`.
pub async fn rename(form: AccountForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let id = form.field("id").unwrap_or("");
    let name = form.field("name").unwrap_or("");
    match passkeys::rename(&provider, &form.user, &form.ip, id, name).await {
        Ok(Ok(())) => done(&provider, "passkey-renamed", SECTION),
        Ok(Err(why)) => problem(&req, &provider, &pages, &form, SECTION, why.sentence()).await,
        Err(e) => pages.fail(&e),
    }
}

/// POST /account/passkeys/remove: `id`.
pub async fn remove(form: AccountForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let id = form.field("id").unwrap_or("");
    let signed_in = (&form.session, &form.user);
    match passkeys::remove_own(&provider, signed_in, &form.ip, id).await {
        Ok(Ok(_)) => done(&provider, "passkey-removed", SECTION),
        Ok(Err(why)) => problem(&req, &provider, &pages, &form, SECTION, why.sentence()).await,
        Err(e) => pages.fail(&e),
    }
}
