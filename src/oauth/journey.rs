//! An authorization request's way through Gatehouse (RFC 6749 §4.1, OpenID
//! Connect Core §3.1.2): validated at `/authorize`, then, as
//! `next_step` decides, saved while the user is sent to a screen (sign-in,
//! new password, two-step set-up, consent) and resumed after it, until the
//! client gets its answer: a code, or an error at its redirect URI.

use super::authorize::{self, AuthorizeError, AuthorizeRequest};
use super::client_answer::ClientAnswer;
use super::code_issuing::issue_code;
use super::consent;
use super::next_step::{next_step, NextStep, SignedIn};
use super::params::Params;
use super::pending_requests;
use super::resource::{self, Refused};
use crate::model::{ClientRecord, SessionRecord, UserRecord};
use crate::state::Provider;
use crate::store::StoreError;
use std::future::Future;

/// What the user must do on a screen before the client can be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    /// Sign in (again).
    Login,
    /// Replace a password an admin set.
    NewPassword,
    /// Set up two-step verification.
    EnrolMfa,
    /// Agree to share the requested scopes.
    Consent,
}

/// What a signed-in user outside a client's allowed groups is told, and
/// the answer the client gets when they go back to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The application's name.
    pub app: String,
    /// Who is signed in (display name, or username).
    pub user: String,
    /// `access_denied`, for the client.
    pub answer: ClientAnswer,
}

/// Where a request goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Onward {
    /// To a screen, carrying the saved request's id.
    Screen {
        /// Which screen.
        screen: Interaction,
        /// The pending request's id.
        request: String,
    },
    /// Back to the client, with a code or an error.
    Client(ClientAnswer),
    /// To the page telling the user they have no access to the client.
    NoAccess(Denied),
}

/// How `/authorize` ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The client or redirect URI cannot be trusted: the reason is shown to
    /// the user and nothing goes to the client (RFC 6749 §4.1.2.1).
    Untrusted(String),
    /// The request is valid (or its error may go to the client).
    Onward(Onward),
}

/// The browser's session as the next-step decision sees it.
pub fn signed_in(session: Option<&(SessionRecord, UserRecord)>) -> Option<SignedIn<'_>> {
    session.map(|(session, user)| SignedIn {
        session,
        has_second_factor: user.has_second_factor(),
        must_change_password: user.must_change_password,
        groups: &user.groups,
    })
}

/// The browser's session and its user, as the screens find it (read only
/// when a request is worth it).
pub type Session = Option<(SessionRecord, UserRecord)>;

/// An authorization request that passed validation, with its client:
/// from here on, errors go to the client's redirect URI.
#[derive(Debug, Clone)]
pub struct Validated {
    /// The request.
    pub request: AuthorizeRequest,
    /// Its client.
    pub client: ClientRecord,
}

/// What validating an authorization request found. (One is made per
/// request and consumed at once, so the size of the valid request in it
/// costs nothing worth a box.)
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Checked {
    /// The request ends here (untrusted, or an error for the client).
    Ends(Begin),
    /// The request is valid.
    Valid(Validated),
}

/// Validates an authorization request: the client, its redirect URI, then
/// the rest (see `authorize::validate`).
pub async fn check(provider: &Provider, params: &Params) -> Result<Checked, StoreError> {
    let client_id = match authorize::client_id(params) {
        Ok(id) => id,
        Err(why) => return Ok(Checked::Ends(Begin::Untrusted(why))),
    };
    let client = provider.store.client(client_id).await?;
    let api = match (&client, resource::requested(params)) {
        (_, Err(why)) => Err(why),
        (Some(client), Ok(Some(uri))) => match resource::api_for(provider, client, uri).await {
            Ok(api) => Ok(Some(api)),
            Err(Refused::Target(why)) => Err(why),
            Err(Refused::Store(e)) => return Err(e),
        },
        (_, Ok(None)) | (None, _) => Ok(None),
    };
    let target = api.as_ref().map(|a| a.as_deref()).map_err(Clone::clone);
    let mut request = match authorize::validate(params, client.as_ref(), target) {
        Ok(r) => r,
        Err(AuthorizeError::Untrusted(why)) => return Ok(Checked::Ends(Begin::Untrusted(why))),
        Err(AuthorizeError::Redirect(e)) => {
            return Ok(Checked::Ends(Begin::Onward(Onward::Client(
                ClientAnswer::error(&e, &provider.config.issuer),
            ))))
        }
    };
    let Some(client) = client else {
        return Ok(Checked::Ends(Begin::Untrusted(
            "The application is not registered with this sign-in service.".into(),
        )));
    };
    request.requested_at = provider.now();
    Ok(Checked::Valid(Validated { request, client }))
}

/// Validates an authorization request and moves it forward. The browser's
/// session is read (`session` awaited) only once the client and redirect
/// URI are known good.
pub async fn begin<E: From<StoreError>>(
    provider: &Provider,
    params: &Params,
    session: impl Future<Output = Result<Session, E>>,
) -> Result<Begin, E> {
    let Validated {
        mut request,
        client,
    } = match check(provider, params).await? {
        Checked::Valid(valid) => valid,
        Checked::Ends(begin) => return Ok(begin),
    };
    let session = session.await?;
    if request.prompts("login") {
        request.reauth_of = session.as_ref().map(|(s, _)| s.cookie_hash.clone());
    }
    let onward = proceed(provider, &request, &client, session.as_ref(), None).await?;
    Ok(Begin::Onward(onward))
}

/// Moves a valid request forward with a session the browser has just
/// been given (a sign-in that came with the request itself), as a
/// request resumed after the sign-in screen would.
pub async fn continue_signed_in(
    provider: &Provider,
    valid: &Validated,
    session: &(SessionRecord, UserRecord),
) -> Result<Onward, StoreError> {
    proceed(provider, &valid.request, &valid.client, Some(session), None).await
}

/// Answers a valid request with an error at the client's redirect URI
/// (RFC 6749 §4.1.2.1).
pub fn refuse(
    provider: &Provider,
    valid: &Validated,
    error: super::error::ErrorCode,
    description: &str,
) -> Onward {
    let error = valid.request.error(error, description);
    Onward::Client(ClientAnswer::error(&error, &provider.config.issuer))
}

/// Moves a saved request on after a screen; `None` when the id names no
/// live request (then the session is not read).
pub async fn resume<E: From<StoreError>>(
    provider: &Provider,
    id: &str,
    session: impl Future<Output = Result<Session, E>>,
) -> Result<Option<Onward>, E> {
    let Some((request, client)) = pending_requests::load(provider, id).await? else {
        return Ok(None);
    };
    let session = session.await?;
    let id = Some(id.to_string());
    let onward = proceed(provider, &request, &client, session.as_ref(), id).await?;
    Ok(Some(onward))
}

/// The screen a step leads to; `None` when the code is due.
pub fn interaction(step: &NextStep) -> Option<Interaction> {
    match step {
        NextStep::Login => Some(Interaction::Login),
        NextStep::ChangePassword => Some(Interaction::NewPassword),
        NextStep::EnrolMfa => Some(Interaction::EnrolMfa),
        NextStep::Consent => Some(Interaction::Consent),
        NextStep::Issue | NextStep::NoAccess => None,
    }
}

/// Tells a signed-in user they have no access to `client`, and the client
/// `access_denied`; the audit log records it.
pub async fn no_access(
    provider: &Provider,
    request: &AuthorizeRequest,
    client: &ClientRecord,
    user: &UserRecord,
) -> Denied {
    let event =
        crate::audit_log::Event::by_user("authorize.access_denied", user).client(&client.client_id);
    provider.audit.record(provider.now(), event).await;
    let error = request.error(
        super::error::ErrorCode::AccessDenied,
        "the user is not allowed to use this application",
    );
    Denied {
        app: client.name.clone(),
        user: user.name.clone().unwrap_or_else(|| user.username.clone()),
        answer: ClientAnswer::error(&error, &provider.config.issuer),
    }
}

/// The screen for a step, with the request saved (once) under its id.
async fn screen(
    provider: &Provider,
    screen: Interaction,
    request: &AuthorizeRequest,
    id: Option<String>,
) -> Result<Onward, StoreError> {
    let request = match id {
        Some(id) => id,
        None => pending_requests::save(provider, request).await?,
    };
    Ok(Onward::Screen { screen, request })
}

/// Moves a validated request forward: to a screen, or to the client with a
/// code or an error. `request_id` is set when the request is already saved
/// (resuming after a screen); it is forgotten once the client is answered.
async fn proceed(
    provider: &Provider,
    request: &AuthorizeRequest,
    client: &ClientRecord,
    session: Option<&(SessionRecord, UserRecord)>,
    request_id: Option<String>,
) -> Result<Onward, StoreError> {
    // Only a client that asks for consent needs to know what was given.
    let consented = match session {
        Some((_, user)) if client.require_consent => {
            consent::consented_scopes(provider, user, client).await?
        }
        _ => Vec::new(),
    };
    let step = next_step(
        request,
        client,
        signed_in(session),
        &consented,
        provider.now(),
    );
    let step = match step {
        Ok(step) => step,
        Err(e) => {
            if let Some(id) = &request_id {
                pending_requests::forget(provider, id).await?;
            }
            return Ok(Onward::Client(ClientAnswer::error(
                &e,
                &provider.config.issuer,
            )));
        }
    };
    if step == NextStep::NoAccess {
        if let Some(id) = &request_id {
            pending_requests::forget(provider, id).await?;
        }
        if let Some((_, user)) = session {
            return Ok(Onward::NoAccess(
                no_access(provider, request, client, user).await,
            ));
        }
    }
    let Some(to) = interaction(&step) else {
        let Some((session, _)) = session else {
            return Err(StoreError::Corrupt(
                "a code was due without a session".into(),
            ));
        };
        if let Some(id) = &request_id {
            pending_requests::forget(provider, id).await?;
        }
        return Ok(Onward::Client(
            issue_code(provider, request, session).await?,
        ));
    };
    screen(provider, to, request, request_id).await
}
