//! Signing in through an upstream provider: the browser leaves for the
//! upstream ([`depart`]) and comes back with a code ([`arrive`]), which
//! Gatehouse exchanges and checks before the sign-in machine opens a
//! session. The same trip links an upstream account from the account page,
//! and signs out at the upstream after a sign-out here.
//!
//! - **Leaving** (RFC 6749 §4.1.1, RFC 7636 §4.3): a random `state`, a
//!   `nonce` (OpenID Connect Core §3.1.2.1) and a PKCE verifier (S256) are
//!   stored as a trip, bound to a random cookie of this browser's.
//! - **Coming back**: the trip named by `state` is taken out of the
//!   database (it answers once) and must belong to this browser and
//!   upstream. RFC 9207's `iss` must name the upstream when it is sent,
//!   and must be sent when the upstream promises it. An error answer
//!   (§4.1.2.1) stops there. The code is exchanged with the verifier; an
//!   ID token must pass every check of Core §3.1.3.7
//!   (`upstream_client::id_token`), and a userinfo `sub` must equal its
//!   (Core §5.3.4). Only then is the local account found, created or linked
//!   (`account::upstream_accounts`).
//! - **`amr`** (RFC 8176): `fed`. An upstream marked `mfa` is trusted to
//!   have done multi-factor authentication: `fed mfa`, and no second step
//!   here. Otherwise a user with a second factor here is asked for it
//!   (`fed otp`, `fed hwk pin mfa`, …).
//!
//! Any failure records `upstream.failure` with its reason and leaves
//! nothing half-made: the account and the link are created only after
//! every check passed.

use super::upstream_answer::answer;
use super::upstream_problem::Problem;
pub use super::upstream_sign_out::sign_out_there;
use super::{Outcome, Proof, SignInError, Visitor};
use crate::account::session;
use crate::account::upstream_accounts::{self, Found};
use crate::audit_log::{Actor, Event};
use crate::crypto::{constant_time_eq, random_token, token_hash};
use crate::model::{
    is_upstream_id, Federation, TripPurpose, UpstreamKind, UpstreamRecord, UpstreamTrip,
};
use crate::state::Provider;
use crate::upstream_client::identity::Identity;

/// How long a trip to an upstream may take, in seconds.
pub const TRIP_TTL: i64 = 900;
/// `amr` of a sign-in through an upstream.
const FEDERATED: &[&str] = &["fed"];
/// `amr` of a sign-in through an upstream trusted to do MFA.
const FEDERATED_MFA: &[&str] = &["fed", "mfa"];

/// Where the browser goes, and the trip cookie value it must bring back
/// (the one it had, or a new one).
pub struct Departure {
    /// The upstream's URL, with the request.
    pub url: String,
    /// The browser's trip cookie value.
    pub browser: String,
}

/// Why the browser leaves and what to go on with when it comes back.
#[derive(Default)]
pub struct Leaving<'a> {
    /// The pending authorization request.
    pub request: Option<&'a str>,
    /// Where to go afterwards when there is no request.
    pub then: Option<&'a str>,
    /// For a link, the signed-in user and when they signed in.
    pub linking: Option<(&'a str, i64)>,
}

/// How a trip ended.
#[allow(clippy::large_enum_variant)]
pub enum Arrival {
    /// A sign-in: the machine's outcome, and where to go on.
    SignedIn {
        /// What the machine said.
        outcome: Outcome,
        /// The pending request.
        request: Option<String>,
        /// The destination without one.
        then: Option<String>,
    },
    /// The upstream account is linked to the signed-in user.
    Linked {
        /// The upstream's button name.
        name: String,
    },
    /// Back from signing out at the upstream: the URL to go on to, if any.
    SignedOut {
        /// The client's post-logout URL, with its `state`.
        then: Option<String>,
    },
    /// It did not work.
    Failed {
        /// Why.
        problem: Problem,
        /// The upstream's button name (or its id).
        name: String,
        /// The pending request, to go back to the sign-in page with.
        request: Option<String>,
    },
}

/// The upstreams offered on the sign-in page: the enabled ones.
pub async fn offered(provider: &Provider) -> Result<Vec<UpstreamRecord>, SignInError> {
    let all = provider.store.upstreams().await?;
    Ok(all.into_iter().filter(|u| u.enabled).collect())
}

/// The enabled upstream with this id.
pub async fn enabled(provider: &Provider, id: &str) -> Result<Option<UpstreamRecord>, SignInError> {
    Ok(provider.store.upstream(id).await?.filter(|u| u.enabled))
}

/// Records a failed trip and says why, for the page.
async fn failed(
    provider: &Provider,
    ip: &str,
    upstream: (&str, &str),
    problem: Problem,
    request: Option<String>,
) -> Arrival {
    let (id, name) = upstream;
    record_failure(provider, ip, id, &problem).await;
    Arrival::Failed {
        problem,
        name: name.to_string(),
        request,
    }
}

/// Logs and audits a failed trip to the upstream `id` (a checked id).
async fn record_failure(provider: &Provider, ip: &str, id: &str, problem: &Problem) {
    tracing::warn!(upstream = id, reason = problem.reason(), detail = ?problem, "upstream sign-in failed");
    let event = Event::new("upstream.failure", Actor::Anonymous)
        .detail("upstream", id.to_string())
        .detail("reason", problem.reason())
        .ip(ip);
    provider.audit.record(provider.now(), event).await;
}

/// The redirect URI registered at the upstream.
pub fn redirect_uri(provider: &Provider, id: &str) -> String {
    crate::model::upstream_redirect_uri(&provider.config.issuer, id)
}

/// Where the upstream sends the browser after signing out there.
pub fn signed_out_uri(provider: &Provider, id: &str) -> String {
    crate::model::upstream_signed_out_uri(&provider.config.issuer, id)
}

/// Starts a trip to the upstream `id` to sign in (`leaving.linking` none)
/// or to link (`leaving.linking` the signed-in user). `browser` is the
/// trip cookie value the browser sent, if any.
pub async fn depart(
    provider: &Provider,
    visitor: &Visitor,
    id: &str,
    leaving: Leaving<'_>,
    browser: Option<&str>,
) -> Result<Result<Departure, (Problem, String)>, SignInError> {
    if !is_upstream_id(id) {
        return Ok(Err((Problem::Unavailable, "that provider".into())));
    }
    let Some(upstream) = enabled(provider, id).await? else {
        return Ok(Err((Problem::Unavailable, id.to_string())));
    };
    // Like adding a passkey, linking needs a recent sign-in: a browser
    // left signed in cannot quietly gain a way in.
    if let Some((_, signed_in_at)) = leaving.linking {
        if provider.now() - signed_in_at > crate::account::passkeys::REAUTH_WINDOW {
            return Ok(Err((Problem::SignInAgain, upstream.name)));
        }
    }
    let endpoints = match provider.upstreams.endpoints(&upstream).await {
        Ok(endpoints) => endpoints,
        Err(e) => {
            let problem = Problem::Upstream(e);
            record_failure(provider, &visitor.ip, &upstream.id, &problem).await;
            return Ok(Err((problem, upstream.name)));
        }
    };
    let purpose = if leaving.linking.is_some() {
        TripPurpose::Link
    } else {
        TripPurpose::SignIn
    };
    // A fresh sign-in the client asked for (`prompt=login`, `max_age`)
    // goes on to an OpenID Connect upstream, whose `auth_time` then shows
    // it happened; so does a link, which must be the person's own account
    // there, not whoever is signed in at the upstream in this browser. (A
    // `login_hint` names a local account: it is not passed on.)
    let pending = match leaving.request {
        Some(id) => crate::oauth::pending_requests::load(provider, id)
            .await?
            .map(|(request, _)| request),
        None => None,
    };
    let now = provider.now();
    let oidc = upstream.kind == UpstreamKind::Oidc;
    let prompt_login =
        leaving.linking.is_some() || pending.as_ref().is_some_and(|r| r.prompts("login"));
    let max_age = pending.as_ref().and_then(|r| r.max_age);
    let auth_after = if prompt_login {
        Some(now)
    } else {
        max_age.map(|age| now - age)
    }
    .filter(|_| oidc);
    let mut url = url::Url::parse(&endpoints.authorization)
        .map_err(|e| SignInError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
    let opening = TripOpening {
        purpose,
        user_id: leaving.linking.map(|(user, _)| user.to_string()),
        request_id: leaving.request.map(str::to_string),
        then_page: leaving.then.map(str::to_string),
        auth_after,
        // `prompt=login` goes with `max_age=0` (Core §3.1.2.1), so an
        // upstream that ignored the prompt cannot pass for a fresh sign-in
        // without its `auth_time`.
        auth_time_required: oidc && (prompt_login || max_age.is_some()),
    };
    let (state, browser, trip) = open_trip(provider, &upstream.id, opening, browser).await?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &upstream.client_id)
            .append_pair("redirect_uri", &redirect_uri(provider, &upstream.id))
            .append_pair("state", &state)
            // RFC 7636 §4.2: S256 of the verifier, which token_hash is.
            .append_pair("code_challenge", &token_hash(&trip.code_verifier))
            .append_pair("code_challenge_method", "S256");
        if !upstream.scopes.is_empty() {
            query.append_pair("scope", &upstream.scopes.join(" "));
        }
        if oidc {
            query.append_pair("nonce", &trip.nonce);
            if prompt_login {
                query.append_pair("prompt", "login");
            }
            match (max_age, prompt_login) {
                (Some(age), false) => {
                    query.append_pair("max_age", &age.to_string());
                }
                (_, true) => {
                    query.append_pair("max_age", "0");
                }
                (None, false) => {}
            }
        }
    }
    Ok(Ok(Departure {
        url: url.to_string(),
        browser,
    }))
}

/// What sets a trip apart from another (the rest is random or follows).
pub(super) struct TripOpening {
    pub purpose: TripPurpose,
    pub user_id: Option<String>,
    pub request_id: Option<String>,
    pub then_page: Option<String>,
    pub auth_after: Option<i64>,
    pub auth_time_required: bool,
}

/// Stores a trip to the upstream `id` with a fresh `state`, `nonce` and
/// PKCE verifier, bound to the browser's trip cookie value (the one it
/// sent, or a new one); returns the state, that cookie value and the trip.
pub(super) async fn open_trip(
    provider: &Provider,
    id: &str,
    opening: TripOpening,
    browser: Option<&str>,
) -> Result<(String, String, UpstreamTrip), SignInError> {
    let state = random_token();
    let browser = browser.map_or_else(random_token, str::to_string);
    let trip = UpstreamTrip {
        upstream_id: id.to_string(),
        purpose: opening.purpose,
        browser_hash: token_hash(&browser),
        user_id: opening.user_id,
        request_id: opening.request_id,
        then_page: opening.then_page,
        nonce: random_token(),
        code_verifier: random_token(),
        auth_after: opening.auth_after,
        auth_time_required: opening.auth_time_required,
        expires_at: provider.now() + TRIP_TTL,
    };
    provider
        .store
        .create_upstream_trip(&token_hash(&state), &trip)
        .await?;
    Ok((state, browser, trip))
}

/// Which way back the browser came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// `/upstream/{id}/callback`: after signing in (or linking).
    Callback,
    /// `/upstream/{id}/signed-out`: after signing out there.
    SignedOut,
}

/// Finishes the trip the browser came back from: `id` is the upstream in
/// the path, `browser` the trip cookie value it sent, `query` reads the
/// query (`Err` for a parameter given more than once).
pub async fn arrive<'p, E>(
    provider: &Provider,
    visitor: &Visitor,
    (id, way): (&str, Way),
    browser: Option<&str>,
    query: impl Fn(&str) -> Result<Option<&'p str>, E>,
) -> Result<Arrival, SignInError> {
    // RFC 6749 §4.1.2: each parameter at most once; an answer that repeats
    // one is not read at all.
    let repeated = ["state", "code", "iss", "error"]
        .iter()
        .any(|name| query(name).is_err());
    let param = |name: &str| query(name).ok().flatten();
    let ip = visitor.ip.as_str();
    if !is_upstream_id(id) {
        return Ok(Arrival::Failed {
            problem: Problem::Unavailable,
            name: "that provider".into(),
            request: None,
        });
    }
    let stored = provider.store.upstream(id).await?;
    let name = stored.as_ref().map_or(id, |u| u.name.as_str()).to_string();
    let mismatch = |request| failed(provider, ip, (id, &name), Problem::StateMismatch, request);
    let trip = match param("state") {
        Some(state) => {
            provider
                .store
                .take_upstream_trip(&token_hash(state), provider.now())
                .await?
        }
        None => None,
    };
    let Some(trip) = trip else {
        return Ok(mismatch(None).await);
    };
    let expected_way = if trip.purpose == TripPurpose::SignOut {
        Way::SignedOut
    } else {
        Way::Callback
    };
    let same_browser =
        browser.is_some_and(|b| constant_time_eq(&token_hash(b), &trip.browser_hash));
    if trip.upstream_id != id || !same_browser || way != expected_way {
        return Ok(mismatch(trip.request_id).await);
    }
    if trip.purpose == TripPurpose::SignOut {
        return Ok(Arrival::SignedOut {
            then: trip.then_page,
        });
    }
    let request = trip.request_id.clone();
    if repeated {
        let problem = Problem::BadResponse("repeated_parameter");
        return Ok(failed(provider, ip, (id, &name), problem, request).await);
    }
    let Some(upstream) = stored.filter(|u| u.enabled) else {
        return Ok(failed(provider, ip, (id, &name), Problem::Unavailable, request).await);
    };
    let checked = match answer(provider, &upstream, &trip, &param).await {
        Ok(found) => found,
        Err(problem) => return Ok(failed(provider, ip, (id, &name), problem, request).await),
    };
    let (identity, id_token) = checked;
    if trip.purpose == TripPurpose::Link {
        return link(provider, visitor, &upstream, &trip, &identity).await;
    }
    let (user, found) = match upstream_accounts::account_for(provider, &upstream, &identity).await?
    {
        Ok(found) => found,
        Err(problem) => {
            let problem = Problem::Account(problem);
            return Ok(failed(provider, ip, (id, &name), problem, request).await);
        }
    };
    upstream_accounts::sync_groups(provider, &user, &upstream, &identity).await?;
    let event = Event::by_user("upstream.authenticated", &user)
        .detail("upstream", upstream.id.clone())
        .detail(
            "account",
            match found {
                Found::Linked => "linked",
                Found::ByVerifiedEmail => "linked_by_verified_email",
                Found::Created => "created",
            },
        )
        .ip(ip);
    provider.audit.record(provider.now(), event).await;
    let federation = Federation {
        upstream_id: Some(upstream.id.clone()),
        id_token: id_token.filter(|_| upstream.sign_out_upstream),
    };
    let (amr, multi_factor) = if upstream.mfa {
        (FEDERATED_MFA, true)
    } else {
        (FEDERATED, false)
    };
    let proof = Proof {
        user,
        amr,
        multi_factor,
        factor: "upstream",
        federation,
    };
    let outcome = super::machine::proved_elsewhere(provider, visitor, proof).await?;
    Ok(Arrival::SignedIn {
        outcome,
        request: trip.request_id,
        then: trip.then_page,
    })
}

/// Links the upstream account to the user who asked, if this browser is
/// still signed in as them.
async fn link(
    provider: &Provider,
    visitor: &Visitor,
    upstream: &UpstreamRecord,
    trip: &UpstreamTrip,
    identity: &Identity,
) -> Result<Arrival, SignInError> {
    let ip = visitor.ip.as_str();
    let names = (upstream.id.as_str(), upstream.name.as_str());
    let current = match &visitor.session {
        Some(cookie) => session::current(provider, cookie).await?,
        None => None,
    };
    let user = match current {
        Some((_, user)) if Some(&user.id) == trip.user_id.as_ref() => user,
        _ => return Ok(failed(provider, ip, names, Problem::NotSignedIn, None).await),
    };
    match upstream_accounts::link(provider, &user, upstream, identity).await? {
        Ok(()) => Ok(Arrival::Linked {
            name: upstream.name.clone(),
        }),
        Err(problem) => Ok(failed(provider, ip, names, Problem::Account(problem), None).await),
    }
}
