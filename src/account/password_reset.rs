//! Forgot password: a user who cannot sign in asks for a
//! link by user name or email address, and the link lets them choose a new
//! password under the usual policy (`profile::check_new_password`).
//!
//! **No enumeration.** The form's answer must not tell whether an account
//! exists, neither by its words nor by its timing (OWASP ASVS 4.0 V2.5.7,
//! NIST SP 800-63B §5.1.1.2 on not revealing accounts). Equalising the
//! work (a dummy token, a dummy message) is fragile: a message composed,
//! a transaction committed and a sender woken cost different amounts on
//! each engine. So [`request_link`] answers nothing and returns at once:
//! the lookup, the budget check and the link are done by a task spawned
//! for it, after the response has gone. What the response costs is the
//! same for every identifier; the only cost of the choice is that a
//! database outage during that task is logged instead of shown.
//!
//! **Budgets.** An address may ask only so often (the sign-in budget of
//! `web::rate_limit`, a 429 page); an account's address receives at most
//! [`PER_ACCOUNT_PER_HOUR`] reset messages an hour, counted in the outbox
//! (so across replicas and restarts). Over it, the form answers as always
//! and no message is written. Tasks are few at a time
//! ([`MAX_WAITING`]); one at a time issues links, so the count and the
//! message it counts cannot interleave within a replica.
//!
//! **The link** (`email_links`, 30 minutes, its token stored hashed) opens
//! the form without being used up ([`open_link`]: mail scanners fetch
//! links); choosing a password ([`choose_password`]) takes it in the one
//! transaction that sets the password, ends every browser session of the
//! user and writes the "password changed" notice.

use super::email_links;
use super::notices::{compose_notice, Notice};
use super::password::hash_password;
use super::profile::check_new_password;
use super::AccountError;
use crate::audit_log::Event;
use crate::model::{Device, EmailTokenPurpose, MailKind, UserRecord};
use crate::state::Provider;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Reset messages an account's address receives per hour at most.
pub const PER_ACCOUNT_PER_HOUR: i64 = 5;

/// Accounts sharing one email address that are each sent a link.
const MAX_ACCOUNTS_PER_ADDRESS: i64 = 5;

/// Requests waiting for their task at once; more are dropped (and logged).
pub const MAX_WAITING: usize = 256;

/// The longest identifier looked up: a user name or an email address
/// (RFC 5321 §4.5.3.1: a path is at most 256 octets).
const MAX_IDENTIFIER: usize = 254;

/// Longest token accepted from a link (ours are 43 characters).
const MAX_TOKEN: usize = 128;

static WAITING: AtomicUsize = AtomicUsize::new(0);
static ISSUING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Whether the forgot-password form can send anything here.
pub fn available(provider: &Provider) -> bool {
    provider.config.email_enabled()
}

/// Asks for a reset link for the account named by `identifier` (a user
/// name, or an email address), from `ip`. Returns at once, whatever the
/// identifier: the work happens in a spawned task (see the module header).
pub fn request_link(provider: Arc<Provider>, identifier: &str, ip: &str) {
    let identifier = identifier.trim();
    if !available(&provider) || identifier.is_empty() || identifier.len() > MAX_IDENTIFIER {
        return;
    }
    if WAITING.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
        WAITING.fetch_sub(1, Ordering::AcqRel);
        tracing::warn!("too many password reset requests waiting; this one is dropped");
        return;
    }
    let identifier = identifier.to_string();
    let ip = ip.to_string();
    tokio::spawn(async move {
        let outcome = {
            let _one_at_a_time = ISSUING.lock().await;
            send_links(&provider, &identifier, &ip).await
        };
        WAITING.fetch_sub(1, Ordering::AcqRel);
        if let Err(e) = outcome {
            tracing::error!(error = %e, "a password reset link could not be issued");
        }
    });
}

/// The accounts `identifier` names: the one with that user name, else
/// those with that email address.
async fn accounts_for(
    provider: &Provider,
    identifier: &str,
) -> Result<Vec<UserRecord>, AccountError> {
    if let Some(user) = provider.store.user_by_username(identifier).await? {
        return Ok(vec![user]);
    }
    if !identifier.contains('@') {
        return Ok(Vec::new());
    }
    let mut users = Vec::new();
    for id in provider
        .store
        .users_with_email(identifier, MAX_ACCOUNTS_PER_ADDRESS)
        .await?
    {
        if let Some(user) = provider.store.user_by_id(&id).await? {
            users.push(user);
        }
    }
    Ok(users)
}

/// Sends a link to each account `identifier` names that may have one.
async fn send_links(provider: &Provider, identifier: &str, ip: &str) -> Result<(), AccountError> {
    for user in accounts_for(provider, identifier).await? {
        let email = user.email.clone().filter(|e| !e.trim().is_empty());
        let Some(email) = email.filter(|_| !user.disabled) else {
            tracing::info!(user_id = %user.id, "password reset asked for an account that gets no mail");
            continue;
        };
        let since = provider.now() - 3600;
        let sent = provider
            .store
            .mail_count_since(MailKind::Reset, &email, since)
            .await?;
        if sent >= PER_ACCOUNT_PER_HOUR {
            tracing::warn!(user_id = %user.id, sent, "password reset budget of the account spent; no message");
            continue;
        }
        email_links::send(provider, &user, &email, EmailTokenPurpose::Reset).await?;
        let event = Event::by_user("password.reset_requested", &user).ip(ip);
        provider.audit.record(provider.now(), event).await;
    }
    Ok(())
}

/// The account a reset link is for, while it is live, the account enabled
/// and its address the one the link was sent to; `None` for any other link. Does not use the link up.
pub async fn open_link(
    provider: &Provider,
    token: &str,
) -> Result<Option<UserRecord>, AccountError> {
    Ok(live_link(provider, token).await?.map(|(user, _)| user))
}

/// The account of a live reset link and the address the link was sent to.
async fn live_link(
    provider: &Provider,
    token: &str,
) -> Result<Option<(UserRecord, String)>, AccountError> {
    if token.is_empty() || token.len() > MAX_TOKEN {
        return Ok(None);
    }
    let Some(link) = provider
        .store
        .email_token(
            &email_links::hash(token),
            EmailTokenPurpose::Reset,
            provider.now(),
        )
        .await?
    else {
        return Ok(None);
    };
    // A link stands for the account only while the account's address is
    // the one it was sent to (the store checks the same when it is used).
    let user = provider.store.user_by_id(&link.user_id).await?;
    Ok(user
        .filter(|u| {
            !u.disabled
                && u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(&link.email))
        })
        .map(|u| (u, link.email)))
}

/// How choosing a password through a link went.
#[derive(Debug)]
pub enum Reset {
    /// The new password is in force; every session of the user ended.
    Done(Box<UserRecord>),
    /// The password was not acceptable. The link still works.
    Refused {
        /// The sentence to show.
        why: &'static str,
        /// The account's user name, for the form again.
        username: String,
    },
    /// The link is not live (unknown, expired, used) or its account is
    /// disabled.
    DeadLink,
}

/// Sets `new` (typed twice: `repeated`) as the password of the account of
/// the reset link `token`, from the browser `device`.
pub async fn choose_password(
    provider: &Provider,
    token: &str,
    (new, repeated): (&str, &str),
    device: &Device,
) -> Result<Reset, AccountError> {
    let Some((user, sent_to)) = live_link(provider, token).await? else {
        return Ok(Reset::DeadLink);
    };
    if let Err(why) = check_new_password(&user.username, new, repeated) {
        return Ok(Reset::Refused {
            why,
            username: user.username,
        });
    }
    let hash = hash_password(new.to_string()).await?;
    // Reading the link proves the address it was sent to: if that is still
    // the account's, the notice goes to it even if it was not verified yet
    // (the same transaction verifies it).
    let mut told = user.clone();
    let proved = told
        .email
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case(&sent_to));
    told.email_verified = told.email_verified || proved;
    let notice = compose_notice(provider, &told, &Notice::PasswordReset, Some(device))?;
    let taken = provider
        .store
        .set_password_by_token(
            &email_links::hash(token),
            EmailTokenPurpose::Reset,
            &hash,
            notice.as_ref(),
            provider.now(),
        )
        .await?;
    if taken.is_none() {
        // Used by a request that raced this one.
        return Ok(Reset::DeadLink);
    }
    if notice.is_some() {
        provider.outbox_wake.notify_one();
    }
    // A new password starts with a clean slate, as an admin's reset does.
    crate::account::throttle::forget(&provider.store, &user.username).await?;
    let mut event = Event::by_user("password.reset", &user);
    if let Some(ip) = &device.ip {
        event = event.ip(ip);
    }
    provider.audit.record(provider.now(), event).await;
    tracing::info!(user_id = %user.id, "password reset through an emailed link");
    Ok(Reset::Done(Box::new(user)))
}
