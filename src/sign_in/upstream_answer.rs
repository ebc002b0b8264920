//! What an upstream sent back, checked (RFC 6749 §4.1.2, RFC 9207 §2.4,
//! OpenID Connect Core §3.1.3.7 and §5.3.4): the authorization response,
//! the code exchanged with the PKCE verifier, the ID token and userinfo,
//! and who signed in there, read by the upstream's claim mapping.

use super::upstream::redirect_uri;
use super::upstream_problem::Problem;
use crate::model::{UpstreamKind, UpstreamRecord, UpstreamTrip};
use crate::state::Provider;
use crate::upstream_client::id_token::{self, Expected};
use crate::upstream_client::identity::{identity, Identity};
use crate::upstream_client::{Endpoints, UpstreamError};
use serde_json::{Map, Value};

/// Checks the authorization response and what the upstream's endpoints
/// say: who signed in there, and the ID token as sent (for signing out
/// there later).
pub(super) async fn answer<'p>(
    provider: &Provider,
    upstream: &UpstreamRecord,
    trip: &UpstreamTrip,
    param: &impl Fn(&str) -> Option<&'p str>,
) -> Result<(Identity, Option<String>), Problem> {
    let client = &provider.upstreams;
    // RFC 9207 §2.4: the issuer is checked before anything else in the
    // answer, an error answer included; the configured one is known
    // without asking the upstream.
    if let (Some(iss), Some(issuer)) = (param("iss"), &upstream.issuer) {
        if iss != issuer {
            return Err(Problem::BadResponse("wrong_iss_parameter"));
        }
    }
    if let Some(error) = param("error") {
        // An error answer without the `iss` its upstream promises is no
        // more its answer than a code would be (RFC 9207 §2.4); the
        // metadata read when the trip left tells, without asking again.
        let promised = upstream
            .issuer
            .as_deref()
            .and_then(|issuer| crate::upstream_client::discovery::cached(client, issuer));
        if param("iss").is_none() && promised.is_some_and(|e| e.iss_parameter_supported) {
            return Err(Problem::BadResponse("missing_iss_parameter"));
        }
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect();
        return Err(Problem::Denied(error));
    }
    let endpoints = client
        .endpoints(upstream)
        .await
        .map_err(Problem::Upstream)?;
    if param("iss").is_none() && endpoints.iss_parameter_supported {
        return Err(Problem::BadResponse("missing_iss_parameter"));
    }
    let Some(code) = param("code").filter(|c| !c.is_empty() && c.len() <= 2048) else {
        return Err(Problem::BadResponse("no_code"));
    };
    let redirect = redirect_uri(provider, &upstream.id);
    let tokens = client
        .exchange(upstream, &endpoints, code, &trip.code_verifier, &redirect)
        .await
        .map_err(Problem::Upstream)?;
    let claims = claims(provider, upstream, &endpoints, trip, &tokens)
        .await
        .map_err(Problem::Upstream)?;
    let found = identity(&claims, &upstream.claims).map_err(Problem::Upstream)?;
    Ok((found, tokens.id_token))
}

/// The upstream's claims about the user: the checked ID token's, with
/// userinfo's filling in what it lacks (OpenID Connect), or userinfo's
/// alone (OAuth 2.0).
async fn claims(
    provider: &Provider,
    upstream: &UpstreamRecord,
    endpoints: &Endpoints,
    trip: &UpstreamTrip,
    tokens: &crate::upstream_client::Tokens,
) -> Result<Map<String, Value>, UpstreamError> {
    let client = &provider.upstreams;
    let from_token = match upstream.kind {
        UpstreamKind::Oidc => {
            let token = tokens.id_token.as_deref().ok_or_else(|| {
                UpstreamError::BadAnswer("no id_token in the token answer".into())
            })?;
            let expected = Expected {
                client_id: &upstream.client_id,
                nonce: &trip.nonce,
                now: provider.now(),
                auth_after: trip.auth_after.map(|at| (at, trip.auth_time_required)),
            };
            Some(id_token::validate(client, endpoints, token, &expected).await?)
        }
        UpstreamKind::Oauth2 => None,
    };
    let from_userinfo = match &endpoints.userinfo {
        Some(url) => Some(client.userinfo(url, &tokens.access_token).await?),
        None => None,
    };
    match (from_token, from_userinfo) {
        (Some(mut claims), Some(info)) => {
            // Core §5.3.4: userinfo about someone else is not used.
            if info.get("sub") != claims.get("sub") {
                return Err(UpstreamError::IdToken("userinfo_sub_mismatch"));
            }
            for (name, value) in info {
                claims.entry(name).or_insert(value);
            }
            Ok(claims)
        }
        (Some(claims), None) => Ok(claims),
        (None, Some(info)) => Ok(info),
        (None, None) => Err(UpstreamError::BadAnswer("no userinfo endpoint".into())),
    }
}
