//! OAuth 2.0 and OpenID Connect protocol logic, free of HTTP types: plain
//! parameters in, values or typed RFC errors out.

pub mod authorize;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod grant_code;
pub mod params;
pub mod pkce;
pub mod token;
pub mod token_error;
pub mod tokens;
pub mod userinfo;
