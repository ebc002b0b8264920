//! The account page's changes that take a secret: a new password (the
//! current one is required), turning two-step verification off and new
//! recovery codes (a current code is required). Wrong answers count toward
//! the same delays as at sign-in (`throttle`: the browser's own when it is
//! trusted for the account, its address's and the account's unknown
//! browsers' otherwise), so a session left open cannot be used to guess them.

use super::enrolment;
use super::profile::{self, PasswordChange};
use super::throttle::{self, Attempt};
use super::AccountError;
use crate::account::notices::{compose_notice, Notice};
use crate::audit_log::Event;
use crate::model::{SessionRecord, UserRecord};
use crate::state::Provider;

/// How a change that takes a secret went.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked<T> {
    /// Done.
    Done(T),
    /// Not done: the sentence to show (a wrong secret, a wait, or a new
    /// password that is not acceptable).
    Refused(String),
}

/// What an action found.
enum Found<T> {
    Done(T),
    /// The password or code was wrong: a failed attempt.
    WrongSecret(&'static str),
    /// Something else was not acceptable (a too-short new password).
    Refused(&'static str),
}

/// Who is changing what: the signed-in user, from where, on which form
/// (named in the audit event of a wrong secret).
pub struct Asker<'a> {
    /// The signed-in user.
    pub user: &'a UserRecord,
    /// Their client address.
    pub ip: &'a str,
    /// The browser's device cookie value, if it sent one.
    pub device: Option<&'a str>,
    /// The form's path.
    pub form: &'a str,
}

/// Runs `action` unless the account must wait first, and counts a wrong
/// secret as a failed attempt.
async fn guarded<T>(
    provider: &Provider,
    asker: &Asker<'_>,
    action: impl AsyncFnOnce() -> Result<Found<T>, AccountError>,
) -> Result<Checked<T>, AccountError> {
    let user = asker.user;
    let now = provider.now();
    let attempt =
        Attempt::begin(&provider.store, &user.username, asker.ip, asker.device, now).await?;
    let wait = attempt.wait(&provider.store, now).await?;
    if wait > 0 {
        return Ok(Checked::Refused(format!(
            "Too many failed attempts. Wait {wait} seconds, then try again."
        )));
    }
    match action().await? {
        Found::Done(value) => Ok(Checked::Done(value)),
        Found::Refused(why) => Ok(Checked::Refused(why.to_string())),
        Found::WrongSecret(why) => {
            tracing::info!(user_id = %user.id, "wrong password or code on the account page");
            let event = Event::by_user("account.check_failure", user)
                .detail("form", asker.form)
                .ip(asker.ip);
            provider.audit.record(now, event).await;
            attempt.failed(&provider.store, now).await?;
            Ok(Checked::Refused(why.to_string()))
        }
    }
}

/// Records `name` as done by the asker.
async fn record(provider: &Provider, asker: &Asker<'_>, name: &'static str) {
    let event = Event::by_user(name, asker.user).ip(asker.ip);
    provider.audit.record(provider.now(), event).await;
}

/// Changes the password after checking the current one; whoever knew the
/// old one may hold a session, so every other session of the user ends.
pub async fn change_password(
    provider: &Provider,
    asker: &Asker<'_>,
    session: &SessionRecord,
    (current, new, repeated): (&str, &str, &str),
) -> Result<Checked<()>, AccountError> {
    let user = asker.user;
    let change = async || {
        let recent = provider.now() - session.auth_time <= crate::account::passkeys::REAUTH_WINDOW;
        let notice = compose_notice(provider, user, &Notice::PasswordChanged, None)?;
        let changed = profile::change_password(
            &provider.store,
            (user, recent),
            current,
            (new, repeated),
            notice.as_ref(),
            provider.now(),
        )
        .await?;
        Ok(match changed {
            PasswordChange::Changed => Found::Done(()),
            PasswordChange::WrongCurrent => {
                Found::WrongSecret("Your current password isn't right. Nothing was changed.")
            }
            PasswordChange::Refused(why) => Found::Refused(why),
        })
    };
    let checked = guarded(provider, asker, change).await?;
    if checked == Checked::Done(()) {
        provider
            .store
            .delete_other_sessions(&user.id, &session.sid, provider.now())
            .await?;
        throttle::forget(&provider.store, &user.username).await?;
        record(provider, asker, "password.changed").await;
    }
    Ok(checked)
}

/// A current TOTP or recovery code proves the change is the owner's.
fn by_code<T>(checked: Result<T, &'static str>) -> Found<T> {
    match checked {
        Ok(value) => Found::Done(value),
        Err(why) => Found::WrongSecret(why),
    }
}

/// Turns two-step verification off, with a current code.
pub async fn remove_mfa(
    provider: &Provider,
    asker: &Asker<'_>,
    code: &str,
) -> Result<Checked<()>, AccountError> {
    let remove = async || {
        Ok(by_code(
            enrolment::remove(provider, asker.user, code).await?,
        ))
    };
    let checked = guarded(provider, asker, remove).await?;
    if checked == Checked::Done(()) {
        record(provider, asker, "mfa.removed").await;
    }
    Ok(checked)
}

/// A new set of recovery codes, with a current code; the codes are to be
/// shown once.
pub async fn renew_recovery_codes(
    provider: &Provider,
    asker: &Asker<'_>,
    code: &str,
) -> Result<Checked<Vec<String>>, AccountError> {
    let renew = async || {
        Ok(by_code(
            enrolment::renew_recovery_codes(&provider.store, asker.user, code, provider.now())
                .await?,
        ))
    };
    let checked = guarded(provider, asker, renew).await?;
    if let Checked::Done(_) = &checked {
        record(provider, asker, "mfa.recovery_codes_renewed").await;
    }
    Ok(checked)
}
