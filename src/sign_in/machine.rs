//! The sign-in state machine's shared steps: the throttle before a method
//! runs, what a refusal costs (a failure counted against the account, an
//! audit event, a metric), the second-factor challenge, and the session and
//! device cookie a sign-in ends in. A method plugs in as the check that yields its
//! [`Verdict`]: a future for a first factor, a closure given the
//! challenge's user for a second.

use super::{Outcome, Proof, Refusal, SignInError, SignedIn, Verdict, Visitor};
use crate::account::notices::{compose_notice, Notice};
use crate::account::throttle::{self, Attempt};
use crate::account::{mfa, session};
use crate::audit_log::{Actor, Event};
use crate::model::{Device, Federation, UserRecord};
use crate::state::Provider;
use std::future::Future;

/// The `amr` of the first factor behind a second-factor challenge, unless
/// the challenge says otherwise: a password. (A sign-in through an upstream
/// whose sign-in is not multi-factor opens one too, as `fed`; a method that
/// identifies the user with more than one factor, such as a passkey with
/// user verification, finishes at once.)
const CHALLENGED_FIRST_FACTOR: &str = "pwd";

/// Records `event` as coming from the visitor's address.
async fn record(provider: &Provider, visitor: &Visitor, event: Event) {
    provider
        .audit
        .record(provider.now(), event.ip(&visitor.ip))
        .await;
}

/// A refused first-factor attempt for the name `claimed`, as the audit log
/// keeps it: the user when the method knows one, the name tried otherwise.
fn first_factor_failure(claimed: &str, user: Option<&UserRecord>, reason: &str) -> Event {
    let event = Event::new("sign_in.failure", Actor::Anonymous).detail("reason", reason);
    match user {
        Some(user) => event.user(&user.id, &user.username),
        None => event.attempted_username(claimed),
    }
}

/// Runs a method that identifies the user (`claimed` is the name typed,
/// which the throttle counts against, known or not). A wrong answer counts
/// as a failure for that name; a right one opens a session, or a
/// second-factor challenge for a user who has a second factor.
pub async fn first_factor<Check>(
    provider: &Provider,
    visitor: &Visitor,
    claimed: &str,
    check: Check,
) -> Result<Outcome, SignInError>
where
    Check: Future<Output = Result<Verdict, SignInError>>,
{
    let store = &provider.store;
    let attempt = begin(provider, visitor, claimed).await?;
    let wait = attempt.wait(store, provider.now()).await?;
    if wait > 0 {
        tracing::warn!(
            username = claimed,
            wait,
            "sign-in refused: account throttled after failures"
        );
        // Only to name the user in the audit event: a lookup that fails
        // leaves the event naming the name tried, and the refusal stands.
        let known = store.user_by_username(claimed.trim()).await.ok().flatten();
        let event = first_factor_failure(claimed, known.as_ref(), "throttled");
        record(provider, visitor, event).await;
        return Ok(Outcome::Refused(Refusal::Throttled { wait }));
    }
    let proof = match check.await? {
        Verdict::Proved(proof) => proof,
        Verdict::Refused {
            user,
            reason,
            problem,
        } => {
            tracing::info!(username = claimed, reason, "sign-in failed");
            let event = first_factor_failure(claimed, user.as_ref(), reason);
            record(provider, visitor, event).await;
            attempt.failed(store, provider.now()).await?;
            provider
                .metrics
                .sign_ins
                .with_label_values(&["failure"])
                .inc();
            return Ok(Outcome::Refused(Refusal::Wrong { problem }));
        }
        Verdict::StartAgain => return Ok(Outcome::StartAgain),
    };
    proceed(provider, visitor, &attempt, proof).await
}

/// Goes on from a proof another party made: a sign-in through an upstream
/// provider, which did the authentication. The account throttle, which
/// counts wrong passwords here, does not hold it up (guessing at a
/// password must not lock the owner out of their provider); a second
/// factor due here is throttled as usual.
pub async fn proved_elsewhere(
    provider: &Provider,
    visitor: &Visitor,
    proof: Proof,
) -> Result<Outcome, SignInError> {
    let attempt = begin(provider, visitor, &proof.user.username).await?;
    proceed(provider, visitor, &attempt, proof).await
}

/// After a first factor held: a second-factor challenge, or the session.
async fn proceed(
    provider: &Provider,
    visitor: &Visitor,
    attempt: &Attempt,
    proof: Proof,
) -> Result<Outcome, SignInError> {
    let store = &provider.store;
    provider
        .metrics
        .sign_ins
        .with_label_values(&["success"])
        .inc();
    if proof.user.has_second_factor() && !proof.multi_factor {
        let challenge = mfa::open_challenge(store, &proof.user.id, provider.now()).await?;
        if proof.amr != [CHALLENGED_FIRST_FACTOR] {
            mfa::note_first_factor(store, &challenge, &proof.amr.join(" "), &proof.federation)
                .await?;
        }
        record(
            provider,
            visitor,
            Event::by_user("mfa.challenged", &proof.user),
        )
        .await;
        return Ok(Outcome::SecondFactorDue { challenge });
    }
    finish(
        provider,
        visitor,
        attempt,
        (proof.user, proof.amr, proof.factor),
        &proof.federation,
    )
    .await
}

/// Runs a method that confirms the user of the challenge named by the
/// cookie value `challenge`. Wrong answers count against the account like
/// wrong passwords; the challenge itself allows only a few.
pub async fn second_factor<Check, Checking>(
    provider: &Provider,
    visitor: &Visitor,
    challenge: &str,
    check: Check,
) -> Result<Outcome, SignInError>
where
    Check: FnOnce(UserRecord) -> Checking,
    Checking: Future<Output = Result<Verdict, SignInError>>,
{
    let store = &provider.store;
    let now = provider.now();
    let Some(open) = mfa::challenge(store, challenge, now).await? else {
        return Ok(Outcome::StartAgain);
    };
    let user = match store.user_by_id(&open.user_id).await? {
        Some(user) if !user.disabled => user,
        _ => return Ok(Outcome::StartAgain),
    };
    let attempt = begin(provider, visitor, &user.username).await?;
    let wait = attempt.wait(store, now).await?;
    if wait > 0 {
        tracing::warn!(user_id = %user.id, wait, "second factor refused: account throttled after failures");
        let event = Event::by_user("mfa.failure", &user).detail("reason", "throttled");
        record(provider, visitor, event).await;
        return Ok(Outcome::Refused(Refusal::Throttled { wait }));
    }
    let mfa_metric = |result: &str| {
        provider
            .metrics
            .mfa_challenges
            .with_label_values(&[result])
            .inc()
    };
    match check(user.clone()).await? {
        Verdict::Proved(Proof {
            user, amr, factor, ..
        }) => {
            let event = Event::by_user("mfa.success", &user).detail("factor", factor);
            record(provider, visitor, event).await;
            mfa_metric("success");
            let first = open.first_amr.as_deref().unwrap_or(CHALLENGED_FIRST_FACTOR);
            let mut all: Vec<&str> = first.split(' ').collect();
            for m in amr {
                if !all.contains(m) {
                    all.push(m);
                }
            }
            let signed_in = (user, all.as_slice(), factor);
            finish(provider, visitor, &attempt, signed_in, &open.federation).await
        }
        Verdict::Refused {
            reason, problem, ..
        } => {
            attempt.failed(store, now).await?;
            mfa_metric("failure");
            tracing::info!(user_id = %user.id, reason, "second-factor code rejected");
            let event = Event::by_user("mfa.failure", &user).detail("reason", reason);
            record(provider, visitor, event).await;
            Ok(Outcome::Refused(Refusal::Wrong { problem }))
        }
        Verdict::StartAgain => {
            mfa_metric("exhausted");
            tracing::warn!(user_id = %user.id, "too many wrong second-factor codes; the first factor is needed again");
            let event = Event::by_user("mfa.failure", &user).detail("reason", "too_many_attempts");
            record(provider, visitor, event).await;
            Ok(Outcome::StartAgain)
        }
    }
}

/// The throttle's view of an attempt by the visitor for `username`.
async fn begin(
    provider: &Provider,
    visitor: &Visitor,
    username: &str,
) -> Result<Attempt, SignInError> {
    Attempt::begin(
        &provider.store,
        username,
        &visitor.ip,
        visitor.device.as_deref(),
        provider.now(),
    )
    .await
}

/// Ends a sign-in: opens a session for `user` authenticated with `amr`,
/// replacing the one this browser had (a new sign-in replaces it instead
/// of leaving it behind: the same user's keeps its `sid`, so the clients
/// signed in through it are not logged out by a re-authentication; another
/// user's ends, and its clients are told), clears the failure
/// counters the attempt was checked against, trusts the browser for the
/// account from now on (a new device cookie value) and records the success
/// with `factor`, the method that finished it (`password`, `totp`, …).
/// A session opened through an upstream remembers it (`federation`).
pub async fn finish(
    provider: &Provider,
    visitor: &Visitor,
    attempt: &Attempt,
    (user, amr, factor): (UserRecord, &[&str], &str),
    federation: &Federation,
) -> Result<Outcome, SignInError> {
    let store = &provider.store;
    let device = Device {
        user_agent: visitor.user_agent.clone(),
        ip: Some(visitor.ip.clone()),
    };
    // A browser not trusted for the account, when another one is: a
    // sign-in from a new browser, worth a notice (a first sign-in is not).
    let new_browser = !attempt.trusted()
        && throttle::signed_in_before(store, &user.username, provider.now()).await?;
    let notice = match new_browser {
        true => compose_notice(provider, &user, &Notice::NewBrowser, Some(&device))?,
        false => None,
    };
    let (cookie, opened) = session::open(
        store,
        visitor.session.as_deref(),
        (&user.id, amr),
        &device,
        notice.as_ref(),
        (provider.now(), provider.config.session_ttl),
    )
    .await?;
    if notice.is_some() {
        provider.outbox_wake.notify_one();
    }
    if federation.upstream_id.is_some() {
        store
            .set_session_federation(&opened.sid, federation)
            .await?;
    }
    attempt.succeeded(store).await?;
    let device = throttle::trust_browser(
        store,
        &user.username,
        visitor.device.as_deref(),
        provider.now(),
    )
    .await?;
    let amr = amr.join(" ");
    tracing::info!(user_id = %user.id, amr, "signed in");
    let event = Event::by_user("sign_in.success", &user)
        .detail("factor", factor)
        .detail("amr", amr);
    record(provider, visitor, event).await;
    Ok(Outcome::SignedIn(SignedIn {
        cookie,
        device,
        user,
    }))
}
