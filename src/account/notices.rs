//! Security notices: a short message to the account's verified address
//! when something about the way into it changed — a sign-in from a browser
//! not seen before, a new password, a second factor turned on or off, a
//! passkey added, a provider linked. Each kind can be turned off
//! (`notify_*` settings); none is sent without email or to an address that
//! is not verified (it may not be the user's). The message is returned to
//! the caller, which writes it in the transaction of the change.

use super::AccountError;
use crate::email::{compose, Letter};
use crate::model::{Device, MailKind, NewMail, UserRecord};
use crate::state::Provider;
use serde_json::json;

/// What happened to the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A sign-in from a browser not seen before for this account.
    NewBrowser,
    /// The password was changed.
    PasswordChanged,
    /// The password was reset through an emailed link (every session
    /// ended).
    PasswordReset,
    /// A second factor (TOTP) was turned on.
    MfaOn,
    /// The second factor was turned off.
    MfaOff,
    /// A passkey was added, with its name.
    PasskeyAdded(String),
    /// An upstream provider was linked, with its name.
    UpstreamLinked(String),
    /// The account's address changed (told to the old one), to this one
    /// (or none).
    EmailChanged(Option<String>),
}

impl Notice {
    /// Whether the settings send this kind.
    fn wanted(&self, config: &crate::config::Config) -> bool {
        match self {
            Notice::NewBrowser => config.notify_new_browser,
            Notice::PasswordChanged | Notice::PasswordReset => config.notify_password_changed,
            Notice::MfaOn | Notice::MfaOff => config.notify_mfa_changed,
            Notice::PasskeyAdded(_) => config.notify_passkey_added,
            Notice::UpstreamLinked(_) => config.notify_upstream_linked,
            Notice::EmailChanged(_) => config.notify_email_changed,
        }
    }

    /// The subject and the sentence that says what happened.
    fn words(&self, product: &str) -> (String, String) {
        match self {
            Notice::NewBrowser => (
                format!("New sign-in to your {product} account"),
                "Your account was just signed in to from a browser it had not been used from before.".into(),
            ),
            Notice::PasswordChanged => (
                format!("Your {product} password was changed"),
                "The password of your account was changed.".into(),
            ),
            Notice::PasswordReset => (
                format!("Your {product} password was changed"),
                "The password of your account was reset with a link sent to this address, and every browser signed in to it was signed out.".into(),
            ),
            Notice::MfaOn => (
                format!("Two-step sign-in turned on for {product}"),
                "An authenticator app was set up as the second step of signing in to your account.".into(),
            ),
            Notice::MfaOff => (
                format!("Two-step sign-in turned off for {product}"),
                "The authenticator app was removed from your account: a password alone now signs in.".into(),
            ),
            Notice::PasskeyAdded(name) => (
                format!("A passkey was added to your {product} account"),
                format!("A passkey named \u{201c}{name}\u{201d} can now sign in to your account."),
            ),
            Notice::UpstreamLinked(name) => (
                format!("{name} was linked to your {product} account"),
                format!("Signing in with {name} now signs in to your account."),
            ),
            Notice::EmailChanged(to) => (
                format!("The email address of your {product} account changed"),
                match to {
                    Some(to) => format!("The address of your account was changed to {to}: messages about it, password-reset links included, go there now."),
                    None => "The address was removed from your account: no message about it, password-reset links included, reaches you any more.".into(),
                },
            ),
        }
    }
}

/// The message telling `user` of `notice`, or `None` when none is to be
/// sent (email off, this kind turned off, no verified address).
pub fn compose_notice(
    provider: &Provider,
    user: &UserRecord,
    notice: &Notice,
    device: Option<&Device>,
) -> Result<Option<NewMail>, AccountError> {
    compose_notice_at(&provider.config, provider.now(), user, notice, device)
}

/// [`compose_notice`] with the settings and the time given (for the admin
/// use cases and the command line, which have no `Provider`).
pub fn compose_notice_at(
    config: &crate::config::Config,
    now: i64,
    user: &UserRecord,
    notice: &Notice,
    device: Option<&Device>,
) -> Result<Option<NewMail>, AccountError> {
    let Some(email) = user.email.as_deref().filter(|_| user.email_verified) else {
        return Ok(None);
    };
    if !config.email_enabled() || !notice.wanted(config) {
        return Ok(None);
    }
    let (subject, what) = notice.words(&config.product_name);
    let when = format!("{} UTC", crate::calendar::from_unix(now).minutes());
    let mail = compose(
        config,
        Letter {
            kind: MailKind::Notice,
            template: "notice",
            recipient: email,
            subject,
            link: config.endpoint("/account"),
            action: "Review my account",
            values: json!({
                "name": super::email_links::greeting_name(user),
                "username": user.username,
                "what": what,
                "when": when,
                "device": device.and_then(|d| d.user_agent.clone()),
                "ip": device.and_then(|d| d.ip.clone()),
            }),
        },
    )?;
    Ok(Some(mail))
}
