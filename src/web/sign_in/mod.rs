//! The sign-in screens: the password screen (`password`), passkeys
//! (`passkey`), signing in as anyone in test mode (`anyone`), the second-factor step (`totp`), the forced password change (`new_password`) and two-step
//! set-up (`mfa_enrol`), and a forgotten password (`forgot_password`,
//! `reset_password`). Each reads the form, calls the sign-in use case
//! (`crate::sign_in`) and renders its outcome; what they share is here: who
//! the browser is, the cookies a finished sign-in sets, and where the
//! browser goes next: the pending authorization request, or one of a fixed
//! set of internal pages named in `then`, so no link can turn a sign-in into
//! an open redirect.

pub mod anyone;
pub mod forgot_password;
pub mod invitation;
pub mod mfa_enrol;
pub mod new_password;
pub mod passkey;
pub mod password;
pub mod register;
pub mod reset_password;
pub mod totp;
pub mod upstream;

use super::cookies;
use super::onward::redirect;
use super::rate_limit::client_address;
use crate::account::{device_cookie, mfa};
use crate::model::UserRecord;
use crate::oauth::pending_requests::is_request_id;
use crate::sign_in::{Refusal, SignedIn, Visitor};
use crate::state::Provider;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

/// The browser as the sign-in use case sees it.
pub fn visitor(req: &HttpRequest, provider: &Provider) -> Visitor {
    Visitor {
        ip: client_address(req, provider.config.trust_forwarded_for),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect()),
        session: cookies::value(req, &provider.config, cookies::SESSION),
        device: cookies::value(req, &provider.config, cookies::DEVICE),
    }
}

/// The status of a refused attempt: 429 while the account must wait, 401
/// for a wrong answer.
pub fn refusal_status(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        Refusal::Wrong { .. } => StatusCode::UNAUTHORIZED,
        Refusal::TooLong => StatusCode::BAD_REQUEST,
    }
}

/// The answer to a finished sign-in: the session cookie, the device cookie
/// (long-lived, renewed by every sign-in), and on to the next screen.
pub fn signed_in(
    provider: &Provider,
    done: SignedIn,
    request: Option<&str>,
    then: Option<&'static str>,
) -> HttpResponse {
    let response = redirect(
        StatusCode::SEE_OTHER,
        &next_after_sign_in(provider, &done.user, request, then),
    );
    with_session_cookies(provider, response, done)
}

/// `response` with the cookies of a finished sign-in: the session's, and
/// the device's (long-lived, renewed by every sign-in).
pub fn with_session_cookies(
    provider: &Provider,
    mut response: HttpResponse,
    done: SignedIn,
) -> HttpResponse {
    let _ = response.add_cookie(&cookies::build(
        &provider.config,
        cookies::SESSION,
        done.cookie,
        None,
    ));
    let _ = response.add_cookie(&cookies::build(
        &provider.config,
        cookies::DEVICE,
        done.device,
        Some(device_cookie::LIFETIME),
    ));
    response
}

/// The answer to a first factor that opened a second-factor challenge: the
/// challenge's cookie, and on to the two-step page.
pub fn to_second_factor(
    provider: &Provider,
    challenge: String,
    request: Option<&str>,
    then: Option<&'static str>,
) -> HttpResponse {
    let base = provider.config.base_path();
    let next = format!("{base}/login/totp{}", screen_query(request, then));
    let mut response = redirect(StatusCode::SEE_OTHER, &next);
    let _ = response.add_cookie(&cookies::build(
        &provider.config,
        cookies::MFA,
        challenge,
        Some(mfa::CHALLENGE_TTL),
    ));
    response
}

/// The answer to a second factor that finished the sign-in: as
/// [`signed_in`], the challenge's cookie removed.
pub fn second_factor_given(
    provider: &Provider,
    done: SignedIn,
    request: Option<&str>,
    then: Option<&'static str>,
) -> HttpResponse {
    let mut response = signed_in(provider, done, request, then);
    let _ = response.add_cookie(&cookies::removal(&provider.config, cookies::MFA));
    response
}

/// Where a fresh sign-in goes: first to choose a password, if an admin set
/// the current one; then on as usual.
pub fn next_after_sign_in(
    provider: &Provider,
    user: &UserRecord,
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
const DESTINATIONS: &[(&str, &str)] = &[
    ("account", "/account"),
    ("admin", "/admin"),
    ("device", "/device"),
];

/// The `then` value, if it names a known destination.
pub fn destination(value: Option<&str>) -> Option<&'static str> {
    DESTINATIONS
        .iter()
        .find(|(name, _)| Some(*name) == value)
        .map(|(name, _)| *name)
}

/// What a sign-in screen carries on from the one before: the pending
/// request and the destination.
pub type Carried<'a> = (Option<&'a str>, Option<&'static str>);

/// The `request` and `then` a screen was given, read with `field`; `None`
/// when `request` is not shaped like a request id (the link has expired).
pub fn carried<'a>(field: impl Fn(&str) -> Option<&'a str>) -> Option<Carried<'a>> {
    let request = field("request");
    if request.is_some_and(|r| !is_request_id(r)) {
        return None;
    }
    Some((request, destination(field("then"))))
}

/// Back to the password screen, carrying the request or destination.
pub fn to_login(
    provider: &Provider,
    (request, then): Carried<'_>,
    status: StatusCode,
) -> HttpResponse {
    let base = provider.config.base_path();
    redirect(
        status,
        &format!("{base}/login{}", screen_query(request, then)),
    )
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
