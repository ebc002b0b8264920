//! What every part of the server shares: configuration, the store, the clock
//! and the signing keys.
//!
//! The server answers before its signing keys are loaded (a first start
//! generates an RSA key meanwhile): the key set starts out empty, and
//! whatever signs or verifies waits for the first one to be published.

use crate::clock::{Clock, OffsetClock};
use crate::config::Config;
use crate::crypto::key_set::KeySet;
use crate::metrics::Metrics;
use crate::rate_limiter::RateLimiter;
use crate::store::Store;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// In test mode, the same clock as `clock`, which tests move; `None`
    /// outside test mode.
    test_clock: Option<Arc<OffsetClock>>,
    /// Counters and histograms for /metrics.
    pub metrics: Metrics,
    /// Per-address request budgets.
    pub rate_limiter: RateLimiter,
    /// Where sign-ins, tokens and admin actions are recorded.
    pub audit: crate::audit_log::AuditLog,
    /// Access tokens whose signatures already verified.
    pub verified_tokens: crate::crypto::verified_tokens::VerifiedTokens,
    /// The WebAuthn relying party, or why passkeys are off (an issuer on
    /// an IP address).
    pub passkeys: Result<Arc<webauthn_rs::Webauthn>, String>,
    /// The client for upstream identity providers, with its caches.
    pub upstreams: crate::upstream_client::UpstreamClient,
    /// Woken when a message is written to the outbox, so the sender task
    /// sends it now rather than at its next look.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// `None` until start-up has loaded or made the keys; a watch channel so
    /// that requests arriving before then can wait for them.
    keys: tokio::sync::watch::Sender<Option<Arc<KeySet>>>,
    starting: AtomicBool,
    cors_origins: RwLock<Arc<HashSet<String>>>,
    /// `config.base_path()`, parsed from the issuer once: every POST reads it.
    base_path: String,
}

impl Provider {
    /// Bundles the parts, with no signing keys yet ([`Provider::set_keys`]
    /// publishes them); `Err` when the HTTP client for upstream providers
    /// cannot be built.
    /// In test mode (`config.test_mode`), `clock` is wrapped in an
    /// [`OffsetClock`] that `/test/v1/clock` moves.
    pub fn new(config: Config, store: Store, clock: Arc<dyn Clock>) -> Result<Provider, String> {
        let test_clock = config
            .test_mode
            .then(|| Arc::new(OffsetClock::over(clock.clone())));
        let clock = match &test_clock {
            Some(moved) => moved.clone() as Arc<dyn Clock>,
            None => clock,
        };
        Ok(Provider {
            test_clock,
            rate_limiter: RateLimiter::new(&config),
            base_path: config.base_path(),
            audit: crate::audit_log::AuditLog::start(store.clone()),
            verified_tokens: Default::default(),
            passkeys: crate::crypto::passkey::relying_party(&config.issuer, &config.product_name)
                .map(Arc::new),
            upstreams: crate::upstream_client::UpstreamClient::new(config.upstream_timeout_secs)?,
            config,
            store,
            clock,
            metrics: Metrics::new(),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            keys: tokio::sync::watch::Sender::new(None),
            starting: AtomicBool::new(false),
            cors_origins: RwLock::new(Arc::new(HashSet::new())),
        })
    }

    /// The path part of the issuer (`""` or `/prefix`), under which every
    /// endpoint is served.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// Marks start-up work that runs while the server already answers (the
    /// first-run admin) as under way or done; /readyz says ready only after.
    pub fn set_starting(&self, starting: bool) {
        self.starting.store(starting, Ordering::Release);
    }

    /// Whether start-up work is still under way: the work marked with
    /// [`Provider::set_starting`], or loading the signing keys.
    pub fn is_starting(&self) -> bool {
        self.starting.load(Ordering::Acquire) || self.keys.borrow().is_none()
    }

    /// The clock tests move, in test mode; `None` outside it, where nothing
    /// of test mode exists.
    pub fn test_clock(&self) -> Option<&OffsetClock> {
        self.test_clock.as_deref()
    }

    /// Whether the server runs in test mode (the flag or the variable at
    /// start; never a request or a seed).
    pub fn test_mode(&self) -> bool {
        self.test_clock.is_some()
    }

    /// The current unix time.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The keys in force, once start-up has published them: a request that
    /// comes before waits. Cheap once they are in (one reference count).
    pub async fn keys(&self) -> Arc<KeySet> {
        if let Some(keys) = self.keys.borrow().as_ref() {
            return keys.clone();
        }
        let mut published = self.keys.subscribe();
        // The sender lives in `self`, so the channel cannot close meanwhile.
        let keys = published
            .wait_for(Option::is_some)
            .await
            .expect("the key channel is open while the provider lives");
        keys.clone().expect("waited for a published key set")
    }

    /// The keys in force, or `None` while start-up is still making them
    /// (for /readyz, which reports rather than waits).
    pub fn loaded_keys(&self) -> Option<Arc<KeySet>> {
        self.keys.borrow().clone()
    }

    /// Origins allowed to call the token, userinfo, JWKS and discovery
    /// endpoints from a browser: those of registered redirect URIs.
    pub fn cors_origins(&self) -> Arc<HashSet<String>> {
        match self.cors_origins.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the allowed origins from the registered clients.
    pub async fn refresh_cors_origins(&self) -> Result<(), crate::store::StoreError> {
        let origins: HashSet<String> = self
            .store
            .all_redirect_uris()
            .await?
            .iter()
            .filter_map(|uri| crate::redirect_uri::origin_of(uri))
            .collect();
        let origins = Arc::new(origins);
        match self.cors_origins.write() {
            Ok(mut guard) => *guard = origins,
            Err(poisoned) => *poisoned.into_inner() = origins,
        }
        Ok(())
    }

    /// Publishes the keys in force: the first ones at start-up, waking the
    /// requests waiting for them, then new ones after a rotation.
    pub fn set_keys(&self, keys: KeySet) {
        self.keys.send_replace(Some(Arc::new(keys)));
    }
}
