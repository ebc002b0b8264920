//! The successful token response (RFC 6749 §5.1, OpenID Connect Core
//! §3.1.3.3) every grant returns.

use serde::Serialize;

/// A successful token response (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// RFC 9068 JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Access token lifetime in seconds.
    pub expires_in: i64,
    /// Granted scopes (omitted when none).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// Present for OpenID Connect requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Present when `offline_access` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The user the tokens are for (none for client_credentials); for the
    /// audit log, never sent.
    #[serde(skip)]
    pub user_id: Option<String>,
}
