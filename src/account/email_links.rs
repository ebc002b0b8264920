//! One-time links sent by email: a random token in the link, only its
//! SHA-256 in the database, stored in the same transaction as the message
//! that carries it. Lifetimes: a password reset 30 minutes, an address
//! verification 24 hours, an invitation 7 days.

use super::AccountError;
use crate::config::Config;
use crate::crypto::{random_token, token_hash};
use crate::email::{compose, Letter};
use crate::model::{EmailTokenPurpose, MailKind, NewEmailToken, NewMail, UserRecord};
use crate::state::Provider;
use crate::store::Store;
use serde_json::json;

/// How long a password-reset link works, in seconds.
pub const RESET_TTL: i64 = 30 * 60;
/// How long an address-verification link works, in seconds.
pub const VERIFY_TTL: i64 = 24 * 3600;
/// How long an invitation works, in seconds.
pub const INVITE_TTL: i64 = 7 * 86_400;

/// The page each kind of link opens.
pub fn path(purpose: EmailTokenPurpose) -> &'static str {
    match purpose {
        EmailTokenPurpose::Verify => "/verify-email",
        EmailTokenPurpose::Reset => "/reset-password",
        EmailTokenPurpose::Invite => "/invitation",
    }
}

/// How long each kind of link works, in seconds.
pub fn lifetime(purpose: EmailTokenPurpose) -> i64 {
    match purpose {
        EmailTokenPurpose::Verify => VERIFY_TTL,
        EmailTokenPurpose::Reset => RESET_TTL,
        EmailTokenPurpose::Invite => INVITE_TTL,
    }
}

/// A lifetime in words, for the message.
pub fn lifetime_words(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 => plural(s / 86_400, "day"),
        s if s % 3600 == 0 => plural(s / 3600, "hour"),
        s => plural(s / 60, "minute"),
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// The name to greet the user by.
pub fn greeting_name(user: &UserRecord) -> String {
    user.name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| user.username.clone())
}

/// The hash under which a link's token is stored.
pub fn hash(token: &str) -> String {
    token_hash(token)
}

/// Sends `user` a link of `purpose` at `email`: a new token, its message,
/// both stored in one transaction (an earlier link of the same purpose
/// stops working), and the sender woken.
pub async fn send(
    provider: &Provider,
    user: &UserRecord,
    email: &str,
    purpose: EmailTokenPurpose,
) -> Result<(), AccountError> {
    issue(
        &provider.config,
        &provider.store,
        provider.now(),
        (user, email),
        purpose,
    )
    .await?;
    provider.outbox_wake.notify_one();
    Ok(())
}

/// What [`send`] does without a running server to wake (the command line
/// writes the message; a server's sender task delivers it within a
/// second): the token and its message, stored in one transaction.
pub async fn issue(
    config: &Config,
    store: &Store,
    now: i64,
    (user, email): (&UserRecord, &str),
    purpose: EmailTokenPurpose,
) -> Result<(), AccountError> {
    let to = Addressee {
        user_id: &user.id,
        username: &user.username,
        name: &greeting_name(user),
        email,
    };
    let (stored, mail) = prepare(config, now, &to, purpose)?;
    store.issue_email_token(&stored, &mail, now).await?;
    Ok(())
}

/// Whom a link is for, as its message greets them.
pub struct Addressee<'a> {
    /// The user's id (the link's owner).
    pub user_id: &'a str,
    /// Their username.
    pub username: &'a str,
    /// The name to greet them by.
    pub name: &'a str,
    /// The address the link goes to.
    pub email: &'a str,
}

/// A new link of `purpose` for `to` (its token stored only as a hash) and
/// the message that carries it, for the caller to store in one
/// transaction (with the change that causes it, when there is one).
pub fn prepare(
    config: &Config,
    now: i64,
    to: &Addressee<'_>,
    purpose: EmailTokenPurpose,
) -> Result<(NewEmailToken, NewMail), AccountError> {
    let email = to.email;
    let token = random_token();
    let ttl = lifetime(purpose);
    let link = format!("{}?token={token}", config.endpoint(path(purpose)));
    let product = &config.product_name;
    let (kind, template, subject, action) = match purpose {
        EmailTokenPurpose::Verify => (
            MailKind::Verify,
            "verify",
            format!("Confirm your email address for {product}"),
            "Confirm my address",
        ),
        EmailTokenPurpose::Reset => (
            MailKind::Reset,
            "reset",
            format!("Reset your {product} password"),
            "Choose a new password",
        ),
        EmailTokenPurpose::Invite => (
            MailKind::Invite,
            "invite",
            format!("You are invited to {product}"),
            "Accept the invitation",
        ),
    };
    let mail = compose(
        config,
        Letter {
            kind,
            template,
            recipient: email,
            subject,
            link,
            action,
            values: json!({
                "name": to.name,
                "username": to.username,
                "address": email,
                "lifetime": lifetime_words(ttl),
            }),
        },
    )?;
    let stored = NewEmailToken {
        token_hash: hash(&token),
        purpose,
        user_id: to.user_id.to_string(),
        email: email.to_string(),
        expires_at: now + ttl,
    };
    Ok((stored, mail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_in_words() {
        assert_eq!(lifetime_words(RESET_TTL), "30 minutes");
        assert_eq!(lifetime_words(VERIFY_TTL), "1 day");
        assert_eq!(lifetime_words(INVITE_TTL), "7 days");
        assert_eq!(lifetime_words(7200), "2 hours");
    }
}
