//! The cookies Gatehouse sets: the browser session, the second-factor
//! challenge, the CSRF token and the device cookie that marks a browser
//! trusted for the accounts it signed in to. All HttpOnly and SameSite=Lax. On an https
//! issuer they are `__Host-` cookies (Secure, Path=/, no Domain), which a
//! sibling subdomain or a plain-http page cannot set or overwrite; on plain
//! http (local development) they are scoped to the issuer's path.

use crate::config::Config;
use crate::crypto::{constant_time_eq, random_token};
use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::HttpRequest;

/// The browser session cookie.
pub const SESSION: &str = "gatehouse_session";
/// The pending second-factor challenge.
pub const MFA: &str = "gatehouse_mfa";
/// The CSRF double-submit token.
pub const CSRF: &str = "gatehouse_csrf";
/// The browser's key to its WebAuthn ceremonies (`account::passkeys`):
/// only the browser that asked for a challenge can answer it.
pub const PASSKEY: &str = "gatehouse_passkey";
/// The browser's key to its trips to upstream providers
/// (`sign_in::upstream`): only the browser that left can come back.
pub const UPSTREAM: &str = "gatehouse_upstream";
/// The user code a signed-out browser brought to the device screen
/// (RFC 8628 §3.3.1 `verification_uri_complete`), kept across the sign-in.
pub const DEVICE_CODE: &str = "gatehouse_device_code";
/// The device cookie (`account::device_cookie`).
pub const DEVICE: &str = "gatehouse_device";

/// The name a cookie has on the wire for this deployment.
pub fn wire_name(config: &Config, name: &str) -> String {
    if config.is_https() {
        format!("__Host-{name}")
    } else {
        name.to_string()
    }
}

/// Builds a cookie with Gatehouse's attributes.
pub fn build(
    config: &Config,
    name: &'static str,
    value: String,
    max_age: Option<i64>,
) -> Cookie<'static> {
    let path = match config.base_path() {
        // `__Host-` cookies must have Path=/.
        _ if config.is_https() => "/".to_string(),
        p if p.is_empty() => "/".to_string(),
        p => p,
    };
    let mut cookie = Cookie::build(wire_name(config, name), value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.is_https())
        .finish();
    if let Some(seconds) = max_age {
        cookie.set_max_age(Duration::seconds(seconds));
    }
    cookie
}

/// A cookie that tells the browser to forget `name`.
pub fn removal(config: &Config, name: &'static str) -> Cookie<'static> {
    build(config, name, String::new(), Some(0))
}

/// The value of a cookie on the request.
pub fn value(req: &HttpRequest, config: &Config, name: &str) -> Option<String> {
    req.cookie(&wire_name(config, name))
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// The CSRF token for a form: the browser's existing one, or a new one that
/// the response must set (second element).
pub fn csrf_token(req: &HttpRequest, config: &Config) -> (String, Option<Cookie<'static>>) {
    match value(req, config, CSRF) {
        Some(token) if token.len() == 43 => (token, None),
        _ => {
            let token = random_token();
            let cookie = build(config, CSRF, token.clone(), None);
            (token, Some(cookie))
        }
    }
}

/// Whether a submitted form carries the browser's CSRF token.
pub fn csrf_ok(req: &HttpRequest, config: &Config, submitted: Option<&str>) -> bool {
    match (value(req, config, CSRF), submitted) {
        (Some(cookie), Some(form)) => constant_time_eq(&cookie, form),
        _ => false,
    }
}
