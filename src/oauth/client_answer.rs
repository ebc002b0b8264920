//! The answer that goes back to the client at the end of an authorization
//! request: a code or an error, with `state` and RFC 9207 `iss`, delivered
//! in the query of the redirect URI (RFC 6749 §4.1.2) or by form post
//! (OAuth 2.0 Form Post Response Mode). The web layer delivers it.

use super::authorize::{AuthorizeRequest, ErrorRedirect, ResponseMode};

/// Parameters for the client's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAnswer {
    /// The validated redirect URI.
    pub redirect_uri: String,
    /// How to deliver it.
    pub mode: ResponseMode,
    /// The parameters, in order.
    pub params: Vec<(&'static str, String)>,
}

impl ClientAnswer {
    /// A code for `request`.
    pub fn code(request: &AuthorizeRequest, code: String, issuer: &str) -> ClientAnswer {
        let mut params = vec![("code", code)];
        if let Some(state) = &request.state {
            params.push(("state", state.clone()));
        }
        params.push(("iss", issuer.to_string()));
        ClientAnswer {
            redirect_uri: request.redirect_uri.clone(),
            mode: request.response_mode,
            params,
        }
    }

    /// An error (RFC 6749 §4.1.2.1).
    pub fn error(e: &ErrorRedirect, issuer: &str) -> ClientAnswer {
        tracing::info!(error = %e.error, description = %e.description, "authorization request refused");
        let mut params = vec![
            ("error", e.error.to_string()),
            ("error_description", e.description.clone()),
        ];
        if let Some(state) = &e.state {
            params.push(("state", state.clone()));
        }
        params.push(("iss", issuer.to_string()));
        ClientAnswer {
            redirect_uri: e.redirect_uri.clone(),
            mode: e.response_mode,
            params,
        }
    }
}
