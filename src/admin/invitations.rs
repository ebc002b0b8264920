//! Inviting users by email, for the admin screens, the admin API and the
//! command line: instead of a temporary password handed over by the admin,
//! the user gets a one-time link (`account::email_links`, 7 days) to choose
//! their own. The account, its link and the message are written in one
//! transaction, so an account never exists without its invitation. The account is made without a password (`password_hash`
//! empty, which no password sign-in matches) and its address unverified;
//! accepting the link sets the password and verifies the address
//! (`account::invitation`). An invitation can be sent again while the
//! account has no password; the newest link is the only one that works.

use super::users::{check_username, find};
use super::{AdminError, Context};
use crate::account::{email_links, profile};
use crate::config::Config;
use crate::model::{EmailTokenPurpose, NewUser, UserRecord};

/// Who to invite.
#[derive(Debug, Clone, Default)]
pub struct Invitee {
    /// Sign-in name.
    pub username: String,
    /// The address the invitation goes to.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Admin role.
    pub is_admin: bool,
}

/// Whether `user` may be sent an invitation: an account without a password
/// (not yet accepted, or made through an upstream provider) that has an
/// address.
pub fn may_invite(user: &UserRecord) -> bool {
    user.password_hash.is_empty() && user.email.is_some()
}

fn email_on(config: &Config) -> Result<(), AdminError> {
    if config.email_enabled() {
        Ok(())
    } else {
        Err(AdminError::EmailDisabled)
    }
}

/// Makes the account of `invitee`, without a password, and writes its
/// invitation to the outbox. The caller wakes the sender (a server) or
/// leaves the message to a running server's sender (the CLI).
pub async fn invite(
    ctx: &Context<'_>,
    config: &Config,
    invitee: Invitee,
) -> Result<UserRecord, AdminError> {
    email_on(config)?;
    let username = invitee.username.trim().to_string();
    check_username(&username)?;
    if invitee.email.trim().is_empty() {
        return Err(AdminError::Invalid(
            "An invitation needs an email address to go to.".into(),
        ));
    }
    let (name, email) = profile::check_profile(invitee.name.as_deref(), Some(&invitee.email))
        .map_err(|why| AdminError::Invalid(why.into()))?;
    let Some(email) = email else {
        return Err(AdminError::Invalid(
            "An invitation needs an email address to go to.".into(),
        ));
    };
    let id = uuid::Uuid::new_v4().to_string();
    let to = email_links::Addressee {
        user_id: &id,
        username: &username,
        name: name.as_deref().unwrap_or(&username),
        email: &email,
    };
    let (link, mail) = email_links::prepare(config, ctx.now, &to, EmailTokenPurpose::Invite)?;
    let new = NewUser {
        username: username.clone(),
        email: Some(email.clone()),
        email_verified: false,
        name: name.clone(),
        // No password: none matches it until the invitation is accepted.
        password_hash: String::new(),
        is_admin: invitee.is_admin,
        ..NewUser::default()
    };
    // The account and its invitation are written in one transaction.
    if !ctx
        .store
        .insert_invited_user((&id, &new), &link, &mail, ctx.now)
        .await?
    {
        return Err(AdminError::Conflict(format!(
            "The username {username:?} is taken."
        )));
    }
    let user = find(ctx, &id).await?;
    ctx.record("admin.user.invited", |e| {
        e.user(&user.id, &user.username)
            .detail("admin", user.is_admin.to_string())
    })
    .await;
    Ok(user)
}

/// Sends the invitation of an account that has no password yet again, to
/// its current address; the earlier link stops working.
pub async fn resend(
    ctx: &Context<'_>,
    config: &Config,
    user_id: &str,
) -> Result<UserRecord, AdminError> {
    email_on(config)?;
    let user = find(ctx, user_id).await?;
    if !user.password_hash.is_empty() {
        return Err(AdminError::Conflict(format!(
            "{} already has a password: send a password reset instead.",
            user.username
        )));
    }
    let Some(email) = user.email.clone() else {
        return Err(AdminError::Invalid(format!(
            "{} has no email address to invite; add one first.",
            user.username
        )));
    };
    email_links::issue(
        config,
        ctx.store,
        ctx.now,
        (&user, &email),
        EmailTokenPurpose::Invite,
    )
    .await?;
    ctx.record("admin.user.invited", |e| {
        e.user(&user.id, &user.username).detail("again", "true")
    })
    .await;
    Ok(user)
}
