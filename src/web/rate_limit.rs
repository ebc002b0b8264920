//! Per-client-address rate limits on the endpoints that guess at secrets:
//! the sign-in screens (password, TOTP and passkeys) and the client-authenticated
//! back channel (token, introspection, revocation). A token bucket per
//! address and class, in memory: each replica limits what it sees. Over the
//! limit: 429 with `Retry-After` (RFC 6585 §4).

use crate::rate_limiter::Class;
use crate::state::Provider;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use std::net::IpAddr;
use std::time::Instant;

/// The class of a request, from its method and its path below the issuer's
/// base path. Exact paths: `/account/applications/revoke` is a screen, not
/// the back channel's `/revoke`.
fn class_of(method: &Method, path: &str) -> Option<Class> {
    // Coming back from an upstream provider: each one costs calls to it.
    if method == Method::GET && path.starts_with("/upstream/") && path.ends_with("/callback") {
        return Some(Class::SignIn);
    }
    if method != Method::POST {
        return None;
    }
    match path {
        // Every form that checks a password or a second-factor code.
        "/login" | "/login/totp" | "/account/password" => Some(Class::SignIn),
        // Sign-ups: each hashes a password and may send a message.
        "/register" | "/register/confirm" => Some(Class::SignIn),
        // Choosing a first password (argon2) and using a verification link.
        "/invitation" | "/verify-email" => Some(Class::SignIn),
        // Asking for a reset link (mail sent) and choosing a password (argon2).
        "/forgot-password" | "/reset-password" => Some(Class::SignIn),
        _ if path.starts_with("/account/mfa/") => Some(Class::SignIn),
        // Passkey ceremonies: each challenge asked for is a row written.
        _ if path.starts_with("/login/passkey") || path.starts_with("/account/passkeys") => {
            Some(Class::SignIn)
        }
        // Trips to upstream providers: each is a row written and a call out.
        _ if path.starts_with("/upstream/") || path.starts_with("/account/upstreams") => {
            Some(Class::SignIn)
        }
        // A device's decision; wrong user codes draw on a budget of their
        // own besides (`oauth::device_verification`).
        "/device" => Some(Class::SignIn),
        "/token" | "/introspect" | "/revoke" | "/device_authorization" => Some(Class::BackChannel),
        _ => None,
    }
}

/// The client's address: the peer, or with `trust_forwarded_for` the
/// right-most `X-Forwarded-For` entry (the one the trusted proxy added).
pub fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    address(req, trust_forwarded_for)
        .map(|a| a.to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn address(req: &HttpRequest, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.peer_addr().map(|a| a.ip())
}

/// Applies the limits before the request reaches its handler.
pub async fn apply(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let provider = req.app_data::<web::Data<Provider>>();
    // Most requests are GETs: the path is read only for a POST.
    let class = (req.method() == Method::POST)
        .then(|| super::routed_path(req.request()))
        .flatten()
        .and_then(|path| class_of(req.method(), &path));
    let verdict = match (class, provider) {
        (Some(class), Some(provider)) => {
            address(req.request(), provider.config.trust_forwarded_for).map(|address| {
                (
                    class,
                    provider.rate_limiter.take(class, address, Instant::now()),
                )
            })
        }
        _ => None,
    };
    if let Some((class, Err(wait))) = verdict {
        tracing::warn!(?class, retry_after = wait, "rate limit reached");
        let mut response = HttpResponse::build(StatusCode::TOO_MANY_REQUESTS);
        response
            .insert_header((header::RETRY_AFTER, wait.to_string()))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        let response = match class {
            Class::BackChannel => response.json(serde_json::json!({
                "error": "too_many_requests",
                "error_description": "too many requests from this address; retry later",
            })),
            Class::SignIn | Class::UserCode => response.content_type("text/html; charset=utf-8").body(format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Slow down</title>\
                 </head><body><h1>Too many attempts</h1><p>Please wait {wait} seconds, then try again.</p>\
                 </body></html>"
            )),
        };
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
