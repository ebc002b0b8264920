//! The account page's plain changes and what it shows: the profile, the
//! user's browser sessions, the applications they let in (consents, OpenID
//! Connect Core §3.1.2.4) and how many recovery codes are left. Every
//! change is recorded in the audit log.

use super::AccountError;
use crate::audit_log::Event;
use crate::model::EmailTokenPurpose;
use crate::model::{ConsentSummary, Profile, SessionSummary, UserRecord};
use crate::state::Provider;
use crate::store::StoreError;

/// What the account page lists besides the profile.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Recovery codes not used yet.
    pub recovery_left: i64,
    /// The user's live sessions.
    pub sessions: Vec<SessionSummary>,
    /// The applications the user has let in.
    pub applications: Vec<ConsentSummary>,
}

/// The lists on `user`'s account page.
pub async fn overview(provider: &Provider, user: &UserRecord) -> Result<Overview, StoreError> {
    let store = &provider.store;
    Ok(Overview {
        recovery_left: store.recovery_codes_left(&user.id).await?,
        sessions: store.sessions_of_user(&user.id, provider.now()).await?,
        applications: store.consents_of_user(&user.id).await?,
    })
}

async fn record(provider: &Provider, ip: &str, event: Event) {
    provider.audit.record(provider.now(), event.ip(ip)).await;
}

/// Saves a checked name, email (`profile::check_profile`) and standard
/// claims (`profile::check_standard_claims`). A changed address is no
/// longer verified; a phone number the user types in is not verified.
pub async fn update_profile(
    provider: &Provider,
    user: &UserRecord,
    (name, email): (Option<&str>, Option<&str>),
    mut standard: Profile,
    ip: &str,
) -> Result<(), AccountError> {
    let email_verified = user.email_verified && email == user.email.as_deref();
    // The old address, if verified, hears of the change: someone holding a
    // session could otherwise move the account's mail (and its password
    // resets) elsewhere unseen.
    let notice = match email != user.email.as_deref() {
        true => super::notices::compose_notice(
            provider,
            user,
            &super::notices::Notice::EmailChanged(email.map(str::to_string)),
            None,
        )?,
        false => None,
    };
    // A new address gets a link that verifies it, stored with the change.
    let link = match email {
        Some(address) if email != user.email.as_deref() && provider.config.email_enabled() => {
            let to = super::email_links::Addressee {
                user_id: &user.id,
                username: &user.username,
                name: &super::email_links::greeting_name(user),
                email: address,
            };
            let purpose = EmailTokenPurpose::Verify;
            Some(super::email_links::prepare(
                &provider.config,
                provider.now(),
                &to,
                purpose,
            )?)
        }
        _ => None,
    };
    standard.phone_number_verified =
        user.profile.phone_number_verified && standard.phone_number == user.profile.phone_number;
    provider
        .store
        .update_profile(
            &user.id,
            (name, email, email_verified),
            &standard,
            link.as_ref().map(|(token, mail)| (token, mail)),
            notice.as_ref(),
            provider.now(),
        )
        .await?;
    if link.is_some() {
        provider.outbox_wake.notify_one();
    }
    record(provider, ip, Event::by_user("profile.updated", user)).await;
    Ok(())
}

/// Ends every session of `user` but `current`; returns how many ended.
pub async fn end_other_sessions(
    provider: &Provider,
    user: &UserRecord,
    current: &str,
    ip: &str,
) -> Result<u64, AccountError> {
    let n = provider
        .store
        .delete_other_sessions(&user.id, current, provider.now())
        .await?;
    tracing::info!(user_id = %user.id, sessions = n, "other sessions signed out");
    let event = Event::by_user("session.ended", user)
        .detail("how", "account_page")
        .detail("sessions", n.to_string());
    record(provider, ip, event).await;
    Ok(n)
}

/// Ends one session of `user`; `false` when it had already ended.
pub async fn end_session(
    provider: &Provider,
    user: &UserRecord,
    sid: &str,
    ip: &str,
) -> Result<bool, AccountError> {
    if !provider
        .store
        .delete_session_of_user(&user.id, sid, provider.now())
        .await?
    {
        return Ok(false);
    }
    tracing::info!(user_id = %user.id, sid, "session signed out from the account page");
    let event = Event::by_user("session.ended", user)
        .detail("how", "account_page")
        .detail("sessions", "1");
    record(provider, ip, event).await;
    Ok(true)
}

/// Takes back an application's access: its consent and every grant it
/// holds for `user`; `false` when it had none.
pub async fn revoke_application(
    provider: &Provider,
    user: &UserRecord,
    client_id: &str,
    ip: &str,
) -> Result<bool, AccountError> {
    let revoked = provider
        .store
        .revoke_application(&user.id, client_id, provider.now())
        .await?;
    if revoked {
        tracing::info!(user_id = %user.id, client_id, "application access revoked by the user");
        let event = Event::by_user("consent.revoked", user).client(client_id);
        record(provider, ip, event).await;
    }
    Ok(revoked)
}
