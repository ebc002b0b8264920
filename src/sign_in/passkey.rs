//! The passkey method (W3C Web Authentication Level 3 §7.2, "Verifying an
//! Authentication Assertion"), two ways:
//!
//! - **Without a username**: a discoverable credential names its user by
//!   the random user handle the authenticator stored at registration; the
//!   passkey is the first factor, and with user verification (always asked
//!   for) it is multi-factor on its own, so no second step follows and it
//!   satisfies a client's `require_mfa`.
//! - **As the second step** after a password, in place of a TOTP code: the
//!   challenge's user's passkeys are the only ones allowed.
//!
//! Either way the ceremony is taken out of the database as it is answered
//! (`account::passkeys`), the signature counter must grow when the
//! authenticator keeps one (a counter that does not is a cloned
//! authenticator: refused, and recorded as `passkey.cloned`), and the
//! session's `amr` (RFC 8176 §2) says what happened:
//!
//! | what the authenticator said | `amr` |
//! |---|---|
//! | device-bound key (not backup eligible), user verified | `hwk pin mfa` |
//! | synced key (backup eligible), user verified | `swk pin mfa` |
//! | as the second step after a password | `pwd` and the above |
//!
//! `pin` stands for the authenticator's own user verification (a PIN, a
//! pattern or a biometric: WebAuthn does not say which). A key that only
//! tests presence (`user`) is refused, since every ceremony asks for
//! verification.

use super::{first_factor, second_factor, Outcome, Proof, Refusal, SignInError, Verdict, Visitor};
use crate::account::mfa;
use crate::account::passkey_problem::{refusal, Problem, Step};
use crate::account::passkeys::credential;
use crate::account::webauthn_ceremony::{answered_challenge, open_ceremony, take_ceremony};
use crate::audit_log::Event;
use crate::crypto::b64url;
use crate::model::{limits, CeremonyPurpose, StoredPasskey, UserRecord};
use crate::state::Provider;
use crate::store::StoreError;
use serde_json::Value;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PublicKeyCredential, WebauthnError,
};

/// `amr` of a device-bound key whose user was verified.
const HARDWARE_KEY: &[&str] = &["hwk", "pin", "mfa"];
/// `amr` of a synced key whose user was verified.
const SOFTWARE_KEY: &[&str] = &["swk", "pin", "mfa"];

/// The RFC 8176 values for an assertion.
fn amr(result: &AuthenticationResult) -> &'static [&'static str] {
    if result.backup_eligible() {
        SOFTWARE_KEY
    } else {
        HARDWARE_KEY
    }
}

/// Starts a sign-in without a username: the options for
/// `navigator.credentials.get()` (`{"publicKey": …, "mediation": …}`,
/// no credentials listed) and the browser's ceremony cookie value
/// (`browser`, the one it sent, or a new one).
pub async fn begin_sign_in(provider: &Provider, browser: Option<&str>) -> Step<(Value, String)> {
    let Ok(rp) = &provider.passkeys else {
        return Ok(Err(Problem::Off));
    };
    let (options, state) = match rp.start_discoverable_authentication() {
        Ok(started) => started,
        Err(e) => return Ok(Err(refusal(&e))),
    };
    let opened = open_ceremony(
        provider,
        (browser, &options),
        CeremonyPurpose::SignIn,
        None,
        &state,
    )
    .await?;
    Ok(Ok(opened))
}

/// Starts the second step with a passkey for the challenge named by the
/// cookie value: only its user's passkeys are allowed.
pub async fn begin_second_factor(
    provider: &Provider,
    challenge: &str,
    browser: Option<&str>,
) -> Step<(Value, String)> {
    let Ok(rp) = &provider.passkeys else {
        return Ok(Err(Problem::Off));
    };
    let Some(open) = mfa::challenge(&provider.store, challenge, provider.now()).await? else {
        return Ok(Err(Problem::Expired));
    };
    let stored = provider.store.passkeys_of(&open.user_id).await?;
    if stored.is_empty() {
        return Ok(Err(Problem::NotFound));
    }
    let keys = stored
        .iter()
        .map(credential)
        .collect::<Result<Vec<Passkey>, _>>()?;
    let (options, state) = match rp.start_passkey_authentication(&keys) {
        Ok(started) => started,
        Err(e) => return Ok(Err(refusal(&e))),
    };
    let opened = open_ceremony(
        provider,
        (browser, &options),
        CeremonyPurpose::SecondFactor,
        Some(&open.user_id),
        &state,
    )
    .await?;
    Ok(Ok(opened))
}

/// The browser's answer, if it is WebAuthn JSON of a sane size, with the
/// challenge its client data answers.
fn parse(answer: &str) -> Option<(PublicKeyCredential, String)> {
    if answer.len() > limits::FORM_FIELD {
        return None;
    }
    let answer: PublicKeyCredential = serde_json::from_str(answer).ok()?;
    let challenge = answered_challenge(&answer.response.client_data_json)?;
    Some((answer, challenge))
}

/// The stored passkey the answer names, with its owner's user handle.
async fn named(
    provider: &Provider,
    answer: &PublicKeyCredential,
) -> Result<Option<(StoredPasskey, String)>, StoreError> {
    provider
        .store
        .passkey_by_credential_id(&b64url(answer.get_credential_id()))
        .await
}

/// A refused answer, as the machine takes it.
fn refused(user: Option<UserRecord>, problem: &Problem) -> Verdict {
    Verdict::Refused {
        user,
        reason: problem.reason(),
        problem: problem.sentence(),
    }
}

/// Records a verified assertion: the new counter, the flags, the time.
/// The counter is checked against the database, not against the copy a
/// ceremony took when it began: it must grow past the last use (unless the
/// authenticator keeps none), and of two answers racing with one value,
/// one wins. Anything else is a cloned authenticator: refused, and
/// recorded as `passkey.cloned`. `key` is `stored`'s credential, read.
async fn verified(
    provider: &Provider,
    visitor: &Visitor,
    (user, stored, mut key): (&UserRecord, &StoredPasskey, Passkey),
    outcome: Result<AuthenticationResult, WebauthnError>,
) -> Result<Result<AuthenticationResult, Problem>, SignInError> {
    let cloned = || async {
        tracing::warn!(user_id = %user.id, passkey = %stored.record.id, "passkey signature counter did not grow: cloned authenticator refused");
        let event = Event::by_user("passkey.cloned", user)
            .detail("passkey", stored.record.id.clone())
            .detail("name", stored.record.name.clone());
        provider
            .audit
            .record(provider.now(), event.ip(&visitor.ip))
            .await;
        Ok(Err(refusal(&WebauthnError::CredentialPossibleCompromise)))
    };
    let result = match outcome {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => return cloned().await,
        Err(e) => return Ok(Err(refusal(&e))),
    };
    let counter = i64::from(result.counter());
    let grew = counter > stored.sign_count || (counter == 0 && stored.sign_count == 0);
    if !grew {
        return cloned().await;
    }
    let updated = match key.update_credential(&result) {
        Some(true) => Some(
            serde_json::to_string(&key)
                .map_err(|e| StoreError::Corrupt(format!("passkey: {e}")))?,
        ),
        _ => None,
    };
    let recorded = provider
        .store
        .passkey_used(
            &stored.record.id,
            updated.as_deref(),
            counter,
            provider.now(),
        )
        .await?;
    if !recorded {
        return cloned().await;
    }
    Ok(Ok(result))
}

/// Signs in with a discoverable passkey: `answer` is the browser's
/// `PublicKeyCredential` JSON, `ceremony` the cookie value naming the
/// ceremony it answers.
pub async fn sign_in(
    provider: &Provider,
    visitor: &Visitor,
    ceremony: Option<&str>,
    answer: &str,
) -> Result<Outcome, SignInError> {
    let Ok(rp) = &provider.passkeys else {
        return Ok(Outcome::Refused(Refusal::Wrong {
            problem: Problem::Off.sentence(),
        }));
    };
    // Who the passkey says it is, before anything is checked: the throttle
    // counts a refusal against that account.
    let answer = parse(answer);
    let found = match &answer {
        Some((answer, _)) => named(provider, answer).await?,
        None => None,
    };
    let owner = match &found {
        Some((stored, _)) => provider.store.user_by_id(&stored.record.user_id).await?,
        None => None,
    };
    let claimed = owner
        .as_ref()
        .map(|u| u.username.clone())
        .unwrap_or_default();
    let check = async move {
        let Some((answer, challenge)) = answer else {
            return Ok(refused(None, &Problem::Malformed));
        };
        let state: Option<DiscoverableAuthentication> = take_ceremony(
            provider,
            (ceremony, &challenge),
            CeremonyPurpose::SignIn,
            None,
        )
        .await?;
        let Some(state) = state else {
            return Ok(refused(owner, &Problem::Expired));
        };
        let unknown = refusal(&WebauthnError::CredentialNotFound);
        let (Some((stored, handle)), Some(user)) = (found, owner) else {
            return Ok(refused(None, &unknown));
        };
        // The authenticator's user handle must be the one this credential
        // was registered under.
        match rp.identify_discoverable_authentication(&answer) {
            Ok((uuid, _)) if uuid.to_string() == handle => {}
            Ok(_) => return Ok(refused(Some(user), &unknown)),
            Err(_) => return Ok(refused(Some(user), &Problem::Malformed)),
        }
        if user.disabled {
            return Ok(Verdict::Refused {
                user: Some(user),
                reason: "disabled",
                problem: "That passkey can't be used to sign in here.",
            });
        }
        let key = credential(&stored)?;
        let outcome = rp.finish_discoverable_authentication_v2(&answer, state, &key);
        match verified(provider, visitor, (&user, &stored, key), outcome).await? {
            Ok(result) => Ok(Verdict::Proved(Proof {
                amr: amr(&result),
                multi_factor: result.user_verified(),
                factor: "passkey",
                federation: Default::default(),
                user,
            })),
            Err(problem) => Ok(refused(Some(user), &problem)),
        }
    };
    first_factor(provider, visitor, &claimed, check).await
}

/// Confirms the user of the second-factor challenge named by the cookie
/// value `challenge` with one of their passkeys.
pub async fn confirm(
    provider: &Provider,
    visitor: &Visitor,
    challenge: &str,
    ceremony: Option<&str>,
    answer: &str,
) -> Result<Outcome, SignInError> {
    second_factor(provider, visitor, challenge, |user| async move {
        let Ok(rp) = &provider.passkeys else {
            return Ok(refused(Some(user), &Problem::Off));
        };
        if !mfa::take_attempt(&provider.store, challenge, provider.now()).await? {
            return Ok(Verdict::StartAgain);
        }
        let Some((answer, answered)) = parse(answer) else {
            return Ok(refused(Some(user), &Problem::Malformed));
        };
        let state: Option<PasskeyAuthentication> = take_ceremony(
            provider,
            (ceremony, &answered),
            CeremonyPurpose::SecondFactor,
            Some(&user.id),
        )
        .await?;
        let Some(state) = state else {
            return Ok(refused(Some(user), &Problem::Expired));
        };
        let stored = match named(provider, &answer).await? {
            Some((stored, _)) if stored.record.user_id == user.id => stored,
            _ => {
                let unknown = refusal(&WebauthnError::CredentialNotFound);
                return Ok(refused(Some(user), &unknown));
            }
        };
        let key = credential(&stored)?;
        let outcome = rp.finish_passkey_authentication(&answer, &state);
        match verified(provider, visitor, (&user, &stored, key), outcome).await? {
            Ok(result) => {
                mfa::close_challenge(&provider.store, challenge).await?;
                Ok(Verdict::Proved(Proof {
                    amr: amr(&result),
                    multi_factor: true,
                    factor: "passkey",
                    federation: Default::default(),
                    user,
                }))
            }
            Err(problem) => Ok(refused(Some(user), &problem)),
        }
    })
    .await
}
