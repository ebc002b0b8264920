//! Compact JWS (RFC 7515 §7.1) signing and verification.
//!
//! Signing builds the compact serialisation directly and signs with the key
//! parsed once at load time ([`SigningKey`]); verification goes through
//! jsonwebtoken, with the algorithm pinned to the key's and the `typ` checked, so
//! `alg: none`, HMAC confusion and token-type confusion are all refused.

use super::b64url;
use super::key_set::{KeyError, KeySet, SigningKey};
use jsonwebtoken::Validation;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

/// Signs `claims` as a JWT with header `typ` (`JWT`, `at+jwt`, …).
pub fn sign<T: Serialize>(key: &SigningKey, typ: &str, claims: &T) -> Result<String, KeyError> {
    let header = json!({ "alg": key.alg, "kid": key.kid, "typ": typ });
    let header = serde_json::to_vec(&header).map_err(|_| KeyError::Sign)?;
    let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Sign)?;
    let mut token = String::with_capacity(1024);
    token.push_str(&b64url(&header));
    token.push('.');
    token.push_str(&b64url(&payload));
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&b64url(&signature));
    Ok(token)
}

/// Why a JWT was refused. Deliberately coarse: callers answer
/// `invalid_token` whatever the reason, and log the detail.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// Not a well-formed JWT.
    #[error("malformed token")]
    Malformed,
    /// `typ` is not the expected one.
    #[error("unexpected token type")]
    WrongType,
    /// No published key has this `kid`.
    #[error("unknown signing key")]
    UnknownKey,
    /// Signature, algorithm, issuer, audience or lifetime check failed.
    #[error("token rejected: {0}")]
    Rejected(String),
}

/// What to check beyond the signature.
pub struct Expect<'a> {
    /// Required `typ` header, compared case-insensitively (RFC 8725 §3.11).
    pub typ: &'a str,
    /// Required `iss`.
    pub issuer: &'a str,
    /// Required `aud`, if any.
    pub audience: Option<&'a str>,
    /// Whether an expired token is still acceptable (`id_token_hint`).
    pub allow_expired: bool,
    /// The current unix time, from the provider's clock.
    pub now: i64,
}

/// Verifies a JWT signed by one of `keys` and returns its claims.
pub fn verify<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    expect: &Expect<'_>,
) -> Result<T, JwtError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Malformed)?;
    let typ_ok = header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(expect.typ));
    if !typ_ok {
        return Err(JwtError::WrongType);
    }
    let kid = header.kid.ok_or(JwtError::UnknownKey)?;
    let key = keys.verifying_key(&kid).ok_or(JwtError::UnknownKey)?;
    // The key decides the algorithm: a header claiming another one (`none`,
    // HS256 keyed with the public key, …) is refused by jsonwebtoken.
    let mut validation = Validation::new(key.algorithm);
    validation.set_issuer(&[expect.issuer]);
    validation.leeway = 0;
    match expect.audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    // Expiry is checked below against the injected clock, not the system's.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let value: serde_json::Value = jsonwebtoken::decode(token, &key.decoding, &validation)
        .map(|data| data.claims)
        .map_err(|e| JwtError::Rejected(e.to_string()))?;
    let exp = value["exp"]
        .as_i64()
        .ok_or_else(|| JwtError::Rejected("exp is not a number".into()))?;
    if !expect.allow_expired && exp <= expect.now {
        return Err(JwtError::Rejected("the token has expired".into()));
    }
    serde_json::from_value(value).map_err(|e| JwtError::Rejected(e.to_string()))
}

/// The claims of a JWT read *without* checking its signature: only for
/// deciding how to refuse a token that could not be verified, never for
/// trusting what it says.
pub fn unverified_claims(token: &str) -> Option<serde_json::Value> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::key_set::generate;
    use serde_json::Value;

    fn keyset_for(alg: &str) -> KeySet {
        let g = generate(alg).unwrap();
        let key = SigningKey::from_pkcs8_base64(&g.kid, alg, &g.private_key).unwrap();
        KeySet::new(key, &[g.public_jwk]).unwrap()
    }

    fn keyset() -> KeySet {
        keyset_for("RS256")
    }

    fn expect(typ: &str) -> Expect<'_> {
        Expect {
            typ,
            issuer: "https://idp.example",
            audience: None,
            allow_expired: false,
            now: 2_000_000_000,
        }
    }

    #[test]
    fn signed_tokens_verify_and_tampering_is_caught() {
        let keys = keyset();
        let claims = json!({"iss": "https://idp.example", "sub": "u1", "exp": 4_000_000_000u64});
        let token = sign(&keys.signing, "at+jwt", &claims).unwrap();
        let back: Value = verify(&keys, &token, &expect("at+jwt")).unwrap();
        assert_eq!(back["sub"], "u1");

        assert!(matches!(
            verify::<Value>(&keys, &token, &expect("JWT")),
            Err(JwtError::WrongType)
        ));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64url(br#"{"iss":"https://idp.example","sub":"admin","exp":4000000000}"#);
        parts[1] = &forged;
        assert!(verify::<Value>(&keys, &parts.join("."), &expect("at+jwt")).is_err());
    }

    #[test]
    fn alg_none_and_foreign_keys_are_refused() {
        let keys = keyset();
        let header = b64url(br#"{"alg":"none","typ":"at+jwt","kid":"x"}"#);
        let body = b64url(br#"{"iss":"https://idp.example","sub":"u","exp":4000000000}"#);
        assert!(verify::<Value>(&keys, &format!("{header}.{body}."), &expect("at+jwt")).is_err());

        let other = keyset();
        let claims = json!({"iss": "https://idp.example", "sub": "u1", "exp": 4_000_000_000u64});
        let token = sign(&other.signing, "at+jwt", &claims).unwrap();
        assert!(matches!(
            verify::<Value>(&keys, &token, &expect("at+jwt")),
            Err(JwtError::UnknownKey)
        ));
    }

    #[test]
    fn expired_tokens_are_refused_unless_allowed() {
        let keys = keyset();
        let claims = json!({"iss": "https://idp.example", "sub": "u1", "exp": 1_000});
        let token = sign(&keys.signing, "JWT", &claims).unwrap();
        assert!(verify::<Value>(&keys, &token, &expect("JWT")).is_err());
        let lenient = Expect {
            allow_expired: true,
            ..expect("JWT")
        };
        assert!(verify::<Value>(&keys, &token, &lenient).is_ok());
    }

    #[test]
    fn eddsa_tokens_verify_and_tampering_is_caught() {
        let keys = keyset_for("EdDSA");
        let claims = json!({"iss": "https://idp.example", "sub": "u1", "exp": 4_000_000_000u64});
        let token = sign(&keys.signing, "at+jwt", &claims).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some(keys.signing.kid.as_str()));
        let back: Value = verify(&keys, &token, &expect("at+jwt")).unwrap();
        assert_eq!(back["sub"], "u1");

        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64url(br#"{"iss":"https://idp.example","sub":"admin","exp":4000000000}"#);
        parts[1] = &forged;
        assert!(verify::<Value>(&keys, &parts.join("."), &expect("at+jwt")).is_err());
    }

    #[test]
    fn a_header_naming_another_algorithm_than_the_keys_is_refused() {
        // An EdDSA key's kid in a token that claims RS256, and the reverse.
        let eddsa = keyset_for("EdDSA");
        let rsa = keyset_for("RS256");
        let claims = json!({"iss": "https://idp.example", "sub": "u1", "exp": 4_000_000_000u64});
        for (signer, verifier) in [(&rsa, &eddsa), (&eddsa, &rsa)] {
            let token = sign(&signer.signing, "at+jwt", &claims).unwrap();
            let (header, rest) = token.split_once('.').unwrap();
            let mut header: Value = serde_json::from_slice(&base64_decode(header)).unwrap();
            header["kid"] = json!(verifier.signing.kid);
            let relabelled = format!("{}.{rest}", b64url(header.to_string().as_bytes()));
            assert!(verify::<Value>(verifier, &relabelled, &expect("at+jwt")).is_err());
        }
    }

    fn base64_decode(part: &str) -> Vec<u8> {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap()
    }
}
