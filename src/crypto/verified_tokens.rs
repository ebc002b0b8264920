//! A memo of access tokens whose signature, `typ` and issuer already
//! verified (RFC 9068 §4, steps 1–3 and 5), so that a resource server
//! introspecting the same token again, or a client calling userinfo again,
//! does not pay for another RSA verification.
//!
//! Only what cannot change is memoised: a token's bytes and the keys that
//! verified them. Expiry is checked on every use, and revocation still goes
//! through the store. Entries are keyed by the SHA-256 of the whole token,
//! so a token that differs in any byte is verified afresh, and they belong to
//! the key set that verified them: a new key set starts an empty memo.

use super::key_set::KeySet;
use crate::model::AccessClaims;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept before the memo is emptied and starts again.
const CAPACITY: usize = 10_000;

type Digest256 = [u8; 32];

/// Verified access tokens, shared by every worker.
#[derive(Default)]
pub struct VerifiedTokens {
    memo: Mutex<Option<Memo>>,
}

struct Memo {
    keys: Arc<KeySet>,
    claims: HashMap<Digest256, Arc<AccessClaims>>,
}

impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedTokens").finish_non_exhaustive()
    }
}

/// The memo's key for `token`.
pub fn digest(token: &str) -> Digest256 {
    Sha256::digest(token.as_bytes()).into()
}

impl VerifiedTokens {
    /// The claims of `token` if `keys` already verified it.
    pub fn get(&self, keys: &Arc<KeySet>, token: &Digest256) -> Option<Arc<AccessClaims>> {
        let memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
        match memo.as_ref() {
            Some(m) if Arc::ptr_eq(&m.keys, keys) => m.claims.get(token).cloned(),
            _ => None,
        }
    }

    /// Remembers that `keys` verified `token` with these claims.
    pub fn put(&self, keys: &Arc<KeySet>, token: Digest256, claims: Arc<AccessClaims>) {
        let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = match memo.as_ref() {
            Some(m) => !Arc::ptr_eq(&m.keys, keys) || m.claims.len() >= CAPACITY,
            None => true,
        };
        if fresh {
            *memo = Some(Memo {
                keys: keys.clone(),
                claims: HashMap::new(),
            });
        }
        if let Some(m) = memo.as_mut() {
            m.claims.insert(token, claims);
        }
    }
}
