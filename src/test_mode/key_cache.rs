//! Test mode's signing keys, kept between runs. Test mode runs on an
//! in-memory database, so every start would make its keys again, and an
//! RSA key takes 50 to 300 ms to make: most of a start. Instead, the keys a
//! test-mode server made are written to the user's cache folder
//! (`$XDG_CACHE_HOME/gatehouse`, else `~/.cache/gatehouse`; a folder it
//! makes is 0700, the file is 0600) and the next test-mode start stores them in its
//! database before it loads the keys, making only those missing.
//!
//! These keys sign only test-mode tokens, for issuers on this machine that
//! anyone may sign in to anyway; servers outside test mode, and test-mode
//! servers on a database of their own, never read or write the file. A
//! missing, unreadable or malformed file is the same as no cache, and a key
//! in it that cannot sign is left out: the keys missing are made, and the
//! file is written afresh.

use crate::model::KeyRecord;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One cached key (the stored record, without its retirement).
#[derive(Serialize, Deserialize, PartialEq, Eq)]
struct CachedKey {
    kid: String,
    alg: String,
    state: String,
    private_key: String,
    public_jwk: String,
    created_at: i64,
}

/// Whether a server with `config` uses the cache: test mode on its
/// in-memory database only. A test-mode server on a database of its own
/// (`GATEHOUSE_TEST_MODE_ANY_DATABASE`) keeps the keys there: they must
/// neither leave it nor come into it from here.
pub fn applies(config: &crate::config::Config) -> bool {
    config.test_mode && config.database_url == crate::config::TEST_MODE_DATABASE
}

/// Where the cache lives, if the user has a cache folder.
fn path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".cache"),
    };
    Some(base.join("gatehouse").join("test-mode-keys.json"))
}

/// The cached keys, or none.
pub fn read() -> Vec<KeyRecord> {
    let Some(path) = path() else {
        return Vec::new();
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    match serde_json::from_str::<Vec<CachedKey>>(&text) {
        Ok(keys) => keys
            .into_iter()
            .filter(usable)
            .map(|k| KeyRecord {
                kid: k.kid,
                alg: k.alg,
                private_key: k.private_key,
                public_jwk: k.public_jwk,
                state: k.state,
                created_at: k.created_at,
                retired_at: None,
            })
            .collect(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "test mode: ignoring a malformed key cache");
            Vec::new()
        }
    }
}

/// Whether a cached key can sign and be published: one that cannot (a hand
/// edit, another version's format) is left out, and made again.
fn usable(key: &CachedKey) -> bool {
    let signs =
        crate::crypto::key_set::SigningKey::from_pkcs8_base64(&key.kid, &key.alg, &key.private_key)
            .is_ok();
    let publishes = serde_json::from_str::<serde_json::Value>(&key.public_jwk)
        .is_ok_and(|jwk| jwk.get("kid").and_then(|k| k.as_str()) == Some(key.kid.as_str()));
    let fits = matches!(key.state.as_str(), "current" | "next");
    if !(signs && publishes && fits) {
        tracing::warn!(kid = %key.kid, "test mode: leaving out a cached key that cannot be used");
    }
    signs && publishes && fits
}

/// Whether `keys` hold a current key of `alg`.
pub fn has_current(keys: &[KeyRecord], alg: &str) -> bool {
    keys.iter().any(|k| k.state == "current" && k.alg == alg)
}

/// Stores the cached keys in a new database (before the keys are loaded).
pub async fn restore(store: &Store, keys: &[KeyRecord]) -> Result<(), StoreError> {
    for key in keys {
        store.insert_signing_key(key).await?;
    }
    if !keys.is_empty() {
        tracing::debug!(
            keys = keys.len(),
            "test mode: signing keys taken from the cache"
        );
    }
    Ok(())
}

/// Writes the database's current and next keys to the cache, when they
/// differ from what it holds. Failing to write is not an error: the next
/// start makes its keys.
pub async fn save(store: &Store) {
    let Some(path) = path() else {
        return;
    };
    let keys: Vec<CachedKey> = match store.signing_keys().await {
        Ok(records) => records
            .into_iter()
            .filter(|k| k.state != "retired")
            .map(|k| CachedKey {
                kid: k.kid,
                alg: k.alg,
                state: k.state,
                private_key: k.private_key,
                public_jwk: k.public_jwk,
                created_at: k.created_at,
            })
            .collect(),
        Err(e) => {
            tracing::debug!(error = %e, "test mode: cannot read the keys to cache");
            return;
        }
    };
    if let Ok(text) = std::fs::read_to_string(&path) {
        if serde_json::from_str::<Vec<CachedKey>>(&text).is_ok_and(|held| held == keys) {
            return;
        }
    }
    if let Err(e) = write_private(&path, &keys) {
        tracing::debug!(path = %path.display(), error = %e, "test mode: cannot write the key cache");
    }
}

/// Writes the file readable by its owner only, through a temporary file
/// renamed into place (two servers saving at once leave one whole file).
fn write_private(path: &std::path::Path, keys: &[CachedKey]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let folder = path.parent().ok_or(std::io::ErrorKind::NotFound)?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)?;
    let temporary = folder.join(format!(
        ".test-mode-keys.{}.tmp",
        uuid::Uuid::new_v4().simple()
    ));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)?;
    file.write_all(&serde_json::to_vec(keys).map_err(std::io::Error::other)?)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}
