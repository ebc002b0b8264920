//! Signing key lifecycle: load the keys from the store (creating the first
//! ones on an empty database), rotate, and prune.
//!
//! Each signing algorithm has a lifecycle of its own. The primary one (the
//! `signing_alg` setting, RS256 or ES256) signs ID tokens and access tokens
//! without an API audience; an API may have its access tokens signed with
//! another: RS256, ES256 or EdDSA (Ed25519, RFC 8037). [`algorithms`] says
//! which are in use, the primary first, so that every caller agrees.
//!
//! States: `next` (published in the JWKS, not yet signing), `current` (signs)
//! and `retired` (still published until every token it signed has expired).
//! Rotation promotes each algorithm's `next` key, so relying parties that
//! cached the JWKS already know it, and publishes a fresh `next` key for the
//! rotation after. The keys of an algorithm no longer in use retire.

use crate::crypto::key_set::{self as crypto_keys, KeyError, KeySet, SigningKey};
use crate::model::KeyRecord;
use crate::state::Provider;
use crate::store::{Store, StoreError};
use std::sync::Arc;

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

/// The algorithms that keys are kept for, the primary one (the
/// `signing_alg` setting) first. Loading, publishing and rotating all take
/// their list from here.
pub async fn algorithms(store: &Store, primary: &str) -> Result<Vec<String>, LoadError> {
    let mut algs = vec![primary.to_string()];
    for alg in store.api_signing_algs().await? {
        if !algs.contains(&alg) {
            algs.push(alg);
        }
    }
    Ok(algs)
}

/// Every algorithm a key may have.
pub const ALL_ALGORITHMS: &[&str] = &["RS256", "ES256", "EdDSA"];

/// [`algorithms`] for this server: in test mode every algorithm of
/// [`ALL_ALGORITHMS`] too, so that a token minted with any of them verifies
/// against a JWKS fetched at start (test mode keeps its keys between runs,
/// so they cost nothing after the first).
pub async fn algorithms_for(provider: &Provider) -> Result<Vec<String>, LoadError> {
    let mut algs = algorithms(&provider.store, &provider.config.signing_alg).await?;
    if provider.test_mode() {
        for alg in ALL_ALGORITHMS {
            if !algs.iter().any(|a| a == alg) {
                algs.push(alg.to_string());
            }
        }
    }
    Ok(algs)
}

/// The current key for `alg`. An API saved since the keys were loaded (on
/// this server or another) may sign with an algorithm this server holds no
/// key for yet: the keys are then loaded again, made if need be.
pub async fn signer_for(provider: &Provider, alg: &str) -> Result<Arc<SigningKey>, LoadError> {
    if let Some(key) = provider.keys().await.signer(alg) {
        return Ok(key);
    }
    let store = &provider.store;
    let algs = algorithms_for(provider).await?;
    let keys = load_or_create(store, &algs, provider.now()).await?;
    let key = keys.signer(alg).ok_or_else(|| KeyError::Unusable {
        kid: "-".into(),
        reason: format!("no current {alg} key"),
    })?;
    provider.set_keys(keys);
    Ok(key)
}

/// The primary algorithm: the first of `algs`.
fn primary(algs: &[String]) -> Result<&str, LoadError> {
    algs.first()
        .map(String::as_str)
        .ok_or_else(|| KeyError::Generate("no signing algorithm is configured".into()).into())
}

/// `algs` without repeats, in their order.
fn distinct(algs: &[String]) -> Vec<&str> {
    let mut seen: Vec<&str> = Vec::with_capacity(algs.len());
    for alg in algs {
        if !seen.contains(&alg.as_str()) {
            seen.push(alg);
        }
    }
    seen
}

/// A key being generated before the database can store it: on a first
/// start, the primary key's generation (RSA takes a while) overlaps the
/// migrations. It is a fresh key from the system's random source like any
/// other, and is dropped unstored if the database turns out to hold one.
pub struct EarlyKey {
    alg: String,
    generating: tokio::task::JoinHandle<Result<crypto_keys::GeneratedKey, KeyError>>,
}

/// Starts generating the `primary` algorithm's key when `store` holds no
/// current one. Meant to run before the migrations: a database too new to
/// have the keys table (or too old to read it) counts as holding none.
pub async fn start_early(store: &Store, primary: &str) -> Option<EarlyKey> {
    let held = match store.signing_keys().await {
        Ok(records) => records
            .iter()
            .any(|k| k.state == "current" && k.alg == primary),
        Err(_) => false,
    };
    (!held).then(|| EarlyKey {
        alg: primary.to_string(),
        generating: generate_in_background(primary),
    })
}

/// Generates a key of `alg` on a blocking thread at a lower priority: on a
/// first start it runs beside the migrations, the seed's password hashes
/// and the templates, which decide when the server first answers.
fn generate_in_background(
    alg: &str,
) -> tokio::task::JoinHandle<Result<crypto_keys::GeneratedKey, KeyError>> {
    let alg = alg.to_string();
    tokio::task::spawn_blocking(move || {
        crate::crypto::lower_priority();
        crypto_keys::generate(&alg)
    })
}

/// Fresh keys, not stored yet: one for each (algorithm, state) of `wanted`,
/// in that order, the `early` key standing in for the first of its
/// algorithm. They are generated side by side (RSA takes a while, P-256
/// and Ed25519 hardly any time), and before any state changes.
async fn fresh_keys(
    wanted: &[(&str, &str)],
    now: i64,
    mut early: Option<EarlyKey>,
) -> Result<Vec<KeyRecord>, LoadError> {
    let generating: Vec<_> = wanted
        .iter()
        .map(|&(alg, _)| match early.take_if(|key| key.alg == alg) {
            Some(key) => key.generating,
            None => generate_in_background(alg),
        })
        .collect();
    let mut keys = Vec::with_capacity(wanted.len());
    for (task, &(alg, state)) in generating.into_iter().zip(wanted) {
        let generated = task
            .await
            .map_err(|e| KeyError::Generate(e.to_string()))??;
        keys.push(KeyRecord {
            kid: generated.kid,
            alg: alg.into(),
            private_key: generated.private_key,
            public_jwk: generated.public_jwk.to_string(),
            state: state.into(),
            created_at: now,
            retired_at: None,
        });
    }
    Ok(keys)
}

/// Stores `key`; false when another server stored one for its algorithm
/// and state first.
async fn publish(store: &Store, key: &KeyRecord) -> Result<bool, LoadError> {
    let added = store.insert_signing_key(key).await?;
    if added {
        tracing::info!(kid = %key.kid, alg = %key.alg, state = %key.state, "generated a new signing key");
    }
    Ok(added)
}

/// Loads the key set, first making sure that every algorithm of `algs`
/// (`algs[0]` the primary) has a current key, generating the missing ones,
/// and retiring the keys of algorithms no longer among them. After a switch
/// of the primary algorithm (between RS256 and ES256), the old primary's key
/// keeps signing if its algorithm is still in `algs` and retires otherwise;
/// either way it stays published, so the tokens it signed still verify.
pub async fn load_or_create(store: &Store, algs: &[String], now: i64) -> Result<KeySet, LoadError> {
    load_or_create_with(store, algs, now, None).await
}

/// [`load_or_create`], taking the key that [`start_early`] began making, if
/// any, for the first missing key of its algorithm.
pub async fn load_or_create_with(
    store: &Store,
    algs: &[String],
    now: i64,
    early: Option<EarlyKey>,
) -> Result<KeySet, LoadError> {
    let primary = primary(algs)?;
    let algs = distinct(algs);
    let records = store.signing_keys().await?;
    let has_current = |alg: &str| records.iter().any(|k| k.state == "current" && k.alg == alg);
    if !has_current(primary) {
        if let Some(old) = records.iter().find(|k| k.state == "current") {
            tracing::info!(from = %old.alg, to = primary, "signing algorithm changed");
        }
    }
    // Only the current keys hold up a first start; the next ones follow at
    // once in the background (see [`publish_next`]).
    let missing: Vec<(&str, &str)> = algs
        .iter()
        .filter(|alg| !has_current(alg))
        .map(|&alg| (alg, "current"))
        .collect();
    for key in fresh_keys(&missing, now, early).await? {
        publish(store, &key).await?;
    }
    // Retired once the new keys are in, so that a server reloading
    // meanwhile always finds a current key.
    for old in records
        .iter()
        .filter(|k| k.state != "retired" && !algs.contains(&k.alg.as_str()))
    {
        store.set_key_state(&old.kid, "retired", now).await?;
        tracing::info!(kid = %old.kid, alg = %old.alg, "retired the signing key of an algorithm no longer in use");
    }
    load(store, primary).await
}

/// Publishes a `next` key for each algorithm of `algs` that has none, so
/// that the next rotation signs with a key relying parties have already
/// cached. Servers run it right after they start; replicas racing here
/// store one key per algorithm (the unique index on algorithm and state
/// keeps the others out). Returns whether a key was added.
pub async fn publish_next(store: &Store, algs: &[String], now: i64) -> Result<bool, LoadError> {
    let records = store.signing_keys().await?;
    let lacking: Vec<(&str, &str)> = distinct(algs)
        .into_iter()
        .filter(|alg| !records.iter().any(|k| k.state == "next" && k.alg == *alg))
        .map(|alg| (alg, "next"))
        .collect();
    let mut added = false;
    for key in fresh_keys(&lacking, now, None).await? {
        added |= publish(store, &key).await?;
    }
    Ok(added)
}

/// Builds the key set from what is stored: the newest `current` key of each
/// algorithm signs for it, the `primary` algorithm's by default, and every
/// stored key is published. A server whose `primary` has no current key
/// (another one switched the primary algorithm, retiring the old key) signs
/// by default with the newest current key rather than with none.
pub async fn load(store: &Store, primary: &str) -> Result<KeySet, LoadError> {
    let records = store.signing_keys().await?;
    // Newest first: the first current key of each algorithm is its own.
    let mut current: Vec<&KeyRecord> = Vec::new();
    for record in records.iter().filter(|k| k.state == "current") {
        if current.iter().all(|k| k.alg != record.alg) {
            current.push(record);
        }
    }
    if current.is_empty() {
        return Err(KeyError::Unusable {
            kid: "-".into(),
            reason: "no current signing key".into(),
        }
        .into());
    }
    let default = current.iter().position(|k| k.alg == primary).unwrap_or(0);
    let default = current.remove(default);
    // In a steady order, so that reloading sees an unchanged set as such.
    current.sort_by(|a, b| a.alg.cmp(&b.alg));
    let parse = |k: &KeyRecord| SigningKey::from_pkcs8_base64(&k.kid, &k.alg, &k.private_key);
    let signing = parse(default)?;
    let others = current
        .into_iter()
        .map(parse)
        .collect::<Result<Vec<_>, _>>()?;
    let mut published = Vec::with_capacity(records.len());
    for record in &records {
        let jwk: serde_json::Value =
            serde_json::from_str(&record.public_jwk).map_err(|e| KeyError::Unusable {
                kid: record.kid.clone(),
                reason: e.to_string(),
            })?;
        published.push(jwk);
    }
    Ok(KeySet::with_signers(signing, others, &published)?)
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotation {
    /// The primary algorithm's key that signs from now on.
    pub current: String,
    /// The keys that stopped signing, of every algorithm.
    pub retired: Vec<String>,
    /// The primary algorithm's key published for the next rotation.
    pub next: String,
    /// Each algorithm's new keys, the primary first.
    pub algorithms: Vec<AlgorithmRotation>,
}

/// One algorithm's part of a rotation.
#[derive(Debug, Clone)]
pub struct AlgorithmRotation {
    /// The algorithm.
    pub alg: String,
    /// Its key that signs from now on.
    pub current: String,
    /// Its key published for the next rotation.
    pub next: String,
}

/// Rotates every algorithm of `algs` (`algs[0]` the primary): its newest
/// `next` key (or a new one, if there is none) becomes `current`, its old
/// `current` key retires, and a new `next` is published. The `current` and
/// `next` keys of algorithms not in `algs` retire. The state changes happen
/// in one transaction, so no server ever finds an algorithm without a key.
pub async fn rotate(store: &Store, algs: &[String], now: i64) -> Result<Rotation, LoadError> {
    primary(algs)?;
    let algs = distinct(algs);
    let records = store.signing_keys().await?;
    // The published `next` key of each algorithm, which is to sign now.
    let plan: Vec<(&str, Option<&str>)> = algs
        .iter()
        .map(|&alg| {
            let next = records
                .iter()
                .find(|k| k.state == "next" && k.alg == alg)
                .map(|k| k.kid.as_str());
            (alg, next)
        })
        .collect();
    // Keys are made first, side by side (RSA takes a while); the state
    // changes that follow are quick.
    let mut wanted = Vec::with_capacity(2 * plan.len());
    for &(alg, published) in &plan {
        if published.is_none() {
            wanted.push((alg, "current"));
        }
        wanted.push((alg, "next"));
    }
    let mut fresh = fresh_keys(&wanted, now, None).await?;
    let mut take = |alg: &str, state: &str| {
        let at = fresh
            .iter()
            .position(|k| k.alg == alg && k.state == state)
            .ok_or_else(|| KeyError::Generate(format!("no {state} key was made for {alg}")))?;
        Ok::<_, LoadError>(fresh.swap_remove(at))
    };
    let (mut promote, mut insert, mut rotated) = (Vec::new(), Vec::new(), Vec::new());
    for &(alg, published) in &plan {
        let current = match published {
            Some(kid) => {
                promote.push(kid.to_string());
                kid.to_string()
            }
            None => {
                let key = take(alg, "current")?;
                let kid = key.kid.clone();
                insert.push(key);
                kid
            }
        };
        let next = take(alg, "next")?;
        rotated.push(AlgorithmRotation {
            alg: alg.to_string(),
            current,
            next: next.kid.clone(),
        });
        insert.push(next);
    }
    let retired: Vec<String> = records
        .iter()
        .filter(|k| k.state == "current" || (k.state == "next" && !promote.contains(&k.kid)))
        .map(|k| k.kid.clone())
        .collect();
    store
        .rotate_signing_keys(&retired, &promote, &insert, now)
        .await?;
    for r in &rotated {
        tracing::info!(alg = %r.alg, current = %r.current, next = %r.next, "rotated the signing keys");
    }
    let primary = rotated[0].clone();
    Ok(Rotation {
        current: primary.current,
        retired,
        next: primary.next,
        algorithms: rotated,
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

/// Reloads the signing keys from the database. Before start-up has
/// published the first key set, it waits for it rather than race it.
pub async fn reload_keys(provider: &Provider) {
    let held = provider.keys().await;
    match load(&provider.store, &provider.config.signing_alg).await {
        Ok(keys) => {
            let signing = |set: &KeySet| -> Vec<String> {
                set.signers().iter().map(|k| k.kid.clone()).collect()
            };
            if signing(&keys) == signing(&held) && keys.jwks_json == held.jwks_json {
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
