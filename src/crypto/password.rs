//! User passwords: argon2id (RFC 9106) with the crate's recommended
//! parameters. Hashing is CPU-heavy by design; callers run it on the blocking
//! pool, never on a request worker.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::OnceLock;

/// Hashes a password into a PHC string (`$argon2id$v=19$…`).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .expect("argon2 with default parameters cannot fail on a generated salt")
}

/// Hashes a password at argon2id's lowest cost (1 MiB, one pass): for test
/// mode's seed users only, whose passwords guard nothing real, so that a
/// suite's server starts and resets in milliseconds. The cost is in the PHC
/// string, so [`verify_password`] checks these like any other.
pub fn hash_password_for_tests(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let params = argon2::Params::new(1024, 1, 1, None).expect("valid argon2 parameters");
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .expect("argon2 with fixed parameters cannot fail on a generated salt")
}

/// Checks a password against a PHC string. A malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as [`verify_password`] on a real user, so that an
/// unknown username cannot be told apart from a wrong password by timing.
pub fn verify_against_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("gatehouse-dummy-password"));
    let _ = verify_password(hash, password);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("correct horse");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password(&a, "correct horse"));
        assert!(!verify_password(&a, "wrong horse"));
        assert_ne!(a, hash_password("correct horse"));
    }

    #[test]
    fn malformed_hash_never_matches() {
        assert!(!verify_password("not a hash", "x"));
    }
}
