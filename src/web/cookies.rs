//! The cookies Gatehouse sets: the browser session, the second-factor
//! challenge and the CSRF token. All HttpOnly and SameSite=Lax, scoped to the
//! issuer's path, and Secure when the issuer is https.

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

/// Builds a cookie with Gatehouse's attributes.
pub fn build(
    config: &Config,
    name: &'static str,
    value: String,
    max_age: Option<i64>,
) -> Cookie<'static> {
    let path = match config.base_path() {
        p if p.is_empty() => "/".to_string(),
        p => p,
    };
    let mut cookie = Cookie::build(name, value)
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
pub fn value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// The CSRF token for a form: the browser's existing one, or a new one that
/// the response must set (second element).
pub fn csrf_token(req: &HttpRequest, config: &Config) -> (String, Option<Cookie<'static>>) {
    match value(req, CSRF) {
        Some(token) if token.len() == 43 => (token, None),
        _ => {
            let token = random_token();
            let cookie = build(config, CSRF, token.clone(), None);
            (token, Some(cookie))
        }
    }
}

/// Whether a submitted form carries the browser's CSRF token.
pub fn csrf_ok(req: &HttpRequest, submitted: Option<&str>) -> bool {
    match (value(req, CSRF), submitted) {
        (Some(cookie), Some(form)) => constant_time_eq(&cookie, form),
        _ => false,
    }
}
