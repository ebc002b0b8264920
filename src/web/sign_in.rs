//! Finishing a sign-in: the new browser session (replacing the one the
//! browser had), and where the browser goes next: the pending
//! authorization request, or one of a fixed set of internal pages named in
//! `then`, so no link can turn a sign-in into an open redirect.

use super::cookies;
use super::rate_limit::client_address;
use crate::account::session;
use crate::model::Device;
use crate::state::Provider;
use actix_web::HttpRequest;

/// Opens a session for the user and ends the one this browser had, so a new
/// sign-in (perhaps as someone else) replaces it instead of leaving it
/// behind; returns the new cookie value.
pub async fn start_session(
    req: &HttpRequest,
    provider: &Provider,
    user_id: &str,
    amr: &[&str],
    now: i64,
) -> Result<String, crate::account::AccountError> {
    if let Some(old) = cookies::value(req, &provider.config, cookies::SESSION) {
        session::close(&provider.store, &old).await?;
    }
    let device = Device {
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect()),
        ip: Some(client_address(req, provider.config.trust_forwarded_for)),
    };
    let (cookie, _) = session::open(
        &provider.store,
        user_id,
        amr,
        &device,
        now,
        provider.config.session_ttl,
    )
    .await?;
    Ok(cookie)
}

/// Where a fresh sign-in goes: first to choose a password, if an admin set
/// the current one; then on as usual.
pub fn next_after_sign_in(
    provider: &Provider,
    user: &crate::model::UserRecord,
    request: Option<&str>,
    then: Option<&'static str>,
) -> String {
    if user.must_change_password {
        let base = provider.config.base_path();
        return format!("{base}/login/new-password{}", screen_query(request, then));
    }
    after_sign_in(provider, request, then)
}

/// The internal pages a sign-in may lead to besides an authorization
/// request, by the name a link uses in `then`; anything else means home.
const DESTINATIONS: &[(&str, &str)] = &[("account", "/account"), ("admin", "/admin")];

/// The `then` value, if it names a known destination.
pub fn destination(value: Option<&str>) -> Option<&'static str> {
    DESTINATIONS
        .iter()
        .find(|(name, _)| Some(*name) == value)
        .map(|(name, _)| *name)
}

/// The query string that carries the pending request or destination from
/// one sign-in screen to the next ("" when there is neither).
pub fn screen_query(request: Option<&str>, then: Option<&'static str>) -> String {
    match (request, then) {
        (Some(id), _) => format!("?request={id}"),
        (None, Some(name)) => format!("?then={name}"),
        (None, None) => String::new(),
    }
}

/// Where to go once signed in: the pending request, a named destination,
/// or the home page.
pub fn after_sign_in(provider: &Provider, request: Option<&str>, then: Option<&str>) -> String {
    let base = provider.config.base_path();
    match request {
        Some(id) => format!("{base}/authorize/resume?request={id}"),
        None => {
            let path = DESTINATIONS
                .iter()
                .find(|(name, _)| Some(*name) == then)
                .map_or("/", |(_, path)| path);
            format!("{base}{path}")
        }
    }
}
