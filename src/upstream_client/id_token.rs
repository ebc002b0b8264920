//! Validating an upstream's ID token (OpenID Connect Core §3.1.3.7):
//! signed with an asymmetric algorithm by a key of the upstream's JWKS,
//! `iss` exactly the upstream's issuer, `aud` containing Gatehouse's client
//! id, `azp` present and equal to it when there are several audiences (and
//! equal to it whenever present), `exp` in the future, `iat` neither in
//! the future nor older than [`MAX_AGE`], and `nonce` the one sent. Times
//! are checked against Gatehouse's clock with [`LEEWAY`] for clock skew.

use super::{jwks, Endpoints, UpstreamClient, UpstreamError};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Clock skew allowed between Gatehouse and the upstream, in seconds.
pub const LEEWAY: i64 = 60;
/// How old an ID token may be when it arrives (it was minted moments ago
/// for the code just exchanged), in seconds.
pub const MAX_AGE: i64 = 600;

/// Signature algorithms accepted: asymmetric only. (`none` and the HMAC
/// ones never: a MAC keyed with the client secret proves nothing a
/// browser-facing client could not forge in other deployments.)
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// What the token must say.
pub struct Expected<'a> {
    /// Gatehouse's client id at the upstream.
    pub client_id: &'a str,
    /// The `nonce` sent with the authorization request.
    pub nonce: &'a str,
    /// Now, unix seconds.
    pub now: i64,
    /// A fresh sign-in was asked for: the earliest `auth_time` accepted,
    /// and whether the token must carry one (OpenID Connect Core §3.1.2.1:
    /// it must when `max_age` was sent).
    pub auth_after: Option<(i64, bool)>,
}

/// The token's claims, once every check passed.
pub async fn validate(
    client: &UpstreamClient,
    endpoints: &Endpoints,
    token: &str,
    expected: &Expected<'_>,
) -> Result<Map<String, Value>, UpstreamError> {
    let header = decode_header(token).map_err(|_| UpstreamError::IdToken("malformed"))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(UpstreamError::IdToken("bad_algorithm"));
    }
    let url = endpoints
        .jwks_uri
        .as_deref()
        .ok_or_else(|| UpstreamError::Keys("no jwks_uri".into()))?;
    let keys = jwks::candidates(client, url, header.kid.as_deref()).await?;
    let mut validation = Validation::new(header.alg);
    // Times, audience and issuer are checked below, against Gatehouse's
    // own clock and with reasons of their own.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    let claims = keys
        .iter()
        .filter_map(|jwk| DecodingKey::from_jwk(jwk).ok())
        .find_map(|key| decode::<Map<String, Value>>(token, &key, &validation).ok())
        .ok_or(UpstreamError::IdToken("bad_signature"))?
        .claims;
    check_claims(&claims, endpoints.issuer.as_deref(), expected)?;
    Ok(claims)
}

/// The checks of §3.1.3.7 besides the signature.
pub fn check_claims(
    claims: &Map<String, Value>,
    issuer: Option<&str>,
    expected: &Expected<'_>,
) -> Result<(), UpstreamError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    if issuer.is_none() || text("iss") != issuer {
        return Err(UpstreamError::WrongIssuer(format!(
            "ID token iss {:?}",
            text("iss").unwrap_or("")
        )));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&expected.client_id) {
        return Err(UpstreamError::IdToken("wrong_audience"));
    }
    match text("azp") {
        Some(azp) if azp != expected.client_id => return Err(UpstreamError::IdToken("wrong_azp")),
        None if audiences.len() > 1 => return Err(UpstreamError::IdToken("wrong_azp")),
        _ => {}
    }
    let exp = number("exp").ok_or(UpstreamError::IdToken("no_exp"))?;
    if exp.saturating_add(LEEWAY) <= expected.now {
        return Err(UpstreamError::IdToken("expired"));
    }
    let iat = number("iat").ok_or(UpstreamError::IdToken("no_iat"))?;
    if iat > expected.now.saturating_add(LEEWAY) {
        return Err(UpstreamError::IdToken("issued_in_future"));
    }
    if iat.saturating_add(MAX_AGE + LEEWAY) < expected.now {
        return Err(UpstreamError::IdToken("too_old"));
    }
    // Core §3.1.3.7 step 13: a fresh sign-in asked for is checked.
    if let Some((after, required)) = expected.auth_after {
        match number("auth_time") {
            Some(at) if at.saturating_add(LEEWAY) < after => {
                return Err(UpstreamError::IdToken("stale_authentication"))
            }
            None if required => return Err(UpstreamError::IdToken("no_auth_time")),
            _ => {}
        }
    }
    if text("nonce") != Some(expected.nonce) {
        return Err(UpstreamError::IdToken("wrong_nonce"));
    }
    if text("sub").is_none_or(str::is_empty) {
        return Err(UpstreamError::IdToken("no_subject"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "https://idp.example.com";

    fn claims(changes: Value) -> Map<String, Value> {
        let mut base = json!({
            "iss": ISSUER, "aud": "gh", "sub": "u1", "exp": 1_100, "iat": 1_000, "nonce": "n",
        });
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base.as_object().unwrap().clone()
    }

    fn check(changes: Value, now: i64) -> Result<(), &'static str> {
        let expected = Expected {
            client_id: "gh",
            nonce: "n",
            now,
            auth_after: None,
        };
        check_claims(&claims(changes), Some(ISSUER), &expected).map_err(|e| e.reason())
    }

    #[test]
    fn each_claim_is_checked() {
        assert_eq!(check(json!({}), 1_010), Ok(()));
        assert_eq!(
            check(json!({"iss": "https://evil"}), 1_010),
            Err("wrong_issuer")
        );
        assert_eq!(check(json!({"aud": "other"}), 1_010), Err("wrong_audience"));
        assert_eq!(
            check(json!({"aud": ["gh", "other"]}), 1_010),
            Err("wrong_azp")
        );
        assert_eq!(
            check(json!({"aud": ["gh", "other"], "azp": "gh"}), 1_010),
            Ok(())
        );
        assert_eq!(check(json!({"azp": "other"}), 1_010), Err("wrong_azp"));
        assert_eq!(check(json!({}), 1_200), Err("expired"));
        assert_eq!(
            check(json!({"iat": 2_000, "exp": 3_000}), 1_010),
            Err("issued_in_future")
        );
        assert_eq!(
            check(json!({"exp": 9_000}), 1_000 + MAX_AGE + LEEWAY + 1),
            Err("too_old")
        );
        assert_eq!(check(json!({"nonce": "old"}), 1_010), Err("wrong_nonce"));
        assert_eq!(check(json!({"nonce": null}), 1_010), Err("wrong_nonce"));
        assert_eq!(check(json!({"sub": null}), 1_010), Err("no_subject"));
        assert_eq!(check(json!({"exp": null}), 1_010), Err("no_exp"));
        assert_eq!(
            check(json!({"exp": i64::MAX}), 1_010),
            Ok(()),
            "no overflow"
        );
    }

    #[test]
    fn a_fresh_sign_in_asked_for_is_checked() {
        let expected = |auth_after| Expected {
            client_id: "gh",
            nonce: "n",
            now: 1_010,
            auth_after,
        };
        let with = |t: Value| claims(json!({ "auth_time": t }));
        let check = |c: &Map<String, Value>, after| {
            check_claims(c, Some(ISSUER), &expected(after)).map_err(|e| e.reason())
        };
        assert_eq!(check(&with(json!(1_000)), Some((1_000, true))), Ok(()));
        assert_eq!(
            check(&with(json!(900)), Some((1_000, false))),
            Err("stale_authentication")
        );
        assert_eq!(
            check(&claims(json!({})), Some((1_000, true))),
            Err("no_auth_time")
        );
        assert_eq!(check(&claims(json!({})), Some((1_000, false))), Ok(()));
    }
}
