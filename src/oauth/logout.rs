//! RP-Initiated Logout (OpenID Connect RP-Initiated Logout 1.0 §2–§3):
//! `id_token_hint` (accepted when expired, refused when not ours),
//! `client_id`, `post_logout_redirect_uri` (exact match against the verified
//! client's list) and `state` (each within `model::limits`). This module
//! decides; the web layer ends the session and renders.

use super::params::Params;
use crate::crypto::jwt::{self, Expect, JwtError};
use crate::model::{limits, ClientRecord};
use crate::state::Provider;
use crate::store::StoreError;
use serde_json::Value;

/// What the ID token hint says.
#[derive(Debug, Clone)]
pub struct Hint {
    /// The user.
    pub sub: String,
    /// The browser session it was issued in, if any.
    pub sid: Option<String>,
}

/// A validated logout request.
#[derive(Debug, Clone, Default)]
pub struct LogoutRequest {
    /// The client the request is tied to, if it could be verified.
    pub client: Option<ClientRecord>,
    /// The verified ID token hint.
    pub hint: Option<Hint>,
    /// Where to send the user afterwards: registered for `client`.
    pub redirect: Option<String>,
    /// Echoed to the redirect.
    pub state: Option<String>,
    /// A redirect was asked for but cannot be honoured (for the log and page).
    pub redirect_refused: bool,
}

/// Why a logout request cannot be trusted at all.
#[derive(Debug, thiserror::Error)]
pub enum LogoutError {
    /// A parameter is malformed, forged or contradictory; shown to the user.
    #[error("{0}")]
    Untrusted(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validates the parameters of a logout request.
pub async fn validate(provider: &Provider, params: &Params) -> Result<LogoutRequest, LogoutError> {
    if let Some(duplicate) = params.first_defect() {
        return Err(LogoutError::Untrusted(format!(
            "The sign-out request is malformed ({duplicate})."
        )));
    }
    let get = |name: &str| params.get(name).ok().flatten();
    // `state` goes back to the client with the redirect: one over its
    // limit is refused, not echoed.
    let too_long = limits::first_too_long(&[
        ("state", get("state"), limits::STATE),
        ("client_id", get("client_id"), limits::CLIENT_ID),
        (
            "post_logout_redirect_uri",
            get("post_logout_redirect_uri"),
            limits::REDIRECT_URI,
        ),
    ]);
    if let Some((name, limit)) = too_long {
        return Err(LogoutError::Untrusted(format!(
            "The sign-out request's {name} is longer than {limit} bytes."
        )));
    }
    let mut request = LogoutRequest {
        state: get("state").map(str::to_string),
        ..LogoutRequest::default()
    };
    let mut client_id = get("client_id").map(str::to_string);
    if let Some(raw) = get("id_token_hint") {
        if let Some((aud, hint)) = verify_hint(provider, raw).await? {
            if client_id.as_ref().is_some_and(|id| *id != aud) {
                return Err(LogoutError::Untrusted(
                    "The sign-out request names two different applications.".into(),
                ));
            }
            client_id = Some(aud);
            request.hint = Some(hint);
        }
    }
    if let Some(id) = &client_id {
        request.client = provider.store.client(id).await?;
        if request.client.is_none() {
            return Err(LogoutError::Untrusted(
                "The application asking to sign you out is not registered.".into(),
            ));
        }
    }
    if let Some(uri) = get("post_logout_redirect_uri") {
        let registered = request
            .client
            .as_ref()
            .is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r == uri));
        if registered {
            request.redirect = Some(uri.to_string());
        } else {
            tracing::info!(
                uri,
                "post_logout_redirect_uri not registered for a verified client; not redirecting"
            );
            request.redirect_refused = true;
        }
    }
    Ok(request)
}

/// Verifies an `id_token_hint`: ours, expired or not. Returns its audience
/// (the client) and what it says about the user; `None` when it was signed
/// by a key that has since left the JWKS, so it proves nothing either way
/// and the user is asked instead.
async fn verify_hint(
    provider: &Provider,
    raw: &str,
) -> Result<Option<(String, Hint)>, LogoutError> {
    let keys = provider.keys().await;
    let expect = Expect {
        typ: "JWT",
        issuer: &provider.config.issuer,
        audience: None,
        allow_expired: true,
        now: provider.now(),
    };
    let claims: Value = match jwt::verify(&keys, raw, &expect) {
        Ok(claims) => claims,
        Err(JwtError::UnknownKey) if signed_before_a_rotation(provider, raw) => {
            tracing::info!(
                "id_token_hint signed by a key no longer published; asking the user instead"
            );
            return Ok(None);
        }
        Err(e) => {
            tracing::info!(reason = %e, "id_token_hint refused");
            return Err(LogoutError::Untrusted(
                "The sign-out request carries a token this service did not issue.".into(),
            ));
        }
    };
    let aud = match &claims["aud"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    let Some(aud) = aud else {
        return Err(LogoutError::Untrusted(
            "The sign-out request's token names no application.".into(),
        ));
    };
    let hint = Hint {
        sub: claims["sub"].as_str().unwrap_or_default().to_string(),
        sid: claims["sid"].as_str().map(str::to_string),
    };
    Ok(Some((aud, hint)))
}

/// Whether a hint whose key is not in the JWKS could still be one of ours:
/// keys stay published until every token they signed has expired, so only
/// an expired token in this issuer's name can come from a key that has
/// left. A current token under an unknown key, or one naming another
/// issuer, is forged and refused.
fn signed_before_a_rotation(provider: &Provider, raw: &str) -> bool {
    let Some(claims) = jwt::unverified_claims(raw) else {
        return false;
    };
    let ours = claims["iss"].as_str() == Some(provider.config.issuer.as_str());
    let expired = claims["exp"]
        .as_i64()
        .is_some_and(|exp| exp <= provider.now());
    ours && expired
}

impl LogoutRequest {
    /// Whether the request proves it comes from the signed-in user's own
    /// application session, so no confirmation is needed (§2: an
    /// `id_token_hint` for the current session).
    pub fn matches_session(&self, sid: &str, user_id: &str) -> bool {
        match &self.hint {
            Some(hint) => match &hint.sid {
                Some(hint_sid) => hint_sid == sid,
                None => hint.sub == user_id,
            },
            None => false,
        }
    }
}
