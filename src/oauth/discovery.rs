//! Provider metadata: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2.
//! Only what is implemented is advertised.

use crate::config::Config;
use serde_json::{json, Value};

/// Scopes with a meaning of their own; APIs and custom scopes add more,
/// which the metadata (fixed at start-up) does not list.
pub const STANDARD_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "groups",
    "roles",
    "offline_access",
];

/// The metadata document, shared by both well-known URLs.
pub fn metadata(config: &Config) -> Value {
    json!({
        "issuer": config.issuer,
        "authorization_endpoint": config.endpoint("/authorize"),
        "token_endpoint": config.endpoint("/token"),
        "userinfo_endpoint": config.endpoint("/userinfo"),
        "jwks_uri": config.endpoint("/jwks"),
        "introspection_endpoint": config.endpoint("/introspect"),
        "revocation_endpoint": config.endpoint("/revoke"),
        "end_session_endpoint": config.endpoint("/end_session"),
        "scopes_supported": STANDARD_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": [
            "authorization_code", "refresh_token", "client_credentials",
            crate::model::DEVICE_CODE_GRANT
        ],
        "device_authorization_endpoint": config.endpoint("/device_authorization"),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [config.signing_alg],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr", "sid", "azp",
            "name", "preferred_username", "given_name", "family_name", "middle_name", "nickname",
            "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
            "email", "email_verified", "phone_number", "phone_number_verified", "address",
            "groups", "roles"
        ],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    })
}
