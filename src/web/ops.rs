//! Operations endpoints and the request middleware: `/healthz` (the process
//! is up), `/readyz` (database reachable, signing key loaded), `/metrics`
//! (Prometheus), and a request id on every log line and response.

use crate::state::Provider;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use serde_json::json;
use std::time::Instant;
use tracing::Instrument;

/// The response header that carries the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// GET /healthz: answers as long as the process serves requests.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "status": "ok" }))
}

/// GET /readyz: ready to serve sign-ins: the database answers and a signing
/// key is loaded. 503 otherwise, so a load balancer routes around it.
pub async fn readyz(provider: web::Data<Provider>) -> HttpResponse {
    // A load balancer wants a quick answer, not one after the pool's
    // acquire timeout.
    let database = match tokio::time::timeout(
        std::time::Duration::from_secs(2),
        provider.store.ping(),
    )
    .await
    {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("the database did not answer within 2 s".to_string()),
    };
    let signing_key = provider.keys().signing.kid.clone();
    let starting = provider.is_starting();
    let ready = database.is_ok() && !signing_key.is_empty() && !starting;
    let body = json!({
        "status": if ready { "ready" } else if starting { "starting" } else { "unavailable" },
        "database": match &database { Ok(()) => "ok".to_string(), Err(e) => e.clone() },
        "signing_key": signing_key,
    });
    let mut response = if ready {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

/// GET /metrics: Prometheus text format.
pub async fn metrics(provider: web::Data<Provider>) -> HttpResponse {
    let (open, idle) = provider.store.pool_stats();
    provider.metrics.db_connections.set(i64::from(open));
    provider.metrics.db_idle_connections.set(idle as i64);
    let cache = provider.store.read_cache_stats();
    for (result, total) in [
        ("hit", cache.hits),
        ("miss", cache.misses),
        ("bypassed", cache.bypassed),
    ] {
        let counter = provider
            .metrics
            .read_cache_lookups
            .with_label_values(&[result]);
        counter.inc_by(total.saturating_sub(counter.get()));
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(provider.metrics.render())
}

/// A caller-supplied request id is kept when it is short and plain (so a
/// proxy's id carries through); anything else gets a fresh one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// Runs every request inside a span carrying its id (so every log line it
/// causes names it), returns the id in `X-Request-Id`, logs completion and
/// records the latency by route pattern. Query strings are never logged:
/// they can carry codes and request ids.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&req);
    let method = req.method().to_string();
    let span =
        tracing::info_span!("request", request_id = %id, method = %method, path = %req.path());
    let provider = req.app_data::<web::Data<Provider>>().cloned();
    let started = Instant::now();
    async move {
        let mut response = next.call(req).await?;
        let elapsed = started.elapsed();
        let status = response.status().as_u16();
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(HeaderName::from_static(REQUEST_ID), value);
        }
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_string());
        if let Some(provider) = provider {
            provider
                .metrics
                .http_latency
                .with_label_values(&[route.as_str(), method.as_str(), &status.to_string()])
                .observe(elapsed.as_secs_f64());
        }
        tracing::info!(status, route = %route, elapsed_us = elapsed.as_micros() as u64, "request completed");
        Ok(response)
    }
    .instrument(span)
    .await
}
