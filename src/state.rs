//! What every part of the server shares: configuration, the store, the clock
//! and the signing keys.

use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::keys::KeySet;
use crate::metrics::Metrics;
use crate::store::Store;
use std::sync::{Arc, RwLock};

/// The provider's shared state; protocol logic takes `&Provider`.
#[derive(Debug)]
pub struct Provider {
    /// Settings.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Counters and histograms for /metrics.
    pub metrics: Metrics,
    keys: RwLock<Arc<KeySet>>,
}

impl Provider {
    /// Bundles the parts.
    pub fn new(config: Config, store: Store, clock: Arc<dyn Clock>, keys: KeySet) -> Provider {
        Provider {
            config,
            store,
            clock,
            metrics: Metrics::new(),
            keys: RwLock::new(Arc::new(keys)),
        }
    }

    /// The current unix time.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The keys in force (cheap: one reference count).
    pub fn keys(&self) -> Arc<KeySet> {
        match self.keys.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the keys in force (after a rotation).
    pub fn set_keys(&self, keys: KeySet) {
        let keys = Arc::new(keys);
        match self.keys.write() {
            Ok(mut guard) => *guard = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }
}
