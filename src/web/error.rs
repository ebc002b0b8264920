//! The one HTTP error type. Every error of the layers below converts into
//! [`HttpError`], which becomes an answer in one of two shapes:
//! - [`HttpError::page`] for the screens: a plain sentence, a next step, and
//!   an error id that matches the log line; never a stack trace;
//! - [`HttpError::json`] for programs: RFC 6749 §5.2 JSON for the token,
//!   introspection and revocation endpoints (401 with `WWW-Authenticate`
//!   for a failed Basic authentication), RFC 6750 §3 for userinfo, and
//!   `{error, error_description}` for the admin API.
//!
//! One rule holds for both shapes: a database that is out of reach gives a
//! 503 with `Retry-After` ([`retry_later`]), anything else that broke a 500
//! whose detail goes to the log only. Every answer carries
//! `Cache-Control: no-store`.

use super::pages::Pages;
use crate::account::passkey_problem::Problem;
use crate::admin::AdminError;
use crate::failure::Failure;
use crate::oauth::token_error::TokenError;
use crate::oauth::userinfo::UserinfoError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde_json::json;

/// Seconds a client should wait after a 503.
const RETRY_AFTER: &str = "5";

/// Every way a request can fail, whatever layer it failed in.
#[derive(Debug)]
pub enum HttpError {
    /// The database is out of reach for a moment: 503.
    Unavailable(String),
    /// Something broke on our side: 500; the detail is logged, not shown.
    Internal(String),
    /// The request was refused: its status, a stable code for programs and
    /// a sentence for people.
    Refused {
        /// 4xx.
        status: StatusCode,
        /// Machine-readable code (`not_found`, `invalid_request`, …).
        code: &'static str,
        /// What went wrong, in words.
        message: String,
    },
    /// A token, introspection or revocation error (RFC 6749 §5.2).
    Token(TokenError),
    /// A protected-resource error at userinfo (RFC 6750 §3).
    Bearer(UserinfoError),
}

impl<F: Failure> From<F> for HttpError {
    fn from(failure: F) -> HttpError {
        classify(&failure)
    }
}

impl From<TokenError> for HttpError {
    fn from(e: TokenError) -> HttpError {
        HttpError::Token(e)
    }
}

impl From<UserinfoError> for HttpError {
    fn from(e: UserinfoError) -> HttpError {
        HttpError::Bearer(e)
    }
}

impl From<AdminError> for HttpError {
    fn from(e: AdminError) -> HttpError {
        let refused = |status, message: &String| HttpError::Refused {
            status,
            code: e.code(),
            message: message.clone(),
        };
        match &e {
            AdminError::NotFound(m) => refused(StatusCode::NOT_FOUND, m),
            AdminError::Conflict(m) => refused(StatusCode::CONFLICT, m),
            AdminError::Invalid(m) => refused(StatusCode::BAD_REQUEST, m),
            AdminError::EmailDisabled => refused(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
            AdminError::Store(s) => classify(s),
            AdminError::Account(a) => classify(a),
        }
    }
}

impl From<Problem> for HttpError {
    fn from(problem: Problem) -> HttpError {
        let status = match problem {
            Problem::Off | Problem::NotFound => StatusCode::NOT_FOUND,
            Problem::SignInAgain => StatusCode::FORBIDDEN,
            Problem::TooMany | Problem::Duplicate | Problem::LastWay => StatusCode::CONFLICT,
            Problem::Name | Problem::Expired | Problem::Malformed | Problem::Refused { .. } => {
                StatusCode::BAD_REQUEST
            }
        };
        HttpError::refused(status, problem.reason(), problem.sentence())
    }
}

/// Sorts a failure into an outage or a fault.
pub fn classify(failure: &dyn Failure) -> HttpError {
    if failure.is_unavailable() {
        HttpError::Unavailable(failure.to_string())
    } else {
        HttpError::Internal(failure.to_string())
    }
}

impl HttpError {
    /// A refusal with a stable code and a sentence.
    pub fn refused(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> HttpError {
        HttpError::Refused {
            status,
            code,
            message: message.into(),
        }
    }

    /// The answer for a screen.
    pub fn page(&self, pages: &Pages) -> HttpResponse {
        match self {
            HttpError::Unavailable(detail) => {
                let error_id = error_id();
                tracing::warn!(%error_id, detail, "database unavailable");
                let mut response = pages.error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    (
                        "Sign-in is unavailable for a moment",
                        "The service cannot reach its database right now. Please try again in a minute.",
                    ),
                    None,
                    &error_id,
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
                response
            }
            HttpError::Refused {
                status, message, ..
            } => pages.error(*status, "This request could not be completed", message),
            other => {
                let error_id = error_id();
                tracing::error!(%error_id, detail = %other.detail(), "internal error");
                pages.error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    (
                        "Something went wrong on our side",
                        "Please try again in a moment. If it keeps happening, tell your administrator the error id below.",
                    ),
                    None,
                    &error_id,
                )
            }
        }
    }

    /// The answer for a program.
    pub fn json(&self) -> HttpResponse {
        match self {
            HttpError::Unavailable(detail) => {
                tracing::warn!(detail, "database unavailable");
                retry_later().json(json!({
                    "error": "temporarily_unavailable",
                    "error_description": "the service is briefly unavailable; try again shortly",
                }))
            }
            HttpError::Internal(detail) => server_error(detail),
            HttpError::Refused {
                status,
                code,
                message,
            } => no_store(*status).json(json!({ "error": code, "error_description": message })),
            HttpError::Token(e) => token_error(e),
            HttpError::Bearer(e) => bearer_error(e),
        }
    }

    fn detail(&self) -> String {
        match self {
            HttpError::Unavailable(d) | HttpError::Internal(d) => d.clone(),
            HttpError::Refused { message, .. } => message.clone(),
            HttpError::Token(e) => format!("{e}: {}", e.description()),
            HttpError::Bearer(e) => e.to_string(),
        }
    }
}

/// The answer to a request body over `MAX_BODY`, in place of actix's
/// plain-text 413 (an `ErrorHandlers` handler on every route): a 413 in the
/// JSON shape for the endpoints programs call (`speaks_json`), the error
/// page for the screens.
pub fn too_large<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    let (req, _) = res.into_parts();
    let refusal = HttpError::refused(
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request",
        format!(
            "The request body is larger than {} KiB, more than any request here needs.",
            super::MAX_BODY / 1024
        ),
    );
    let pages = req.app_data::<actix_web::web::Data<Pages>>();
    let json = super::routed_path(&req).is_some_and(|path| super::speaks_json(&path));
    let response = match pages {
        Some(pages) if !json => refusal.page(pages),
        _ => refusal.json(),
    };
    Ok(actix_web::middleware::ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, response).map_into_right_body(),
    ))
}

/// A fresh error id, shown to the person and written to the log.
fn error_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A response that is never cached (RFC 6749 §5.1, RFC 7662 §2.2).
fn no_store(status: StatusCode) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    builder
}

/// The one rule for a database out of reach: 503, try again in a moment.
pub fn retry_later() -> HttpResponseBuilder {
    let mut builder = no_store(StatusCode::SERVICE_UNAVAILABLE);
    builder.insert_header((header::RETRY_AFTER, RETRY_AFTER));
    builder
}

/// 500 with an error id; the detail goes to the log only.
fn server_error(detail: &str) -> HttpResponse {
    let error_id = error_id();
    tracing::error!(%error_id, detail, "request failed");
    no_store(StatusCode::INTERNAL_SERVER_ERROR).json(json!({
        "error": "server_error",
        "error_description": format!("the request failed; error id {error_id}"),
    }))
}

/// RFC 6749 §5.2: 400, or 401 for client authentication (with
/// `WWW-Authenticate` when Basic was tried).
fn token_error(e: &TokenError) -> HttpResponse {
    let status = match e {
        TokenError::Server(detail) => return server_error(detail),
        TokenError::Unavailable(detail) => {
            return HttpError::Unavailable(detail.clone()).json();
        }
        TokenError::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    tracing::info!(error = %e, description = e.description(), "token request refused");
    let mut response = no_store(status);
    if let TokenError::InvalidClient { basic: true, .. } = e {
        response.insert_header((
            header::WWW_AUTHENTICATE,
            r#"Basic realm="gatehouse", charset="UTF-8""#,
        ));
    }
    response.json(json!({ "error": e.to_string(), "error_description": e.description() }))
}

/// RFC 6750 §3: the error in `WWW-Authenticate`, and in the body too.
fn bearer_error(e: &UserinfoError) -> HttpResponse {
    let (status, challenge) = match e {
        UserinfoError::Server(detail) => return server_error(detail),
        UserinfoError::Unavailable(detail) => {
            return HttpError::Unavailable(detail.clone()).json();
        }
        UserinfoError::Missing => (
            StatusCode::UNAUTHORIZED,
            r#"Bearer realm="gatehouse""#.to_string(),
        ),
        UserinfoError::InvalidRequest(d) => (
            StatusCode::BAD_REQUEST,
            format!(
                r#"Bearer realm="gatehouse", error="invalid_request", error_description="{}""#,
                quote_safe(d)
            ),
        ),
        UserinfoError::InvalidToken(d) => {
            tracing::info!(reason = %d, "userinfo refused a token");
            (
                StatusCode::UNAUTHORIZED,
                r#"Bearer realm="gatehouse", error="invalid_token", error_description="the access token is invalid or has expired""#.to_string(),
            )
        }
        UserinfoError::InsufficientScope => (
            StatusCode::FORBIDDEN,
            r#"Bearer realm="gatehouse", error="insufficient_scope", scope="openid""#.to_string(),
        ),
    };
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    match e {
        UserinfoError::Missing => response.finish(),
        other => response.json(json!({ "error": other.to_string() })),
    }
}

/// Keeps a description inside a quoted-string (RFC 6750 §3: no `"` or `\`).
fn quote_safe(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '"' && *c != '\\' && (' '..='~').contains(c))
        .collect()
}
