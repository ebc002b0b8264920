//! Operations endpoints and the request middleware: `/healthz` (the process
//! is up), `/readyz` (database reachable, signing key loaded), `/metrics`
//! (Prometheus), and a request id on every log line and response.

use crate::health;
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
    let found = health::readiness(&provider).await;
    let ready = found.ready();
    let body = json!({
        "status": if ready { "ready" } else if found.starting { "starting" } else { "unavailable" },
        "database": match &found.database { Ok(()) => "ok".to_string(), Err(e) => e.clone() },
        "signing_key": found.signing_key,
        "test_mode": provider.test_mode(),
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
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(health::metrics_text(&provider))
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
