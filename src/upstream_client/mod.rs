//! Talking to upstream identity providers: the outbound half of "sign in
//! with another provider". Gatehouse is an OAuth 2.0 client here (RFC 6749
//! §4.1, the authorization code grant, always with PKCE, RFC 7636 S256),
//! and for an OpenID Connect upstream a relying party (OpenID Connect Core
//! §3.1; Discovery 1.0 §4).
//!
//! - [`discovery`] reads and caches an upstream's metadata and checks that
//!   it names the configured issuer (Discovery §4.3);
//! - [`jwks`] reads and caches its signing keys;
//! - [`id_token`] validates an ID token (Core §3.1.3.7: signature, `iss`,
//!   `aud`, `azp`, `exp`, `iat`, `nonce`);
//! - [`identity`] reads the local fields out of the upstream's claims by
//!   the upstream's claim mapping;
//! - this file exchanges the code (RFC 6749 §4.1.3) and reads userinfo
//!   (Core §5.3), each bounded in time and in size.
//!
//! Every call is bounded by `upstream_timeout_secs` (connect and total) and
//! answers of at most [`MAX_ANSWER`] bytes, so a slow or hostile upstream
//! ties up one sign-in, never a worker: all of it is asynchronous I/O.

pub mod discovery;
pub mod id_token;
pub mod identity;
pub mod jwks;

use crate::model::{UpstreamKind, UpstreamRecord};
use serde_json::{Map, Value};
use std::time::Duration;

/// The largest answer read from an upstream (metadata, keys, tokens,
/// userinfo).
pub const MAX_ANSWER: usize = 256 * 1024;

/// Why a call to an upstream failed. `Display` is for the log; `reason` is
/// the audit log's word for it.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Could not connect, or the connection broke.
    #[error("upstream unreachable: {0}")]
    Unreachable(String),
    /// No answer in time.
    #[error("upstream did not answer within {0} s")]
    Timeout(u64),
    /// An answer that is not what the protocol says (status, JSON, size).
    #[error("upstream answered badly: {0}")]
    BadAnswer(String),
    /// The metadata, the ID token or the authorization response names
    /// another issuer.
    #[error("upstream issuer mismatch: {0}")]
    WrongIssuer(String),
    /// The upstream's keys could not be read or used.
    #[error("upstream keys unusable: {0}")]
    Keys(String),
    /// The ID token failed a check; the reason says which.
    #[error("upstream ID token refused: {0}")]
    IdToken(&'static str),
    /// The upstream answered with an OAuth error.
    #[error("upstream answered {error}: {description}")]
    Refused {
        /// The RFC 6749 error code.
        error: String,
        /// Its description, if any.
        description: String,
    },
}

impl UpstreamError {
    /// The audit log's word for it.
    pub fn reason(&self) -> &'static str {
        match self {
            UpstreamError::Unreachable(_) => "unreachable",
            UpstreamError::Timeout(_) => "timeout",
            UpstreamError::BadAnswer(_) => "bad_answer",
            UpstreamError::WrongIssuer(_) => "wrong_issuer",
            UpstreamError::Keys(_) => "bad_keys",
            UpstreamError::IdToken(reason) => reason,
            UpstreamError::Refused { .. } => "error_response",
        }
    }
}

/// Where an upstream's endpoints are, from its metadata and the overrides
/// in its settings.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// The issuer an ID token and an RFC 9207 `iss` must name (OpenID
    /// Connect only).
    pub issuer: Option<String>,
    /// Where the browser goes.
    pub authorization: String,
    /// Where the code is exchanged.
    pub token: String,
    /// Where the user's claims are read.
    pub userinfo: Option<String>,
    /// Where the signing keys are.
    pub jwks_uri: Option<String>,
    /// RP-initiated logout, if advertised.
    pub end_session: Option<String>,
    /// Whether the upstream promises RFC 9207's `iss` in every answer.
    pub iss_parameter_supported: bool,
    /// Whether its token endpoint takes only `client_secret_post`.
    pub secret_in_body: bool,
}

/// What the token endpoint gave.
pub struct Tokens {
    /// For userinfo.
    pub access_token: String,
    /// The ID token (OpenID Connect), as sent.
    pub id_token: Option<String>,
}

/// The HTTP client and the caches every sign-in through an upstream shares.
#[derive(Debug)]
pub struct UpstreamClient {
    http: reqwest::Client,
    timeout: u64,
    metadata: discovery::Cache,
    keys: jwks::Cache,
}

impl UpstreamClient {
    /// A client whose calls each give up after `timeout` seconds; `Err`
    /// when TLS cannot be set up (the server does not start without it:
    /// a client without its bounds is no substitute).
    pub fn new(timeout: u64) -> Result<UpstreamClient, String> {
        // rustls needs one process-wide provider; another part of the
        // process may have installed it already, which is as good.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(timeout))
            .timeout(Duration::from_secs(timeout))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(UpstreamClient {
            http,
            timeout,
            metadata: discovery::Cache::default(),
            keys: jwks::Cache::default(),
        })
    }

    /// The upstream's endpoints: for OpenID Connect from its (cached)
    /// metadata, each overridable in its settings; for OAuth 2.0 from its
    /// settings alone.
    pub async fn endpoints(&self, upstream: &UpstreamRecord) -> Result<Endpoints, UpstreamError> {
        let mut endpoints = match upstream.kind {
            UpstreamKind::Oidc => {
                let issuer = upstream.issuer.as_deref().unwrap_or_default();
                discovery::endpoints(self, issuer).await?
            }
            UpstreamKind::Oauth2 => Endpoints::default(),
        };
        if let Some(url) = &upstream.authorization_endpoint {
            endpoints.authorization = url.clone();
        }
        if let Some(url) = &upstream.token_endpoint {
            endpoints.token = url.clone();
        }
        if let Some(url) = &upstream.userinfo_endpoint {
            endpoints.userinfo = Some(url.clone());
        }
        if endpoints.authorization.is_empty() || endpoints.token.is_empty() {
            return Err(UpstreamError::BadAnswer(
                "no authorization or token endpoint".into(),
            ));
        }
        Ok(endpoints)
    }

    /// Exchanges an authorization code (RFC 6749 §4.1.3, with the PKCE
    /// verifier of RFC 7636 §4.5). The client authenticates with HTTP Basic
    /// (§2.3.1), or in the body where the upstream takes only that, as
    /// OAuth 2.0-only servers such as GitHub do.
    pub async fn exchange(
        &self,
        upstream: &UpstreamRecord,
        endpoints: &Endpoints,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<Tokens, UpstreamError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        let in_body = endpoints.secret_in_body || upstream.kind == UpstreamKind::Oauth2;
        let mut request = self
            .http
            .post(&endpoints.token)
            .header(reqwest::header::ACCEPT, "application/json");
        if in_body {
            form.push(("client_id", &upstream.client_id));
            form.push(("client_secret", &upstream.client_secret));
        } else {
            // RFC 6749 §2.3.1: each part form-urlencoded before Basic.
            let encode =
                |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            request = request.basic_auth(
                encode(&upstream.client_id),
                Some(encode(&upstream.client_secret)),
            );
        }
        let answer = self.read_json(request.form(&form)).await?;
        let access_token = answer
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| UpstreamError::BadAnswer("token answer without access_token".into()))?;
        Ok(Tokens {
            access_token: access_token.to_string(),
            id_token: answer
                .get("id_token")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// The claims the userinfo endpoint gives for an access token (OpenID
    /// Connect Core §5.3; for OAuth 2.0, whatever JSON object it answers).
    pub async fn userinfo(
        &self,
        url: &str,
        access_token: &str,
    ) -> Result<Map<String, Value>, UpstreamError> {
        let request = self
            .http
            .get(url)
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/json");
        match self.read_json(request).await? {
            Value::Object(claims) => Ok(claims),
            _ => Err(UpstreamError::BadAnswer(
                "userinfo is not a JSON object".into(),
            )),
        }
    }

    /// Sends a request and reads a JSON answer of at most [`MAX_ANSWER`]
    /// bytes. An OAuth error object (RFC 6749 §5.2) becomes
    /// [`UpstreamError::Refused`].
    async fn read_json(&self, request: reqwest::RequestBuilder) -> Result<Value, UpstreamError> {
        let mut response = request.send().await.map_err(|e| self.failed(e))?;
        let status = response.status();
        if response
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER as u64)
        {
            return Err(UpstreamError::BadAnswer("answer too large".into()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failed(e))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_ANSWER {
                return Err(UpstreamError::BadAnswer("answer too large".into()));
            }
        }
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        if let Some(error) = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .and_then(Value::as_str)
        {
            let description = json
                .as_ref()
                .and_then(|j| j.get("error_description"))
                .and_then(Value::as_str)
                .unwrap_or("");
            return Err(UpstreamError::Refused {
                error: error.chars().take(100).collect(),
                description: description.chars().take(300).collect(),
            });
        }
        if !status.is_success() {
            return Err(UpstreamError::BadAnswer(format!("HTTP {status}")));
        }
        json.ok_or_else(|| UpstreamError::BadAnswer("answer is not JSON".into()))
    }

    /// A transport failure, as an [`UpstreamError`].
    fn failed(&self, e: reqwest::Error) -> UpstreamError {
        if e.is_timeout() {
            UpstreamError::Timeout(self.timeout)
        } else {
            // Without the URL: it may carry a query worth keeping out of
            // logs, and the upstream's id says which it was.
            UpstreamError::Unreachable(e.without_url().to_string())
        }
    }
}

/// Whether `url` may be an upstream endpoint: https, or http on a loopback
/// host (a provider on the same machine, as in development and tests).
pub fn acceptable_url(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    if parsed.fragment().is_some() || !parsed.has_host() {
        return false;
    }
    match parsed.scheme() {
        "https" => true,
        "http" => matches!(
            parsed.host(),
            Some(url::Host::Domain("localhost"))
                | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
                | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_acceptable() {
        assert!(acceptable_url("https://accounts.google.com"));
        assert!(acceptable_url("http://127.0.0.1:9000/x"));
        assert!(acceptable_url("http://localhost:9000"));
        assert!(!acceptable_url("http://idp.example.com"));
        assert!(!acceptable_url("ftp://idp.example.com"));
        assert!(!acceptable_url("https://idp.example.com/#frag"));
        assert!(!acceptable_url("not a url"));
    }
}
