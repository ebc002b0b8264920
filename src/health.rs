//! What the operations endpoints report: readiness (the database answers, a
//! signing key is loaded, start-up work is done) and the metrics that are
//! read off the pool and the read cache when scraped.

use crate::state::Provider;
use std::time::Duration;

/// A load balancer wants a quick answer, not one after the pool's acquire
/// timeout.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether this server can serve sign-ins.
#[derive(Debug, Clone)]
pub struct Readiness {
    /// `Ok` when the database answered, the reason otherwise.
    pub database: Result<(), String>,
    /// The kid of the key that signs, empty when none is loaded.
    pub signing_key: String,
    /// Start-up work (loading or making the signing keys, the first-run
    /// admin) is still under way.
    pub starting: bool,
}

impl Readiness {
    /// Ready for traffic.
    pub fn ready(&self) -> bool {
        self.database.is_ok() && !self.signing_key.is_empty() && !self.starting
    }
}

/// Checks the database (within [`PING_TIMEOUT`]) and the keys.
pub async fn readiness(provider: &Provider) -> Readiness {
    let database = match tokio::time::timeout(PING_TIMEOUT, provider.store.ping()).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "the database did not answer within {} s",
            PING_TIMEOUT.as_secs()
        )),
    };
    Readiness {
        database,
        // Not waited for: a server still making its keys says so.
        signing_key: provider
            .loaded_keys()
            .map(|keys| keys.signing.kid.clone())
            .unwrap_or_default(),
        starting: provider.is_starting(),
    }
}

/// The metrics in Prometheus text format, with the connection pool's and
/// the read cache's figures read now.
pub fn metrics_text(provider: &Provider) -> String {
    let (open, idle) = provider.store.pool_stats();
    provider.metrics.db_connections.set(i64::from(open));
    provider.metrics.db_idle_connections.set(idle as i64);
    provider
        .metrics
        .test_mode
        .set(i64::from(provider.test_mode()));
    let cache = provider.store.read_cache_stats();
    for (result, total) in [
        ("hit", cache.hits),
        ("miss", cache.misses),
        ("bypassed", cache.bypassed),
    ] {
        let counter = provider
            .metrics
            .read_cache_lookups
            .with_label_values(&[result]);
        counter.inc_by(total.saturating_sub(counter.get()));
    }
    provider.metrics.render()
}
