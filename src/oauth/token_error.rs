//! Token endpoint errors (RFC 6749 §5.2, and RFC 8628 §3.5 for devices
//! polling). `Display` is the wire code; the web
//! layer maps them to HTTP in one place.

use super::error::ErrorCode;
use super::params::Params;
use crate::store::StoreError;

/// Why a token request failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Malformed request.
    #[error("invalid_request")]
    InvalidRequest(String),
    /// Client authentication failed; `basic` says whether it came through the
    /// Authorization header (then the answer carries `WWW-Authenticate`).
    #[error("invalid_client")]
    InvalidClient {
        /// A sentence for the developer.
        description: String,
        /// Whether Basic authentication was attempted.
        basic: bool,
    },
    /// The code, verifier or refresh token does not hold.
    #[error("invalid_grant")]
    InvalidGrant(String),
    /// The client may not use this grant.
    #[error("unauthorized_client")]
    UnauthorizedClient(String),
    /// Unknown grant type.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType(String),
    /// Scope not allowed.
    #[error("invalid_scope")]
    InvalidScope(String),
    /// The `resource` is invalid or not for this client (RFC 8707 §2).
    #[error("invalid_target")]
    InvalidTarget(String),
    /// The device's user has not decided yet: poll again (RFC 8628 §3.5).
    #[error("authorization_pending")]
    AuthorizationPending(String),
    /// The device polled too fast; its interval grew (RFC 8628 §3.5).
    #[error("slow_down")]
    SlowDown(String),
    /// The user refused the device (RFC 8628 §3.5).
    #[error("access_denied")]
    AccessDenied(String),
    /// The device code expired: start again (RFC 8628 §3.5).
    #[error("expired_token")]
    ExpiredToken(String),
    /// Our fault; the detail goes to the log only.
    #[error("server_error")]
    Server(String),
    /// The database is unreachable for now: 503, try again shortly.
    #[error("temporarily_unavailable")]
    Unavailable(String),
}

impl TokenError {
    /// A failed Basic authentication.
    pub fn basic(description: &str) -> TokenError {
        TokenError::InvalidClient {
            description: description.to_string(),
            basic: true,
        }
    }

    /// The one `token` parameter of an introspection or revocation request
    /// (RFC 7662 §2.1, RFC 7009 §2.1), with no parameter repeated.
    pub fn the_token(params: &Params) -> Result<&str, TokenError> {
        if let Some(duplicate) = params.first_defect() {
            return Err(TokenError::InvalidRequest(duplicate.to_string()));
        }
        params
            .get("token")
            .ok()
            .flatten()
            .ok_or_else(|| TokenError::InvalidRequest("token is missing".into()))
    }

    /// The wire code.
    pub fn code(&self) -> ErrorCode {
        match self {
            TokenError::InvalidRequest(_) => ErrorCode::InvalidRequest,
            TokenError::InvalidClient { .. } => ErrorCode::InvalidClient,
            TokenError::InvalidGrant(_) => ErrorCode::InvalidGrant,
            TokenError::UnauthorizedClient(_) => ErrorCode::UnauthorizedClient,
            TokenError::UnsupportedGrantType(_) => ErrorCode::UnsupportedGrantType,
            TokenError::InvalidScope(_) => ErrorCode::InvalidScope,
            TokenError::InvalidTarget(_) => ErrorCode::InvalidTarget,
            TokenError::AuthorizationPending(_) => ErrorCode::AuthorizationPending,
            TokenError::SlowDown(_) => ErrorCode::SlowDown,
            TokenError::AccessDenied(_) => ErrorCode::AccessDenied,
            TokenError::ExpiredToken(_) => ErrorCode::ExpiredToken,
            TokenError::Server(_) => ErrorCode::ServerError,
            TokenError::Unavailable(_) => ErrorCode::TemporarilyUnavailable,
        }
    }

    /// The `error_description` sent to the client (never internal detail).
    pub fn description(&self) -> &str {
        match self {
            TokenError::InvalidRequest(d)
            | TokenError::InvalidGrant(d)
            | TokenError::UnauthorizedClient(d)
            | TokenError::UnsupportedGrantType(d)
            | TokenError::InvalidScope(d)
            | TokenError::InvalidTarget(d)
            | TokenError::AuthorizationPending(d)
            | TokenError::SlowDown(d)
            | TokenError::AccessDenied(d)
            | TokenError::ExpiredToken(d) => d,
            TokenError::InvalidClient { description, .. } => description,
            TokenError::Server(_) => "the server could not complete the request",
            TokenError::Unavailable(_) => "the service is briefly unavailable; try again shortly",
        }
    }
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            TokenError::Unavailable(e.to_string())
        } else {
            TokenError::Server(e.to_string())
        }
    }
}

impl From<crate::crypto::key_set::KeyError> for TokenError {
    fn from(e: crate::crypto::key_set::KeyError) -> Self {
        TokenError::Server(e.to_string())
    }
}
