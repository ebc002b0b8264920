//! The sign-in flow's shared steps: find the browser's session, decide what
//! the pending authorization request needs next, and send the answer back to
//! the client (RFC 6749 §4.1.2, RFC 9207 `iss`, Form Post Response Mode).

use super::cookies;
use super::pages::Pages;
use crate::account::session;
use crate::crypto::{random_token, token_hash};
use crate::model::{ClientRecord, NewCode, SessionRecord, UserRecord};
use crate::oauth::authorize::{AuthorizeRequest, ErrorRedirect, ResponseMode};
use crate::oauth::next_step::{next_step, NextStep, SignedIn};
use crate::state::Provider;
use crate::store::StoreError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

/// How to redirect: 302 after a GET, 303 after a POSTed form.
pub fn redirect_status(req: &HttpRequest) -> StatusCode {
    if req.method() == actix_web::http::Method::POST {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    }
}

/// A redirect to `location`.
pub fn redirect(status: StatusCode, location: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The browser's live session and its (enabled) user.
pub async fn current_session(
    req: &HttpRequest,
    provider: &Provider,
) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
    let Some(cookie) = cookies::value(req, &provider.config, cookies::SESSION) else {
        return Ok(None);
    };
    let now = provider.now();
    let session = match session::find(&provider.store, &cookie, now).await {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(None),
        Err(crate::account::AccountError::Store(e)) => return Err(e),
        Err(_) => return Ok(None),
    };
    let user = provider.store.cached_user(&session.user_id).await?;
    Ok(user
        .filter(|u| !u.disabled)
        .map(|u| (session, UserRecord::clone(&u))))
}

/// Sends the client its answer: `params` appended to the redirect URI's
/// query, or POSTed to it by an auto-submitting form.
pub fn respond_to_client(
    pages: &Pages,
    status: StatusCode,
    redirect_uri: &str,
    mode: ResponseMode,
    params: Vec<(&str, String)>,
) -> HttpResponse {
    match mode {
        ResponseMode::Query => {
            let mut url = match url::Url::parse(redirect_uri) {
                Ok(u) => u,
                Err(e) => {
                    return pages
                        .internal_error(&format!("registered redirect_uri does not parse: {e}"))
                }
            };
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in &params {
                    query.append_pair(k, v);
                }
            }
            redirect(status, url.as_str())
        }
        ResponseMode::FormPost => pages.render(
            StatusCode::OK,
            "form_post.html",
            &json!({ "action": redirect_uri, "fields": params }),
        ),
    }
}

/// Sends an error back to the client, with `state` and `iss`.
pub fn error_to_client(
    pages: &Pages,
    provider: &Provider,
    status: StatusCode,
    e: &ErrorRedirect,
) -> HttpResponse {
    tracing::info!(error = %e.error, description = %e.description, "authorization request refused");
    let mut params = vec![
        ("error", e.error.to_string()),
        ("error_description", e.description.clone()),
    ];
    if let Some(state) = &e.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", provider.config.issuer.clone()));
    respond_to_client(pages, status, &e.redirect_uri, e.response_mode, params)
}

/// Stores the request (if not stored yet) and returns its id.
async fn stored_id(
    provider: &Provider,
    request: &AuthorizeRequest,
    id: Option<String>,
) -> Result<String, StoreError> {
    if let Some(id) = id {
        return Ok(id);
    }
    let id = random_token();
    let now = provider.now();
    let json = serde_json::to_string(request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    provider
        .store
        .save_auth_request(
            &token_hash(&id),
            &request.client_id,
            &json,
            now,
            now + provider.config.interaction_ttl,
        )
        .await?;
    Ok(id)
}

/// Moves a validated request forward: to the login or consent screen, or
/// straight to the client with a code. `request_id` is set when the request
/// is already stored (resuming after a screen).
pub async fn proceed(
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    request: &AuthorizeRequest,
    client: &ClientRecord,
    session: Option<&(SessionRecord, UserRecord)>,
    request_id: Option<String>,
) -> HttpResponse {
    match proceed_inner(
        provider, pages, status, request, client, session, request_id,
    )
    .await
    {
        Ok(response) => response,
        Err(e) => pages.fail(&e),
    }
}

async fn proceed_inner(
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    request: &AuthorizeRequest,
    client: &ClientRecord,
    session: Option<&(SessionRecord, UserRecord)>,
    request_id: Option<String>,
) -> Result<HttpResponse, StoreError> {
    let now = provider.now();
    // Only a client that asks for consent needs to know what was given.
    let consented = match session {
        Some((_, user)) if client.require_consent => {
            provider
                .store
                .consented_scopes(&user.id, &client.client_id)
                .await?
        }
        _ => Vec::new(),
    };
    let base = provider.config.base_path();
    match next_step(request, client, signed_in(session), &consented, now) {
        Err(e) => {
            if let Some(id) = &request_id {
                provider.store.delete_auth_request(&token_hash(id)).await?;
            }
            Ok(error_to_client(pages, provider, status, &e))
        }
        Ok(NextStep::Login) => {
            let id = stored_id(provider, request, request_id).await?;
            Ok(redirect(status, &format!("{base}/login?request={id}")))
        }
        Ok(NextStep::ChangePassword) => {
            let id = stored_id(provider, request, request_id).await?;
            Ok(redirect(
                status,
                &format!("{base}/login/new-password?request={id}"),
            ))
        }
        Ok(NextStep::EnrolMfa) => {
            let id = stored_id(provider, request, request_id).await?;
            Ok(redirect(
                status,
                &format!("{base}/account/mfa/enrol?request={id}"),
            ))
        }
        Ok(NextStep::Consent) => {
            let id = stored_id(provider, request, request_id).await?;
            Ok(redirect(status, &format!("{base}/consent?request={id}")))
        }
        Ok(NextStep::Issue) => {
            let Some((session, _)) = session else {
                return Err(StoreError::Corrupt(
                    "a code was due without a session".into(),
                ));
            };
            if let Some(id) = &request_id {
                provider.store.delete_auth_request(&token_hash(id)).await?;
            }
            issue_code(provider, pages, status, request, session).await
        }
    }
}

/// Issues a code and sends it to the client.
pub async fn issue_code(
    provider: &Provider,
    pages: &Pages,
    status: StatusCode,
    request: &AuthorizeRequest,
    session: &SessionRecord,
) -> Result<HttpResponse, StoreError> {
    let now = provider.now();
    let code = random_token();
    provider
        .store
        .create_code(
            &token_hash(&code),
            &NewCode {
                client_id: request.client_id.clone(),
                user_id: session.user_id.clone(),
                sid: session.sid.clone(),
                redirect_uri: request.redirect_uri.clone(),
                scope: request.scopes.join(" "),
                nonce: request.nonce.clone(),
                code_challenge: request.code_challenge.clone(),
                auth_time: session.auth_time,
                amr: session.amr.clone(),
                expires_at: now + provider.config.code_ttl,
                grant_id: None,
            },
            now,
        )
        .await?;
    let mut params = vec![("code", code)];
    if let Some(state) = &request.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", provider.config.issuer.clone()));
    Ok(respond_to_client(
        pages,
        status,
        &request.redirect_uri,
        request.response_mode,
        params,
    ))
}

/// The session as the next-step decision sees it.
pub fn signed_in(session: Option<&(SessionRecord, UserRecord)>) -> Option<SignedIn<'_>> {
    session.map(|(session, user)| SignedIn {
        session,
        has_totp: user.totp_secret.is_some(),
        must_change_password: user.must_change_password,
    })
}

/// Whether `id` has the shape of a pending-request id (43 base64url
/// characters): anything else is refused before it reaches a query or a
/// Location header.
pub fn is_request_id(id: &str) -> bool {
    id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Loads a stored request by the id from a screen's URL or form.
pub async fn load_request(
    provider: &Provider,
    id: &str,
) -> Result<Option<(AuthorizeRequest, ClientRecord)>, StoreError> {
    if !is_request_id(id) {
        return Ok(None);
    }
    let Some((json, _created)) = provider
        .store
        .auth_request(&token_hash(id), provider.now())
        .await?
    else {
        return Ok(None);
    };
    let request: AuthorizeRequest = serde_json::from_str(&json)
        .map_err(|e| StoreError::Corrupt(format!("auth request: {e}")))?;
    let client = provider.store.client(&request.client_id).await?;
    Ok(client.map(|c| (request, c)))
}

/// The page shown when a screen's request id is unknown or expired.
pub fn expired_request(pages: &Pages) -> HttpResponse {
    pages.error(
        StatusCode::BAD_REQUEST,
        "This sign-in link has expired",
        "Go back to the application you came from and start signing in again.",
    )
}
