//! The authorization endpoint (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2,
//! RFC 7636 PKCE, RFC 9207 `iss`, RFC 8707 `resource`, OAuth 2.0 Form Post
//! Response Mode).
//!
//! Validation happens in RFC order: until client_id and redirect_uri are known
//! good, errors are shown to the user and never redirected (§4.1.2.1, so the
//! endpoint is no open redirector); after that, errors go back to the client,
//! except for a `state` too long to echo (see `validate`). Every parameter
//! kept with the request has a maximum length (`crate::model::limits`).

use super::error::ErrorCode;
use super::params::Params;
use crate::model::{limits, ApiRecord, ClientRecord};
use serde::{Deserialize, Serialize};

/// How the response reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// Parameters in the redirect's query string.
    Query,
    /// An auto-submitting HTML form POSTed to the redirect URI.
    FormPost,
}

/// A validated authorization request, kept while the user signs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    /// The client.
    pub client_id: String,
    /// Where the answer goes (exactly as registered).
    pub redirect_uri: String,
    /// Requested scopes, each allowed for the client.
    pub scopes: Vec<String>,
    /// Opaque client value echoed back.
    pub state: Option<String>,
    /// Replay protection for the ID token.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// `prompt` values.
    pub prompt: Vec<String>,
    /// Maximum authentication age in seconds.
    pub max_age: Option<i64>,
    /// Suggested username.
    pub login_hint: Option<String>,
    /// How to answer.
    pub response_mode: ResponseMode,
    /// With `prompt=login`: the sign-in (the session's `cookie_hash`) that
    /// existed when the request came in, which a fresh sign-in must
    /// replace. Not the `sid`, which a re-authentication keeps.
    #[serde(default)]
    pub reauth_of: Option<String>,
    /// When the request came in (unix seconds): a sign-in after it is fresh
    /// enough for any `max_age`.
    #[serde(default)]
    pub requested_at: i64,
    /// The API the access token is for (RFC 8707), if one was named.
    #[serde(default)]
    pub resource: Option<String>,
    /// The upstream provider to send the person to instead of the sign-in
    /// page (`idp_hint`, or Keycloak's name for it, `kc_idp_hint`), when it
    /// names an enabled one.
    #[serde(default)]
    pub idp_hint: Option<String>,
}

impl AuthorizeRequest {
    /// Whether `prompt` includes `value`.
    pub fn prompts(&self, value: &str) -> bool {
        self.prompt.iter().any(|p| p == value)
    }

    /// What consent to this request is recorded as: its scopes, with an
    /// API's own scopes qualified by the API (`<resource>#<scope>`; an API
    /// identifier has no fragment, so the first `#` ends it), so that
    /// agreeing to one API's `read` is not agreeing to another's.
    pub fn consent_keys(&self, client: &ClientRecord) -> Vec<String> {
        self.scopes
            .iter()
            .map(|s| match &self.resource {
                Some(api) if !client.scopes.contains(s) => format!("{api}#{s}"),
                _ => s.clone(),
            })
            .collect()
    }

    /// Whether this is an OpenID Connect request (scope includes `openid`).
    pub fn is_openid(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }

    /// An error to send back to the client for this request.
    pub fn error(&self, error: ErrorCode, description: impl Into<String>) -> ErrorRedirect {
        ErrorRedirect {
            redirect_uri: self.redirect_uri.clone(),
            response_mode: self.response_mode,
            error,
            description: description.into(),
            state: self.state.clone(),
        }
    }
}

/// An error that is safe to send to the client's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    /// Validated redirect URI.
    pub redirect_uri: String,
    /// How to deliver it.
    pub response_mode: ResponseMode,
    /// The code.
    pub error: ErrorCode,
    /// A sentence for the developer.
    pub description: String,
    /// The request's state.
    pub state: Option<String>,
}

/// Why an authorization request was refused.
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: tell the user, do not redirect.
    Untrusted(String),
    /// Tell the client.
    Redirect(ErrorRedirect),
}

/// The `client_id` of the request, or why it cannot be trusted (shown to
/// the user, never redirected).
pub fn client_id(params: &Params) -> Result<&str, String> {
    match params.get("client_id") {
        Ok(Some(id)) if id.len() > limits::CLIENT_ID => Err(format!(
            "The request's client_id is longer than {} bytes, so it names no application.",
            limits::CLIENT_ID
        )),
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(
            "The request does not say which application is asking (client_id is missing).".into(),
        ),
        Err(_) => {
            Err("The request names the application more than once (client_id is repeated).".into())
        }
    }
}

/// The API a request's `resource` names (see [`super::resource`]): none,
/// the API, or why it was refused (`invalid_target`).
pub type Target<'a> = Result<Option<&'a ApiRecord>, String>;

/// Validates a request from a known client (`None` when the id is unknown)
/// for `target`, the API its `resource` names.
pub fn validate(
    params: &Params,
    client: Option<&ClientRecord>,
    target: Target<'_>,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let client = client.ok_or_else(|| {
        AuthorizeError::Untrusted(
            "The application is not registered with this sign-in service.".into(),
        )
    })?;
    let redirect_uri = match params.get("redirect_uri") {
        Ok(Some(uri)) if uri.len() > limits::REDIRECT_URI => {
            return Err(AuthorizeError::Untrusted(format!(
                "The request's return address is longer than {} bytes (redirect_uri is too long).",
                limits::REDIRECT_URI
            )))
        }
        Ok(Some(uri)) if client.redirect_uris.iter().any(|r| r == uri) => uri.to_string(),
        Ok(Some(_)) => {
            return Err(AuthorizeError::Untrusted(
                "The application asked to return to an address it has not registered (redirect_uri does not match)."
                    .into(),
            ))
        }
        Ok(None) => {
            return Err(AuthorizeError::Untrusted(
                "The request does not say where to return (redirect_uri is missing).".into(),
            ))
        }
        Err(_) => {
            return Err(AuthorizeError::Untrusted(
                "The request gives more than one return address (redirect_uri is repeated).".into(),
            ))
        }
    };

    // From here on, the client and its redirect URI are trusted.
    let state = params.get("state").ok().flatten();
    if state.is_some_and(|s| s.len() > limits::STATE) {
        // RFC 6749 §4.1.2.1 makes `state` REQUIRED in an error response,
        // with "the exact value received from the client", so no error
        // redirect can leave it out, and echoing an oversized one is what
        // the limit refuses (it would also be kept with the pending
        // sign-in). §4.1.2.1 lets the server inform the resource owner
        // instead of redirecting; so, as for a bad redirect_uri, the user
        // gets the error page and the client gets nothing.
        return Err(AuthorizeError::Untrusted(format!(
            "The application sent a state value longer than {} bytes, which is more than this sign-in service keeps.",
            limits::STATE
        )));
    }
    let state = state.map(str::to_string);
    let response_mode = match params.get("response_mode") {
        Ok(None) | Ok(Some("query")) => Ok(ResponseMode::Query),
        Ok(Some("form_post")) => Ok(ResponseMode::FormPost),
        Ok(Some(other)) => Err(format!("response_mode {other:?} is not supported")),
        Err(d) => Err(d.to_string()),
    };
    let mut request = AuthorizeRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        scopes: Vec::new(),
        state,
        nonce: None,
        code_challenge: None,
        prompt: Vec::new(),
        max_age: None,
        login_hint: None,
        response_mode: ResponseMode::Query,
        reauth_of: None,
        requested_at: 0,
        resource: None,
        idp_hint: None,
    };
    let fail = |request: &AuthorizeRequest, code: ErrorCode, text: String| {
        Err(AuthorizeError::Redirect(request.error(code, text)))
    };
    match response_mode {
        Ok(mode) => request.response_mode = mode,
        Err(text) => return fail(&request, ErrorCode::InvalidRequest, text),
    }
    // Before the duplicate check: a repeated `resource` is RFC 8707's
    // `invalid_target`, not a malformed request.
    let api = match target {
        Ok(api) => api,
        Err(why) => return fail(&request, ErrorCode::InvalidTarget, why),
    };
    request.resource = api.map(|a| a.identifier.clone());
    if let Some(duplicate) = params.first_defect() {
        return fail(&request, ErrorCode::InvalidRequest, duplicate.to_string());
    }
    // Every remaining parameter is known to appear at most once.
    let get = |name: &str| params.get(name).ok().flatten();
    let too_long = limits::first_too_long(&[
        ("scope", get("scope"), limits::SCOPE),
        ("nonce", get("nonce"), limits::NONCE),
        ("login_hint", get("login_hint"), limits::LOGIN_HINT),
        (
            "code_challenge",
            get("code_challenge"),
            limits::CODE_CHALLENGE,
        ),
    ]);
    if let Some((name, limit)) = too_long {
        return fail(
            &request,
            ErrorCode::InvalidRequest,
            format!("{name} is longer than {limit} bytes"),
        );
    }

    if get("request").is_some() {
        return fail(
            &request,
            ErrorCode::RequestNotSupported,
            "request objects are not supported".into(),
        );
    }
    if get("request_uri").is_some() {
        return fail(
            &request,
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported".into(),
        );
    }
    match get("response_type") {
        Some("code") => {}
        Some(other) => {
            return fail(
                &request,
                ErrorCode::UnsupportedResponseType,
                format!("response_type {other:?} is not supported; use \"code\""),
            )
        }
        None => {
            return fail(
                &request,
                ErrorCode::InvalidRequest,
                "response_type is missing".into(),
            )
        }
    }
    if !client.allows_grant("authorization_code") {
        return fail(
            &request,
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow".into(),
        );
    }

    let Some(scope) = get("scope") else {
        return fail(&request, ErrorCode::InvalidScope, "scope is missing".into());
    };
    let mut scopes: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !super::resource::scope_allowed(client, api, s) {
            let why = match api {
                Some(api) => format!(
                    "scope {s:?} is neither allowed for this client nor a scope of {}",
                    api.identifier
                ),
                None => format!("scope {s:?} is not allowed for this client"),
            };
            return fail(&request, ErrorCode::InvalidScope, why);
        }
        if !scopes.iter().any(|have| have == s) {
            scopes.push(s.to_string());
        }
    }
    // offline_access only means something to a client that may refresh.
    if !client.allows_grant("refresh_token") {
        scopes.retain(|s| s != "offline_access");
    }
    if scopes.is_empty() {
        return fail(&request, ErrorCode::InvalidScope, "scope is empty".into());
    }
    request.scopes = scopes;

    match (get("code_challenge"), get("code_challenge_method")) {
        (Some(challenge), Some("S256")) => {
            if !super::pkce::is_valid_challenge(challenge) {
                return fail(
                    &request,
                    ErrorCode::InvalidRequest,
                    "code_challenge must be a base64url SHA-256 digest (43 characters)".into(),
                );
            }
            request.code_challenge = Some(challenge.to_string());
        }
        (Some(_), None) | (Some(_), Some("plain")) | (None, Some("plain")) => {
            return fail(
                &request,
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256; plain is not accepted".into(),
            )
        }
        (_, Some(other)) if other != "S256" => {
            return fail(
                &request,
                ErrorCode::InvalidRequest,
                format!("code_challenge_method {other:?} is not supported; use S256"),
            )
        }
        (None, Some(_)) => {
            return fail(
                &request,
                ErrorCode::InvalidRequest,
                "code_challenge is missing".into(),
            )
        }
        (_, _) if client.is_public() => {
            return fail(
                &request,
                ErrorCode::InvalidRequest,
                "public clients must use PKCE (code_challenge with method S256)".into(),
            )
        }
        _ => {}
    }

    request.nonce = get("nonce").map(str::to_string);
    request.login_hint = get("login_hint").map(str::to_string);
    // A hint, not a demand: one that names no upstream is ignored.
    request.idp_hint = get("idp_hint")
        .or_else(|| get("kc_idp_hint"))
        .filter(|h| crate::model::is_upstream_id(h))
        .map(str::to_string);
    if let Some(prompt) = get("prompt") {
        let values: Vec<String> = prompt
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if let Some(bad) = values
            .iter()
            .find(|v| !matches!(v.as_str(), "none" | "login" | "consent"))
        {
            return fail(
                &request,
                ErrorCode::InvalidRequest,
                format!("prompt value {bad:?} is not supported"),
            );
        }
        if values.iter().any(|v| v == "none") && values.len() > 1 {
            return fail(
                &request,
                ErrorCode::InvalidRequest,
                "prompt=none cannot be combined with other values".into(),
            );
        }
        request.prompt = values;
    }
    if let Some(max_age) = get("max_age") {
        match max_age.parse::<i64>() {
            Ok(n) if n >= 0 => request.max_age = Some(n),
            _ => {
                return fail(
                    &request,
                    ErrorCode::InvalidRequest,
                    "max_age must be a non-negative whole number".into(),
                )
            }
        }
    }
    Ok(request)
}

/// Fixtures shared by the authorize and next-step unit tests.
#[cfg(test)]
#[path = "authorize_tests.rs"]
pub(crate) mod tests;
