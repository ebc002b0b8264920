//! Loading the signing keys from the store, creating the first one on an
//! empty database.

use crate::crypto::keys::{generate_rsa, KeyError, KeySet, SigningKey};
use crate::store::{KeyRecord, Store, StoreError};

/// Why the keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Loads the key set, generating and storing an RSA key if there is none.
pub async fn load_or_create(store: &Store, now: i64) -> Result<KeySet, LoadError> {
    if !store
        .signing_keys()
        .await?
        .iter()
        .any(|k| k.state == "current")
    {
        let generated = tokio::task::spawn_blocking(generate_rsa)
            .await
            .map_err(|e| KeyError::Generate(e.to_string()))??;
        store
            .insert_signing_key(&KeyRecord {
                kid: generated.kid.clone(),
                alg: "RS256".into(),
                private_key: generated.private_key,
                public_jwk: generated.public_jwk.to_string(),
                state: "current".into(),
                created_at: now,
            })
            .await?;
        tracing::info!(kid = %generated.kid, "generated a new RS256 signing key");
    }
    load(store).await
}

/// Builds the key set from what is stored: the newest `current` key signs.
pub async fn load(store: &Store) -> Result<KeySet, LoadError> {
    let records = store.signing_keys().await?;
    let current = records
        .iter()
        .find(|k| k.state == "current")
        .ok_or_else(|| KeyError::Unusable {
            kid: "-".into(),
            reason: "no current signing key".into(),
        })?;
    let signing = SigningKey::from_pkcs8_base64(&current.kid, &current.private_key)?;
    let mut published = Vec::with_capacity(records.len());
    for record in &records {
        let jwk: serde_json::Value =
            serde_json::from_str(&record.public_jwk).map_err(|e| KeyError::Unusable {
                kid: record.kid.clone(),
                reason: e.to_string(),
            })?;
        published.push(jwk);
    }
    Ok(KeySet::new(signing, published)?)
}
