//! Per-client-address rate limits on the endpoints that guess at secrets:
//! the sign-in screens (password and TOTP) and the client-authenticated
//! back channel (token, introspection, revocation). A token bucket per
//! address and class, in memory: each replica limits what it sees. Over the
//! limit: 429 with `Retry-After` (RFC 6585 §4).

use crate::config::Config;
use crate::state::Provider;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Which budget a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Password and TOTP form posts.
    SignIn,
    /// Token, introspection and revocation requests.
    BackChannel,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of one server.
#[derive(Debug)]
pub struct RateLimiter {
    sign_in_per_minute: u32,
    back_channel_per_minute: u32,
    buckets: Mutex<HashMap<(Class, IpAddr), Bucket>>,
}

/// Buckets kept before idle ones are swept.
const SWEEP_AT: usize = 50_000;

impl RateLimiter {
    /// Limits from the configuration (0 turns a class off).
    pub fn new(config: &Config) -> RateLimiter {
        RateLimiter {
            sign_in_per_minute: config.rate_limit_sign_in,
            back_channel_per_minute: config.rate_limit_back_channel,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the bucket; `Err(seconds)` to wait when empty.
    pub fn take(&self, class: Class, address: IpAddr, now: Instant) -> Result<(), u64> {
        let per_minute = match class {
            Class::SignIn => self.sign_in_per_minute,
            Class::BackChannel => self.back_channel_per_minute,
        };
        if per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() > SWEEP_AT {
            // Full buckets carry no information: forget them.
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry((class, address)).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64)
        }
    }
}

fn class_of(req: &ServiceRequest) -> Option<Class> {
    if req.method() != Method::POST {
        return None;
    }
    let path = req.path();
    // Every form that checks a password or a second-factor code.
    if path.ends_with("/login")
        || path.ends_with("/login/totp")
        || path.ends_with("/account/password")
        || path.contains("/account/mfa/")
    {
        Some(Class::SignIn)
    } else if ["/token", "/introspect", "/revoke"]
        .iter()
        .any(|p| path.ends_with(p))
    {
        Some(Class::BackChannel)
    } else {
        None
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
    let verdict = match (class_of(&req), req.app_data::<web::Data<Provider>>()) {
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
            Class::SignIn => response.content_type("text/html; charset=utf-8").body(format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Slow down</title>\
                 </head><body><h1>Too many attempts</h1><p>Please wait {wait} seconds, then try again.</p>\
                 </body></html>"
            )),
        };
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter(sign_in: u32) -> RateLimiter {
        let config = Config {
            rate_limit_sign_in: sign_in,
            ..Config::default()
        };
        RateLimiter::new(&config)
    }

    #[test]
    fn a_bucket_empties_and_refills() {
        let l = limiter(6);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..6 {
            assert!(l.take(Class::SignIn, ip, t0).is_ok());
        }
        assert_eq!(l.take(Class::SignIn, ip, t0), Err(10), "one token per 10 s");
        assert!(
            l.take(Class::SignIn, "192.0.2.2".parse().unwrap(), t0)
                .is_ok(),
            "per address"
        );
        assert!(l
            .take(Class::SignIn, ip, t0 + Duration::from_secs(10))
            .is_ok());
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let l = limiter(0);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..1000 {
            assert!(l.take(Class::SignIn, ip, Instant::now()).is_ok());
        }
    }
}
