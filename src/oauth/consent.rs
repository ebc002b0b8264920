//! Consent (OpenID Connect Core §3.1.2.4): what the user has agreed to share
//! with a client, and their answer on the consent screen. Allowing counts as
//! consent to every requested scope and issues the code; denying answers the
//! client with `access_denied`.

use super::authorize::AuthorizeRequest;
use super::client_answer::ClientAnswer;
use super::code_issuing::issue_code;
use super::error::ErrorCode;
use super::journey::{interaction, signed_in, Interaction, Onward};
use super::next_step::next_step;
use super::pending_requests;
use crate::audit_log::Event;
use crate::model::{ClientRecord, SessionRecord, UserRecord};
use crate::state::Provider;
use crate::store::StoreError;

/// The scopes `user` has already agreed to share with `client`.
pub async fn consented_scopes(
    provider: &Provider,
    user: &UserRecord,
    client: &ClientRecord,
) -> Result<Vec<String>, StoreError> {
    provider
        .store
        .consented_scopes(&user.id, &client.client_id)
        .await
}

/// Lets the consent screen go ahead only when consent (or nothing) is what
/// the request needs next (`None`); otherwise where to go instead. With
/// `consented` set to every requested scope, this checks that everything
/// else (a fresh sign-in for `prompt=login` or `max_age`, a second factor)
/// still holds, so the form cannot short-cut the login screen.
pub fn gate(
    provider: &Provider,
    (request, client): (&AuthorizeRequest, &ClientRecord),
    session: Option<&(SessionRecord, UserRecord)>,
    consented: &[String],
    id: &str,
) -> Option<Onward> {
    let now = provider.now();
    match next_step(request, client, signed_in(session), consented, now) {
        Ok(step) => match interaction(&step) {
            None | Some(Interaction::Consent) => None,
            Some(screen) => Some(Onward::Screen {
                screen,
                request: id.to_string(),
            }),
        },
        Err(e) => Some(Onward::Client(ClientAnswer::error(
            &e,
            &provider.config.issuer,
        ))),
    }
}

/// The user allowed: records the consent (adding to what was given before),
/// forgets the pending request and issues the code.
pub async fn allow(
    provider: &Provider,
    id: &str,
    (request, client): (&AuthorizeRequest, &ClientRecord),
    (session, user): (&SessionRecord, &UserRecord),
    ip: &str,
) -> Result<ClientAnswer, StoreError> {
    let mut scopes = consented_scopes(provider, user, client).await?;
    for s in &request.scopes {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    provider
        .store
        .save_consent(&user.id, &client.client_id, &scopes, provider.now())
        .await?;
    pending_requests::forget(provider, id).await?;
    tracing::info!(user_id = %user.id, client_id = %client.client_id, "consent given");
    let event = Event::by_user("consent.given", user)
        .client(&client.client_id)
        .detail("scope", request.scopes.join(" "))
        .ip(ip);
    provider.audit.record(provider.now(), event).await;
    issue_code(provider, request, session).await
}

/// The user denied: forgets the pending request and answers the client
/// with `access_denied`.
pub async fn deny(
    provider: &Provider,
    id: &str,
    (request, client): (&AuthorizeRequest, &ClientRecord),
    user: &UserRecord,
    ip: &str,
) -> Result<ClientAnswer, StoreError> {
    pending_requests::forget(provider, id).await?;
    tracing::info!(user_id = %user.id, client_id = %client.client_id, "consent denied");
    let event = Event::by_user("consent.denied", user)
        .client(&client.client_id)
        .ip(ip);
    provider.audit.record(provider.now(), event).await;
    let e = request.error(
        ErrorCode::AccessDenied,
        "sign-in cancelled: the user chose not to share their account",
    );
    Ok(ClientAnswer::error(&e, &provider.config.issuer))
}
