//! OAuth 2.0 and OpenID Connect protocol logic, free of HTTP types: plain
//! parameters in, values or typed RFC errors out.

pub mod authorize;
pub mod backchannel_delivery;
pub mod claims;
pub mod client_answer;
pub mod client_auth;
pub mod code_issuing;
pub mod consent;
pub mod device_authorization;
pub mod device_verification;
pub mod discovery;
pub mod error;
pub mod grant_client_credentials;
pub mod grant_code;
pub mod grant_device_code;
pub mod grant_refresh;
pub mod introspect;
pub mod journey;
pub mod logout;
pub mod logout_token;
pub mod next_step;
pub mod params;
pub mod pending_requests;
pub mod pkce;
pub mod resource;
pub mod revoke;
pub mod scopes;
pub mod token_endpoint;
pub mod token_error;
pub mod token_issuing;
pub mod token_minting;
pub mod token_response;
pub mod token_validation;
pub mod user_code;
pub mod user_grant;
pub mod userinfo;
