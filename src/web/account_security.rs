//! The account page's forms that take a secret: changing the password
//! (the current one is required), turning two-step verification off and
//! getting new recovery codes (a current code is required). Wrong answers
//! count toward the same per-account delay as at sign-in, so a session left
//! open cannot be used to guess them.

use super::account::{done, problem, read_form};
use super::audit;
use super::pages::Pages;
use super::rate_limit::client_address;
use crate::account::profile::{self, PasswordChange};
use crate::account::{enrolment, throttle, AccountError};
use crate::model::{SessionRecord, UserRecord};
use crate::state::Provider;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

/// How a form that takes a secret went.
enum Outcome<T> {
    /// Done.
    Done(T),
    /// The password or code was wrong: a failed attempt.
    WrongSecret(&'static str),
    /// Something else was not acceptable (a too-short new password).
    Refused(&'static str),
}

/// Runs `action` unless the account must wait first, and counts a wrong
/// secret as a failed attempt. `Err` is the page to show instead.
async fn guarded<T>(
    req: &HttpRequest,
    provider: &Provider,
    pages: &Pages,
    (session, user): (&SessionRecord, &UserRecord),
    section: &str,
    action: impl AsyncFnOnce() -> Result<Outcome<T>, AccountError>,
) -> Result<T, HttpResponse> {
    let address = client_address(req, provider.config.trust_forwarded_for);
    let now = provider.now();
    let again =
        async |why: String| problem(req, provider, pages, (session, user), section, &why).await;
    let wait = throttle::wait_before_attempt(&provider.store, &user.username, &address, now)
        .await
        .map_err(|e| pages.fail(&e))?;
    if wait > 0 {
        return Err(again(format!(
            "Too many failed attempts. Wait {wait} seconds, then try again."
        ))
        .await);
    }
    match action().await {
        Ok(Outcome::Done(value)) => Ok(value),
        Ok(Outcome::Refused(why)) => Err(again(why.to_string()).await),
        Ok(Outcome::WrongSecret(why)) => {
            tracing::info!(user_id = %user.id, "wrong password or code on the account page");
            let event = crate::audit_log::Event::by_user("account.check_failure", user)
                .detail("form", req.path());
            audit::record(req, provider, event).await;
            throttle::record_failure(&provider.store, &user.username, &address, now)
                .await
                .map_err(|e| pages.fail(&e))?;
            Err(again(why.to_string()).await)
        }
        Err(e) => Err(pages.fail(&e)),
    }
}

/// POST /account/password
pub async fn change_password(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
    pages: web::Data<Pages>,
) -> HttpResponse {
    let (params, session, user) = match read_form(&req, &body, &provider, &pages).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let field = |name: &str| params.get(name).ok().flatten().unwrap_or("");
    let change = async || {
        let changed = profile::change_password(
            &provider.store,
            &user,
            field("current_password"),
            field("new_password"),
            field("repeat_password"),
            provider.now(),
        )
        .await?;
        Ok(match changed {
            PasswordChange::Changed => Outcome::Done(()),
            PasswordChange::WrongCurrent => {
                Outcome::WrongSecret("Your current password isn't right. Nothing was changed.")
            }
            PasswordChange::Refused(why) => Outcome::Refused(why),
        })
    };
    let signed_in = (&session, &user);
    if let Err(page) = guarded(&req, &provider, &pages, signed_in, "password", change).await {
        return page;
    }
    // Whoever knew the old password may hold a session: end them all but
    // this one, and forget earlier failures.
    let cleanup = async {
        provider
            .store
            .delete_other_sessions(&user.id, &session.sid)
            .await?;
        throttle::record_success(&provider.store, &user.username).await
    };
    match cleanup.await {
        Ok(()) => {
            audit::record(
                &req,
                &provider,
                crate::audit_log::Event::by_user("password.changed", &user),
            )
            .await;
            done(&provider, "password", "password")
        }
        Err(e) => pages.fail(&e),
    }
}

/// A current TOTP or recovery code proves the change is the owner's.
fn by_code<T>(checked: Result<T, &'static str>) -> Outcome<T> {
    match checked {
        Ok(value) => Outcome::Done(value),
        Err(why) => Outcome::WrongSecret(why),
    }
}

/// POST /account/mfa/disable
pub async fn disable_mfa(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
    pages: web::Data<Pages>,
) -> HttpResponse {
    let (params, session, user) = match read_form(&req, &body, &provider, &pages).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let code = params.get("code").ok().flatten().unwrap_or("");
    let remove = async || {
        Ok(by_code(
            enrolment::remove(&provider.store, &user, code, provider.now()).await?,
        ))
    };
    match guarded(&req, &provider, &pages, (&session, &user), "mfa", remove).await {
        Ok(()) => {
            audit::record(
                &req,
                &provider,
                crate::audit_log::Event::by_user("mfa.removed", &user),
            )
            .await;
            done(&provider, "mfa-off", "mfa")
        }
        Err(page) => page,
    }
}

/// POST /account/mfa/recovery-codes: a new set, shown once.
pub async fn renew_recovery_codes(
    req: HttpRequest,
    body: web::Bytes,
    provider: web::Data<Provider>,
    pages: web::Data<Pages>,
) -> HttpResponse {
    let (params, session, user) = match read_form(&req, &body, &provider, &pages).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let code = params.get("code").ok().flatten().unwrap_or("");
    let renew = async || {
        Ok(by_code(
            enrolment::renew_recovery_codes(&provider.store, &user, code, provider.now()).await?,
        ))
    };
    match guarded(&req, &provider, &pages, (&session, &user), "mfa", renew).await {
        Ok(codes) => {
            let event = crate::audit_log::Event::by_user("mfa.recovery_codes_renewed", &user);
            audit::record(&req, &provider, event).await;
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
