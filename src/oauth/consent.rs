//! Consent (OpenID Connect Core §3.1.2.4): what the user has agreed to share
//! with a client, and their answer on the consent screen. Allowing counts as
//! consent to every requested scope and issues the code; denying answers the
//! client with `access_denied`.

use super::authorize::AuthorizeRequest;
use super::client_answer::ClientAnswer;
use super::code_issuing::issue_code;
use super::error::ErrorCode;
use super::journey::{interaction, no_access, signed_in, Interaction, Onward};
use super::next_step::{next_step, NextStep};
use super::pending_requests;
use crate::audit_log::Event;
use crate::model::{ClientRecord, SessionRecord, UserRecord};
use crate::state::Provider;
use crate::store::StoreError;

/// A standard scope in words a person understands; `None` for another.
pub fn standard_words(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "openid" => "Know who you are (your account identifier)",
        "profile" => "See your name, username and profile details",
        "email" => "See your email address",
        "phone" => "See your phone number",
        "address" => "See your postal address",
        "groups" => "See which groups you belong to",
        "roles" => "See your roles in this application",
        "offline_access" => "Stay connected to your account when you are not using it",
        _ => return None,
    })
}

/// A scope (or an API's scope as consent records it, `<api>#<scope>`) in
/// words, without looking anything up.
pub fn describe_scope(scope: &str) -> String {
    if let Some((api, scope)) = scope.split_once('#') {
        if super::resource::check_identifier(api).is_ok() {
            return format!("Use the \u{201c}{scope}\u{201d} permission of {api}");
        }
    }
    match standard_words(scope) {
        Some(words) => words.to_string(),
        None => format!("Use the \u{201c}{scope}\u{201d} permission"),
    }
}

/// The requested scopes in words for the consent screen: the standard
/// ones, the API's scopes with the API's name and its own description, and
/// custom scopes with theirs.
pub async fn described_scopes(
    provider: &Provider,
    request: &AuthorizeRequest,
) -> Result<Vec<String>, StoreError> {
    describe_scopes(provider, request.resource.as_deref(), &request.scopes).await
}

/// `scopes`, asked for with the API `resource` if any, in words (as
/// [`described_scopes`]); the device screens show them the same way.
pub async fn describe_scopes(
    provider: &Provider,
    resource: Option<&str>,
    scopes: &[String],
) -> Result<Vec<String>, StoreError> {
    let api = match resource {
        Some(uri) => provider.store.api(uri).await?,
        None => None,
    };
    let custom = provider.store.custom_scopes().await?;
    let mut out = Vec::with_capacity(scopes.len());
    for scope in scopes {
        if let Some(words) = standard_words(scope) {
            out.push(words.to_string());
        } else if let Some(s) = api
            .as_ref()
            .and_then(|a| a.scopes.iter().find(|s| &s.name == scope))
        {
            let api_name = &api.as_ref().map(|a| a.name.as_str()).unwrap_or_default();
            out.push(if s.description.is_empty() {
                format!("{api_name}: use the \u{201c}{scope}\u{201d} permission")
            } else {
                format!("{api_name}: {}", s.description)
            });
        } else if let Some(c) = custom
            .iter()
            .find(|c| &c.name == scope && !c.description.is_empty())
        {
            out.push(c.description.clone());
        } else {
            out.push(describe_scope(scope));
        }
    }
    Ok(out)
}

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
pub async fn gate(
    provider: &Provider,
    (request, client): (&AuthorizeRequest, &ClientRecord),
    session: Option<&(SessionRecord, UserRecord)>,
    consented: &[String],
    id: &str,
) -> Option<Onward> {
    let now = provider.now();
    match next_step(request, client, signed_in(session), consented, now) {
        Ok(NextStep::NoAccess) => match session {
            Some((_, user)) => Some(Onward::NoAccess(
                no_access(provider, request, client, user).await,
            )),
            None => Some(Onward::Screen {
                screen: Interaction::Login,
                request: id.to_string(),
            }),
        },
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
    for s in request.consent_keys(client) {
        if !scopes.contains(&s) {
            scopes.push(s);
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
