//! An upstream's signing keys (RFC 7517 JWK Set at its `jwks_uri`), kept
//! for [`FRESH_FOR`]. A token signed with a key id not in the set read
//! earlier makes Gatehouse read the set again (the upstream rotated), but
//! at most once per [`REREAD_AFTER`] per set, so that tokens naming made-up
//! keys cannot turn Gatehouse into a flood of requests to the upstream.

use super::{UpstreamClient, UpstreamError};
use jsonwebtoken::jwk::Jwk;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a key set read once is used without asking again.
pub const FRESH_FOR: Duration = Duration::from_secs(600);
/// The least time between two reads of one set.
pub const REREAD_AFTER: Duration = Duration::from_secs(30);

/// Key sets by URL, with when each was read.
#[derive(Debug, Default)]
pub struct Cache(Mutex<HashMap<String, (Vec<Jwk>, Instant)>>);

/// The keys at `url` that may have signed a token whose header names
/// `kid` (every key of the set when it names none).
pub async fn candidates(
    client: &UpstreamClient,
    url: &str,
    kid: Option<&str>,
) -> Result<Vec<Jwk>, UpstreamError> {
    let cached = client
        .keys
        .0
        .lock()
        .ok()
        .and_then(|map| map.get(url).cloned());
    let matching = |keys: &[Jwk]| -> Vec<Jwk> {
        keys.iter()
            .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
            .cloned()
            .collect()
    };
    if let Some((keys, read)) = &cached {
        let found = matching(keys);
        let fresh = read.elapsed() < FRESH_FOR;
        if (fresh && !found.is_empty()) || read.elapsed() < REREAD_AFTER {
            return Ok(found);
        }
    }
    let keys = read(client, url).await?;
    if let Ok(mut map) = client.keys.0.lock() {
        map.insert(url.to_string(), (keys.clone(), Instant::now()));
    }
    Ok(matching(&keys))
}

/// Reads the set at `url`, keeping the keys this crate can use (a set may
/// hold key types it does not know, and encryption keys).
async fn read(client: &UpstreamClient, url: &str) -> Result<Vec<Jwk>, UpstreamError> {
    let set = client
        .read_json(client.http.get(url))
        .await
        .map_err(|e| match e {
            UpstreamError::BadAnswer(why) => UpstreamError::Keys(why),
            other => other,
        })?;
    let Some(keys) = set.get("keys").and_then(Value::as_array) else {
        return Err(UpstreamError::Keys("no \"keys\" list".into()));
    };
    let usable: Vec<Jwk> = keys
        .iter()
        .filter(|k| k.get("use").and_then(Value::as_str).unwrap_or("sig") == "sig")
        .filter_map(|k| serde_json::from_value(k.clone()).ok())
        .collect();
    if usable.is_empty() {
        return Err(UpstreamError::Keys("no usable signing key".into()));
    }
    Ok(usable)
}
