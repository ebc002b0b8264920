//! The account page's forms that take a secret: changing the password,
//! turning two-step verification off and getting new recovery codes. The
//! checks, the throttle and the audit events are
//! `crate::account::secret_forms`'s; this reads the forms and renders.

use super::form::AccountForm;
use super::page::{done, problem};
use crate::account::secret_forms::{self, Checked};
use crate::state::Provider;
use crate::web::pages::Pages;
use crate::web::screen::Screen;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

/// Renders a change's result: `Ok` the value, `Err` the page to show.
async fn settled<T>(
    (req, provider, pages): (&HttpRequest, &Provider, &Pages),
    form: &AccountForm,
    section: &str,
    result: Result<Checked<T>, crate::account::AccountError>,
) -> Result<T, HttpResponse> {
    match result {
        Ok(Checked::Done(value)) => Ok(value),
        Ok(Checked::Refused(why)) => Err(problem(req, provider, pages, form, section, &why).await),
        Err(e) => Err(pages.fail(&e)),
    }
}

/// POST /account/password
pub async fn change_password(
    form: AccountForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let field = |name: &str| form.field(name).unwrap_or("");
    let passwords = (
        field("current_password"),
        field("new_password"),
        field("repeat_password"),
    );
    let result =
        secret_forms::change_password(&provider, &form.asker(), &form.session, passwords).await;
    match settled((&req, &provider, &pages), &form, "password", result).await {
        Ok(()) => done(&provider, "password", "password"),
        Err(page) => page,
    }
}

/// POST /account/mfa/disable
pub async fn disable_mfa(form: AccountForm, Screen(req, provider, pages): Screen) -> HttpResponse {
    let code = form.field("code").unwrap_or("");
    let result = secret_forms::remove_mfa(&provider, &form.asker(), code).await;
    match settled((&req, &provider, &pages), &form, "mfa", result).await {
        Ok(()) => done(&provider, "mfa-off", "mfa"),
        Err(page) => page,
    }
}

/// POST /account/mfa/recovery-codes: a new set, shown once.
pub async fn renew_recovery_codes(
    form: AccountForm,
    Screen(req, provider, pages): Screen,
) -> HttpResponse {
    let code = form.field("code").unwrap_or("");
    let result = secret_forms::renew_recovery_codes(&provider, &form.asker(), code).await;
    match settled((&req, &provider, &pages), &form, "mfa", result).await {
        Ok(codes) => {
            let base = provider.config.base_path();
            show_recovery_codes(&pages, &codes, false, &format!("{base}/account#mfa"))
        }
        Err(page) => page,
    }
}

/// The one time recovery codes are shown.
pub fn show_recovery_codes(
    pages: &Pages,
    codes: &[String],
    just_enrolled: bool,
    continue_to: &str,
) -> HttpResponse {
    pages.render(
        StatusCode::OK,
        "recovery_codes.html",
        &json!({ "codes": codes, "just_enrolled": just_enrolled, "continue_to": continue_to }),
    )
}
