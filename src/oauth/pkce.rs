//! Proof Key for Code Exchange (RFC 7636), S256 only: `plain` would let an
//! intercepted authorization request double as the verifier.

use crate::crypto::{b64url, constant_time_eq};
use sha2::{Digest, Sha256};

/// RFC 7636 §4.2: a base64url SHA-256 digest is exactly 43 characters.
pub fn is_valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters (the longest is
/// `model::limits::CODE_CHALLENGE`).
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=crate::model::limits::CODE_CHALLENGE).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The S256 challenge of a verifier.
pub fn challenge_of(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.6: does `verifier` hash to `challenge`?
pub fn verify(verifier: &str, challenge: &str) -> bool {
    is_valid_verifier(verifier) && constant_time_eq(&challenge_of(verifier), challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            challenge_of(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(verify(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!verify(
            "short",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(is_valid_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!is_valid_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c="
        ));
    }
}
