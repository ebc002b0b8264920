//! OAuth 2.0 error codes (RFC 6749 §4.1.2.1 and §5.2, OpenID Connect Core
//! §3.1.2.6, RFC 6750 §3.1, RFC 8707 §2, RFC 8628 §3.5). `Display` is the wire code.

use std::fmt;

/// An error code as sent on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Malformed or missing parameter.
    InvalidRequest,
    /// Client authentication failed.
    InvalidClient,
    /// Code, verifier or refresh token is invalid.
    InvalidGrant,
    /// The client may not use this grant or response type.
    UnauthorizedClient,
    /// Grant type not supported.
    UnsupportedGrantType,
    /// Response type not supported.
    UnsupportedResponseType,
    /// Scope unknown or not allowed.
    InvalidScope,
    /// The `resource` is invalid, unknown or not for this client (RFC 8707 §2).
    InvalidTarget,
    /// The user or server denied the request.
    AccessDenied,
    /// Something broke on our side.
    ServerError,
    /// Briefly unable to serve (RFC 6749 §4.1.2.1).
    TemporarilyUnavailable,
    /// The user must sign in, but `prompt=none` forbids it.
    LoginRequired,
    /// Consent is needed, but `prompt=none` forbids it.
    ConsentRequired,
    /// Some interaction is needed, but `prompt=none` forbids it.
    InteractionRequired,
    /// `request` objects are not supported.
    RequestNotSupported,
    /// `request_uri` is not supported.
    RequestUriNotSupported,
    /// Bearer token missing its mark (RFC 6750).
    InvalidToken,
    /// Bearer token lacks a needed scope (RFC 6750).
    InsufficientScope,
    /// The device's user has not decided yet (RFC 8628 §3.5).
    AuthorizationPending,
    /// The device polls too fast (RFC 8628 §3.5).
    SlowDown,
    /// The device code expired (RFC 8628 §3.5).
    ExpiredToken,
}

impl ErrorCode {
    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
