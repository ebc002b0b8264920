//! Security headers on every response: a Content Security Policy without
//! inline scripts or styles, no framing (clickjacking), no MIME sniffing, no
//! referrer (URLs here can carry request ids), and HSTS on https issuers.

use crate::config::Config;
use actix_web::middleware::DefaultHeaders;

/// The policy: only Gatehouse's own scripts and styles, its own images and
/// https ones (an upstream provider's button icon); nothing may frame a
/// page. `form-action` is left open because the form_post response
/// and the redirect after consent go to the client's origin.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers added to every response that does not set them itself.
pub fn headers(config: &Config) -> DefaultHeaders {
    let mut headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"));
    if config.is_https() {
        headers = headers.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ));
    }
    headers
}
