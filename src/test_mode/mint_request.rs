//! What a test asks `POST /test/v1/tokens` for: the request's fields, the
//! kinds of token, and an audience given as one string or a list (RFC 7519
//! §4.1.3). The minting is `tokens`.

use serde::Deserialize;
use serde_json::{Map, Value};

/// What a test asks for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// The client the token is for (`client_id`, `azp`).
    pub client_id: String,
    /// A username or subject; `None` for a client's own access token.
    #[serde(default)]
    pub sub: Option<String>,
    /// The audience; by default the client.
    #[serde(default)]
    pub aud: Option<Audience>,
    /// Space-separated scopes; by default `openid` (`openid
    /// offline_access` for a refresh token).
    #[serde(default)]
    pub scope: Option<String>,
    /// Further claims.
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// Seconds until expiry, negative for an expired token; by default the
    /// configured lifetime of the kind.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// Which token.
    #[serde(default)]
    pub kind: Kind,
    /// The signing algorithm; by default the one the token endpoint would use.
    #[serde(default)]
    pub alg: Option<String>,
}

/// The kinds of token.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An RFC 9068 access token.
    #[default]
    AccessToken,
    /// An OpenID Connect ID token.
    IdToken,
    /// A refresh token that works at the token endpoint.
    RefreshToken,
}

impl Kind {
    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Kind::AccessToken => "access_token",
            Kind::IdToken => "id_token",
            Kind::RefreshToken => "refresh_token",
        }
    }
}

/// One audience or several.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "…"`.
    One(String),
    /// `"aud": ["…", …]`.
    Many(Vec<String>),
}
