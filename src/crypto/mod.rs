//! Cryptographic building blocks: random tokens and their hashes, password
//! hashing, signing keys and JWTs, TOTP. No HTTP and no storage in here.

pub mod jwt;
pub mod key_set;
pub mod passkey;
pub mod password;
pub mod totp;
pub mod verified_tokens;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh 256-bit random value, base64url without padding (43 characters).
/// Used for authorization codes, refresh tokens, session ids and CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `len` characters drawn uniformly from `alphabet` with the OS generator:
/// for secrets a person reads or types (passwords, recovery codes).
pub fn random_string(alphabet: &[u8], len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// SHA-256 of `value`, base64url without padding: how tokens are stored.
pub fn token_hash(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(value.as_bytes()))
}

/// Compares two strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Runs heavy work (signatures, password hashes) on the blocking pool, in a
/// thread at a lower priority, so it neither holds up the async workers nor
/// delays the threads that serve requests and talk to the database.
pub async fn run_heavy<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || {
        lower_priority();
        work()
    })
    .await
}

/// Makes the calling thread yield the CPU to the threads that serve
/// requests and talk to the database (Linux nice +10; elsewhere nothing).
/// The blocking pool's threads keep it once set.
pub(crate) fn lower_priority() {
    thread_local! {
        static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    LOWERED.with(|lowered| {
        if !lowered.get() {
            lowered.set(true);
            #[cfg(target_os = "linux")]
            // SAFETY: setpriority on the calling thread (PRIO_PROCESS with
            // the thread id) has no memory effects; a failure leaves the
            // priority as it was.
            unsafe {
                let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                libc::setpriority(libc::PRIO_PROCESS, tid, 10);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_256_bits_and_distinct() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
    }

    #[test]
    fn token_hash_is_sha256_base64url() {
        // SHA-256("abc") = ba7816bf…
        assert_eq!(
            token_hash("abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
