//! Accepting an invitation: the link an admin had sent (`admin::invitations`,
//! `email_links`) opens a form to choose a first password under the
//! password policy. Showing the form does not use the link up; choosing the
//! password does, in one transaction with setting it and verifying the
//! address the link was sent to (reading the mail proved it).

use super::password::hash_password;
use super::profile::check_new_password;
use super::{email_links, AccountError};
use crate::audit_log::Event;
use crate::model::{EmailTokenPurpose, UserRecord};
use crate::state::Provider;

/// How accepting went.
#[derive(Debug)]
pub enum Accepted {
    /// The password is set: the user can sign in as this username.
    Done(String),
    /// The password was not acceptable: the sentence to show, with the
    /// user the form is for.
    Refused(&'static str, Box<UserRecord>),
    /// The link was not live (expired, used, replaced, or never issued).
    Gone,
}

/// The invited user a live link is for, without using the link up.
pub async fn invited(provider: &Provider, token: &str) -> Result<Option<UserRecord>, AccountError> {
    if token.is_empty() || token.len() > 256 {
        return Ok(None);
    }
    let hash = email_links::hash(token);
    let Some(link) = provider
        .store
        .email_token(&hash, EmailTokenPurpose::Invite, provider.now())
        .await?
    else {
        return Ok(None);
    };
    // The link stands for the account only while the account waits for its
    // first password at the address the link went to.
    let user = provider.store.user_by_id(&link.user_id).await?;
    Ok(user.filter(|u| {
        u.password_hash.is_empty()
            && !u.disabled
            && u.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(&link.email))
    }))
}

/// Sets the invited user's first password from the link's `token`; `ip`
/// is for the audit log.
pub async fn accept(
    provider: &Provider,
    token: &str,
    (new, repeated): (&str, &str),
    ip: &str,
) -> Result<Accepted, AccountError> {
    let Some(user) = invited(provider, token).await? else {
        return Ok(Accepted::Gone);
    };
    if let Err(why) = check_new_password(&user.username, new, repeated) {
        return Ok(Accepted::Refused(why, Box::new(user)));
    }
    let password_hash = hash_password(new.to_string()).await?;
    let taken = provider
        .store
        .set_password_by_token(
            &email_links::hash(token),
            EmailTokenPurpose::Invite,
            &password_hash,
            None,
            provider.now(),
        )
        .await?;
    let Some(link) = taken else {
        // Used by another request in between.
        return Ok(Accepted::Gone);
    };
    let event = Event::by_user("invitation.accepted", &user)
        .detail("email", link.email)
        .ip(ip);
    provider.audit.record(provider.now(), event).await;
    Ok(Accepted::Done(user.username))
}
