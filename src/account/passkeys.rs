//! A user's passkeys (W3C Web Authentication Level 3): registering one
//! (§7.1, "Registering a New Credential"), naming, listing and removing
//! them. The ceremonies registration and sign-in go through are in
//! `webauthn_ceremony`; why a step was refused, in `passkey_problem`.
//!
//! - The relying party is the issuer (`crypto::passkey`): RP ID its host,
//!   origin its scheme, host and port; webauthn-rs checks both, the
//!   challenge and the signature, and parses the CBOR.
//! - Each user gets a random user handle (§14.6.1), never the username.
//! - Registration asks for a discoverable credential (`residentKey:
//!   preferred`), user verification, and attestation `none`; it needs a
//!   sign-in no older than [`REAUTH_WINDOW`] seconds, so a browser left
//!   signed in cannot quietly gain a passkey; so does removing one.

use super::passkey_problem::{refusal, Problem, Step};
use super::webauthn_ceremony::{answered_challenge, open_ceremony, take_ceremony};
use super::AccountError;
use crate::account::notices::{compose_notice, Notice};
use crate::audit_log::{Actor, AuditLog, Event};
use crate::crypto::b64url;
use crate::model::{
    limits, CeremonyPurpose, PasskeyRecord, SessionRecord, StoredPasskey, UserRecord,
};
use crate::state::Provider;
use crate::store::{NewPasskey, Store, StoreError, Unlinked, WayIn};
use serde_json::Value;
use webauthn_rs::prelude::{Passkey, PasskeyRegistration, RegisterPublicKeyCredential, Uuid};

/// How recent the sign-in must be to add a passkey, in seconds.
pub const REAUTH_WINDOW: i64 = 600;
/// The most passkeys one account may hold.
pub const MAX_PER_USER: usize = 20;
/// How long the account page tells of a newly added passkey, in seconds.
pub const NOTICE_WINDOW: i64 = 14 * 86_400;
/// The longest name a passkey may have, in characters.
pub const NAME_MAX: usize = 64;

/// Reads a stored credential.
pub fn credential(stored: &StoredPasskey) -> Result<Passkey, AccountError> {
    serde_json::from_str(&stored.credential).map_err(|e| {
        AccountError::Store(StoreError::Corrupt(format!(
            "passkey {}: {e}",
            stored.record.id
        )))
    })
}

/// The user's passkeys, oldest first.
pub async fn list(provider: &Provider, user_id: &str) -> Result<Vec<PasskeyRecord>, AccountError> {
    list_in(&provider.store, user_id).await
}

/// [`list`] on a bare store: the admin use cases run on the command line
/// too, where there is no `Provider`.
pub async fn list_in(store: &Store, user_id: &str) -> Result<Vec<PasskeyRecord>, AccountError> {
    Ok(store
        .passkeys_of(user_id)
        .await?
        .into_iter()
        .map(|p| p.record)
        .collect())
}

/// The passkeys added lately, newest first: the account page tells of
/// them, so that one added by someone else does not go unnoticed.
pub fn recently_added(passkeys: &[PasskeyRecord], now: i64) -> Vec<&PasskeyRecord> {
    let mut recent: Vec<_> = passkeys
        .iter()
        .filter(|p| p.created_at > now - NOTICE_WINDOW)
        .collect();
    recent.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    recent
}

/// A passkey's name, trimmed, if it is one.
pub fn check_name(name: &str) -> Result<String, Problem> {
    let name = name.trim();
    let length = name.chars().count();
    if length == 0 || length > NAME_MAX || name.chars().any(char::is_control) {
        return Err(Problem::Name);
    }
    Ok(name.to_string())
}

/// Starts adding a passkey to `user`'s account: the options for
/// `navigator.credentials.create()` (`{"publicKey": …}`) and the cookie
/// value naming the ceremony.
pub async fn begin_registration(
    provider: &Provider,
    (session, user): (&SessionRecord, &UserRecord),
    browser: Option<&str>,
) -> Step<(Value, String)> {
    let Ok(rp) = &provider.passkeys else {
        return Ok(Err(Problem::Off));
    };
    if provider.now() - session.auth_time > REAUTH_WINDOW {
        return Ok(Err(Problem::SignInAgain));
    }
    let existing = provider.store.passkeys_of(&user.id).await?;
    if existing.len() >= MAX_PER_USER {
        return Ok(Err(Problem::TooMany));
    }
    let exclude = existing
        .iter()
        .map(|p| credential(p).map(|c| c.cred_id().clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let handle = provider
        .store
        .ensure_passkey_handle(&user.id, &Uuid::new_v4().to_string())
        .await?;
    let handle = Uuid::parse_str(&handle)
        .map_err(|e| StoreError::Corrupt(format!("passkey user handle: {e}")))?;
    let display = user.name.as_deref().unwrap_or(&user.username);
    let (options, state) =
        match rp.start_passkey_registration(handle, &user.username, display, Some(exclude)) {
            Ok(started) => started,
            Err(e) => return Ok(Err(refusal(&e))),
        };
    let (mut options, cookie) = open_ceremony(
        provider,
        (browser, &options),
        CeremonyPurpose::Register,
        Some(&user.id),
        &state,
    )
    .await?;
    // A discoverable credential is what lets its owner sign in without
    // typing a username; an authenticator that cannot store one may still
    // register a passkey for the second step.
    if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
        selection["residentKey"] = Value::from("preferred");
        selection["requireResidentKey"] = Value::from(false);
    }
    Ok(Ok((options, cookie)))
}

/// Finishes adding a passkey named `name` with the browser's answer
/// (`RegisterPublicKeyCredential` JSON) to the ceremony named by the
/// cookie value. Nothing is stored unless every check passed.
pub async fn finish_registration(
    provider: &Provider,
    user: &UserRecord,
    ip: &str,
    (ceremony, answer): (Option<&str>, &str),
    name: &str,
) -> Step<PasskeyRecord> {
    let Ok(rp) = &provider.passkeys else {
        return Ok(Err(Problem::Off));
    };
    let name = match check_name(name) {
        Ok(name) => name,
        Err(problem) => return Ok(Err(problem)),
    };
    let refused = |problem: Problem| async move {
        let event = Event::by_user("passkey.refused", user)
            .detail("ceremony", "register")
            .detail("reason", problem.reason());
        provider.audit.record(provider.now(), event.ip(ip)).await;
        Ok(Err(problem))
    };
    if answer.len() > limits::FORM_FIELD {
        return refused(Problem::Malformed).await;
    }
    let Ok(answer) = serde_json::from_str::<RegisterPublicKeyCredential>(answer) else {
        return refused(Problem::Malformed).await;
    };
    let Some(challenge) = answered_challenge(&answer.response.client_data_json) else {
        return refused(Problem::Malformed).await;
    };
    let state: Option<PasskeyRegistration> = take_ceremony(
        provider,
        (ceremony, &challenge),
        CeremonyPurpose::Register,
        Some(&user.id),
    )
    .await?;
    let Some(state) = state else {
        return refused(Problem::Expired).await;
    };
    // A credential registered already (to this account, whose passkeys the
    // options excluded, or to another) is named as such: trying again
    // cannot help.
    if provider
        .store
        .passkey_by_credential_id(&b64url(&answer.raw_id))
        .await?
        .is_some()
    {
        return refused(Problem::Duplicate).await;
    }
    let passkey = match rp.finish_passkey_registration(&answer, &state) {
        Ok(passkey) => passkey,
        Err(e) => return refused(refusal(&e)).await,
    };
    if provider.store.passkeys_of(&user.id).await?.len() >= MAX_PER_USER {
        return refused(Problem::TooMany).await;
    }
    let id = Uuid::new_v4().to_string();
    let stored =
        serde_json::to_value(&passkey).map_err(|e| StoreError::Corrupt(format!("passkey: {e}")))?;
    // The counter the authenticator started at: the first sign-in must
    // count past it.
    let sign_count = stored
        .pointer("/cred/counter")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let stored = stored.to_string();
    let now = provider.now();
    let notice = compose_notice(provider, user, &Notice::PasskeyAdded(name.clone()), None)?;
    let added = provider
        .store
        .add_passkey(
            &NewPasskey {
                id: &id,
                user_id: &user.id,
                credential_id: &b64url(passkey.cred_id().as_ref()),
                name: &name,
                credential: &stored,
                sign_count,
                created_at: now,
            },
            notice.as_ref(),
        )
        .await?;
    if !added {
        return refused(Problem::Duplicate).await;
    }
    tracing::info!(user_id = %user.id, passkey = %id, "passkey added");
    let event = Event::by_user("passkey.added", user)
        .detail("passkey", id.clone())
        .detail("name", name.clone());
    provider.audit.record(now, event.ip(ip)).await;
    Ok(Ok(PasskeyRecord {
        id,
        user_id: user.id.clone(),
        name,
        created_at: now,
        last_used_at: None,
    }))
}

/// Removes one of the signed-in user's own passkeys: like adding one, it
/// needs a sign-in less than [`REAUTH_WINDOW`] old, so a browser left
/// signed in cannot take away a second factor.
pub async fn remove_own(
    provider: &Provider,
    (session, user): (&SessionRecord, &UserRecord),
    ip: &str,
    id: &str,
) -> Step<PasskeyRecord> {
    if provider.now() - session.auth_time > REAUTH_WINDOW {
        return Ok(Err(Problem::SignInAgain));
    }
    let Some(record) = provider
        .store
        .passkeys_of(&user.id)
        .await?
        .into_iter()
        .map(|p| p.record)
        .find(|p| p.id == id)
    else {
        return Ok(Err(Problem::NotFound));
    };
    // The last way to sign in stays (an account made through an upstream
    // may have a passkey and nothing else once unlinked): counted and
    // removed in one transaction.
    match provider
        .store
        .remove_way_unless_last(&user.id, WayIn::Passkey(id))
        .await?
    {
        Unlinked::Done => {}
        Unlinked::NotLinked => return Ok(Err(Problem::NotFound)),
        Unlinked::LastWay => return Ok(Err(Problem::LastWay)),
    }
    let held = (&provider.audit, provider.now());
    record_removal(held, user, Actor::user(user), Some(ip), &record).await;
    Ok(Ok(record))
}

/// Renames one of `user`'s passkeys.
pub async fn rename(
    provider: &Provider,
    user: &UserRecord,
    ip: &str,
    id: &str,
    name: &str,
) -> Step<()> {
    let name = match check_name(name) {
        Ok(name) => name,
        Err(problem) => return Ok(Err(problem)),
    };
    if !provider.store.rename_passkey(&user.id, id, &name).await? {
        return Ok(Err(Problem::NotFound));
    }
    let event = Event::by_user("passkey.renamed", user)
        .detail("passkey", id)
        .detail("name", name);
    provider.audit.record(provider.now(), event.ip(ip)).await;
    Ok(Ok(()))
}

/// Removes one of `owner`'s passkeys, by the owner themself or (with
/// `actor`) an admin; it can no longer sign anyone in.
pub async fn remove(
    provider: &Provider,
    owner: &UserRecord,
    actor: Actor,
    ip: Option<&str>,
    id: &str,
) -> Step<PasskeyRecord> {
    let held = (&provider.store, &provider.audit, provider.now());
    remove_in(held, owner, actor, ip, id).await
}

/// [`remove`] with the database, the audit log and the time given apart:
/// the admin use cases run on the command line too, where there is no
/// `Provider`, and they must record the same event.
pub async fn remove_in(
    (store, audit, now): (&Store, &AuditLog, i64),
    owner: &UserRecord,
    actor: Actor,
    ip: Option<&str>,
    id: &str,
) -> Step<PasskeyRecord> {
    let Some(removed) = store.remove_passkey(&owner.id, id).await? else {
        return Ok(Err(Problem::NotFound));
    };
    record_removal((audit, now), owner, actor, ip, &removed).await;
    Ok(Ok(removed))
}

/// Logs and audits a removed passkey.
async fn record_removal(
    (audit, now): (&AuditLog, i64),
    owner: &UserRecord,
    actor: Actor,
    ip: Option<&str>,
    removed: &PasskeyRecord,
) {
    tracing::info!(user_id = %owner.id, passkey = %removed.id, "passkey removed");
    let mut event = Event::new("passkey.removed", actor)
        .user(&owner.id, &owner.username)
        .detail("passkey", removed.id.clone())
        .detail("name", removed.name.clone());
    if let Some(ip) = ip {
        event = event.ip(ip);
    }
    audit.record(now, event).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, created_at: i64) -> PasskeyRecord {
        PasskeyRecord {
            id: name.into(),
            user_id: "u".into(),
            name: name.into(),
            created_at,
            last_used_at: None,
        }
    }

    #[test]
    fn a_name_is_trimmed_and_bounded() {
        assert_eq!(check_name("  Work laptop ").unwrap(), "Work laptop");
        assert_eq!(
            check_name(&"é".repeat(NAME_MAX)).unwrap().chars().count(),
            NAME_MAX
        );
        assert_eq!(check_name(&"é".repeat(NAME_MAX + 1)), Err(Problem::Name));
        assert_eq!(check_name("   "), Err(Problem::Name));
        assert_eq!(check_name("two\nlines"), Err(Problem::Name));
    }

    #[test]
    fn only_passkeys_added_lately_are_told_of_newest_first() {
        let now = 100 * 86_400;
        let keys = [
            record("old", now - NOTICE_WINDOW),
            record("older-new", now - 3_600),
            record("newest", now - 60),
        ];
        let told: Vec<_> = recently_added(&keys, now)
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(told, ["newest", "older-new"]);
    }
}
