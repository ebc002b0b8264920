//! OAuth 2.0 and OpenID Connect protocol logic, free of HTTP types: plain
//! parameters in, values or typed RFC errors out.

pub mod access_token;
pub mod authorize;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod grant_client_credentials;
pub mod grant_code;
pub mod grant_refresh;
pub mod introspect;
pub mod issue;
pub mod logout;
pub mod next_step;
pub mod params;
pub mod pkce;
pub mod revoke;
pub mod token;
pub mod token_error;
pub mod tokens;
pub mod userinfo;
pub mod verified_tokens;
