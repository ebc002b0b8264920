//! The routes of test mode (`crate::test_mode`): `POST /test/v1/tokens`,
//! `GET` and `POST /test/v1/clock`, `POST /test/v1/reset`. They are
//! registered only when the server started in test mode; otherwise every
//! one is a 404 like any unknown path. Bodies are JSON; refusals are
//! `{error, error_description}` with a 400.

use super::admin::api::body;
use super::error::HttpError;
use super::rate_limit::client_address;
use crate::state::Provider;
use crate::test_mode::{self, clock::ClockReading, tokens::MintRequest, TestModeError};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

/// Adds the routes (called only in test mode).
pub fn routes(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .route("/test/v1/tokens", web::post().to(mint))
        .route("/test/v1/clock", web::get().to(clock))
        .route("/test/v1/clock", web::post().to(move_clock))
        .route("/test/v1/reset", web::post().to(reset))
}

impl From<TestModeError> for HttpError {
    fn from(e: TestModeError) -> HttpError {
        match e {
            TestModeError::Off => {
                HttpError::refused(StatusCode::NOT_FOUND, "not_found", "test mode is off")
            }
            TestModeError::Invalid(why) => {
                HttpError::refused(StatusCode::BAD_REQUEST, "invalid_request", why)
            }
            TestModeError::Store(s) => super::error::classify(&s),
            TestModeError::Fault(why) => HttpError::Internal(why),
        }
    }
}

/// The answer, or the error as JSON.
fn answer(result: Result<HttpResponse, HttpError>) -> HttpResponse {
    result.unwrap_or_else(|e| e.json())
}

fn ok(value: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(value)
}

fn ip(req: &HttpRequest, provider: &Provider) -> String {
    client_address(req, provider.config.trust_forwarded_for)
}

/// POST /test/v1/tokens: `{"token", "expires_at"}`.
async fn mint(req: HttpRequest, provider: web::Data<Provider>, bytes: web::Bytes) -> HttpResponse {
    let request: MintRequest = match body(&req, &bytes) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    answer(
        test_mode::tokens::mint(&provider, &ip(&req, &provider), request)
            .await
            .map(|minted| ok(json!({ "token": minted.token, "expires_at": minted.expires_at })))
            .map_err(HttpError::from),
    )
}

fn reading(r: ClockReading) -> HttpResponse {
    ok(json!({ "offset": r.offset, "now": r.now }))
}

/// GET /test/v1/clock: `{"offset", "now"}`.
async fn clock(provider: web::Data<Provider>) -> HttpResponse {
    answer(
        test_mode::clock::read(&provider)
            .map(reading)
            .map_err(HttpError::from),
    )
}

/// What `POST /test/v1/clock` takes: one of the two.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    #[serde(default)]
    advance: Option<i64>,
    #[serde(default)]
    reset: bool,
}

/// POST /test/v1/clock: `{"advance": seconds}` or `{"reset": true}`.
async fn move_clock(
    req: HttpRequest,
    provider: web::Data<Provider>,
    bytes: web::Bytes,
) -> HttpResponse {
    let change: ClockChange = match body(&req, &bytes) {
        Ok(change) => change,
        Err(refusal) => return *refusal,
    };
    let ip = ip(&req, &provider);
    let moved = match (change.advance, change.reset) {
        (Some(seconds), false) => test_mode::clock::advance(&provider, &ip, seconds).await,
        (None, true) => test_mode::clock::reset(&provider, &ip).await,
        _ => {
            return HttpError::refused(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "send {\"advance\": seconds} or {\"reset\": true}",
            )
            .json()
        }
    };
    answer(moved.map(reading).map_err(HttpError::from))
}

/// POST /test/v1/reset: `{"clients", "users"}` loaded from the seed.
async fn reset(req: HttpRequest, provider: web::Data<Provider>) -> HttpResponse {
    let done = test_mode::reset::reset(&provider, &ip(&req, &provider)).await;
    answer(
        done.map(|done| {
            ok(json!({
                "status": "reset",
                "clients": done.clients,
                "users": done.users,
                "clock_offset": 0,
            }))
        })
        .map_err(HttpError::from),
    )
}
