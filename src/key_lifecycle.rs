//! Signing key lifecycle: load the keys from the store (creating the first
//! one on an empty database), rotate, and prune.
//!
//! States: `next` (published in the JWKS, not yet signing), `current` (signs)
//! and `retired` (still published until every token it signed has expired).
//! Rotation promotes the `next` key, so relying parties that cached the JWKS
//! already know it, and publishes a fresh `next` key for the rotation after.

use crate::crypto::key_set::{self as crypto_keys, KeyError, KeySet, SigningKey};
use crate::model::KeyRecord;
use crate::state::Provider;
use crate::store::{Store, StoreError};

/// Why the keys could not be loaded or rotated.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A freshly generated key, not stored yet. Generation (RSA especially) is
/// slow, so it happens before any state changes.
async fn fresh_key(alg: &str, state: &str, now: i64) -> Result<KeyRecord, LoadError> {
    let owned_alg = alg.to_string();
    let generated = tokio::task::spawn_blocking(move || crypto_keys::generate(&owned_alg))
        .await
        .map_err(|e| KeyError::Generate(e.to_string()))??;
    Ok(KeyRecord {
        kid: generated.kid,
        alg: alg.into(),
        private_key: generated.private_key,
        public_jwk: generated.public_jwk.to_string(),
        state: state.into(),
        created_at: now,
        retired_at: None,
    })
}

async fn store_key(store: &Store, key: &KeyRecord) -> Result<String, LoadError> {
    publish(store, key).await?;
    Ok(key.kid.clone())
}

/// Stores `key`; false when another server stored one for its state first.
async fn publish(store: &Store, key: &KeyRecord) -> Result<bool, LoadError> {
    let added = store.insert_signing_key(key).await?;
    if added {
        tracing::info!(kid = %key.kid, alg = %key.alg, state = %key.state, "generated a new signing key");
    }
    Ok(added)
}

async fn generate(store: &Store, alg: &str, state: &str, now: i64) -> Result<String, LoadError> {
    store_key(store, &fresh_key(alg, state, now).await?).await
}

/// Loads the key set, generating and storing a key for `alg` if there is no
/// current one, and rotating to `alg` if the current key uses another
/// algorithm (the deployment switched between RS256 and ES256).
pub async fn load_or_create(store: &Store, alg: &str, now: i64) -> Result<KeySet, LoadError> {
    let keys = store.signing_keys().await?;
    match keys.iter().find(|k| k.state == "current") {
        None => {
            // Only the signing key holds up a first start; the next one
            // follows at once in the background (see [`publish_next`]).
            generate(store, alg, "current", now).await?;
        }
        Some(current) if current.alg != alg => {
            tracing::info!(from = %current.alg, to = alg, "signing algorithm changed; rotating keys");
            rotate(store, alg, now).await?;
        }
        Some(_) => {}
    }
    load(store).await
}

/// Publishes a `next` key for `alg` when there is none, so that the next
/// rotation signs with a key relying parties have already cached. Servers
/// run it right after they start; replicas racing here store one key (the
/// unique index on `state` keeps the others out). Returns whether a key
/// was added.
pub async fn publish_next(store: &Store, alg: &str, now: i64) -> Result<bool, LoadError> {
    let has_next = |keys: &[KeyRecord]| keys.iter().any(|k| k.state == "next" && k.alg == alg);
    if has_next(&store.signing_keys().await?) {
        return Ok(false);
    }
    publish(store, &fresh_key(alg, "next", now).await?).await
}

/// Builds the key set from what is stored: the newest `current` key signs;
/// every stored key is published.
pub async fn load(store: &Store) -> Result<KeySet, LoadError> {
    let records = store.signing_keys().await?;
    let current = records
        .iter()
        .find(|k| k.state == "current")
        .ok_or_else(|| KeyError::Unusable {
            kid: "-".into(),
            reason: "no current signing key".into(),
        })?;
    let signing = SigningKey::from_pkcs8_base64(&current.kid, &current.alg, &current.private_key)?;
    let mut published = Vec::with_capacity(records.len());
    for record in &records {
        let jwk: serde_json::Value =
            serde_json::from_str(&record.public_jwk).map_err(|e| KeyError::Unusable {
                kid: record.kid.clone(),
                reason: e.to_string(),
            })?;
        published.push(jwk);
    }
    Ok(KeySet::new(signing, &published)?)
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotation {
    /// The key that signs from now on.
    pub current: String,
    /// The keys that stopped signing.
    pub retired: Vec<String>,
    /// The key published for the next rotation.
    pub next: String,
}

/// Rotates: the newest `next` key for `alg` (or a new one, if there is
/// none) becomes `current`, the old `current` keys retire, and a new `next`
/// is published. `next` keys of another algorithm retire too.
pub async fn rotate(store: &Store, alg: &str, now: i64) -> Result<Rotation, LoadError> {
    /// The key that will sign: already published, or made now.
    enum Incoming {
        Promote(String),
        Insert(KeyRecord),
    }
    let records = store.signing_keys().await?;
    let published_next = records
        .iter()
        .find(|k| k.state == "next" && k.alg == alg)
        .map(|k| k.kid.clone());
    // Keys are made first (RSA takes a while); the state changes that follow
    // are quick, so servers reloading meanwhile rarely see a gap.
    let (incoming, next) = match published_next {
        Some(kid) => (Incoming::Promote(kid), fresh_key(alg, "next", now).await?),
        None => {
            let (current, next) =
                tokio::join!(fresh_key(alg, "current", now), fresh_key(alg, "next", now));
            (Incoming::Insert(current?), next?)
        }
    };
    let keep = match &incoming {
        Incoming::Promote(kid) => Some(kid.as_str()),
        Incoming::Insert(_) => None,
    };
    let mut retired = Vec::new();
    for old in records
        .iter()
        .filter(|k| k.state == "current" || (k.state == "next" && Some(k.kid.as_str()) != keep))
    {
        store.set_key_state(&old.kid, "retired", now).await?;
        retired.push(old.kid.clone());
    }
    let current = match incoming {
        Incoming::Promote(kid) => {
            store.set_key_state(&kid, "current", now).await?;
            kid
        }
        Incoming::Insert(key) => store_key(store, &key).await?,
    };
    let next = store_key(store, &next).await?;
    Ok(Rotation {
        current,
        retired,
        next,
    })
}

/// Deletes retired keys once no token they signed can still be valid:
/// retired longer ago than the longest token lifetime.
pub async fn prune(store: &Store, longest_token_ttl: i64, now: i64) -> Result<u64, LoadError> {
    let client_ttl = store.longest_client_access_token_ttl().await?.unwrap_or(0);
    // Replicas pick up a rotation within their reload interval and may sign
    // with the retired key until then: keep it a little longer.
    const RELOAD_MARGIN: i64 = 120;
    let keep_for = longest_token_ttl.max(client_ttl) + RELOAD_MARGIN;
    let pruned = store.prune_retired_keys(now - keep_for).await?;
    if pruned > 0 {
        tracing::info!(pruned, "removed retired signing keys from the JWKS");
    }
    Ok(pruned)
}

/// Reloads the signing keys from the database.
pub async fn reload_keys(provider: &Provider) {
    match load(&provider.store).await {
        Ok(keys) => {
            let held = provider.keys();
            if keys.signing.kid == held.signing.kid && keys.jwks_json == held.jwks_json {
                // Unchanged: the key set in force stays, and with it the
                // memo of tokens it verified.
                return;
            }
            tracing::info!(kid = %keys.signing.kid, "signing keys reloaded");
            provider.set_keys(keys);
        }
        Err(e) => tracing::warn!(error = %e, "reloading the signing keys failed"),
    }
}
