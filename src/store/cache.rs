//! The read cache: answers for the hottest reads (is this access token still
//! usable, which client is this, what are this user's claims) kept in memory
//! so that userinfo, introspection and client authentication need no database
//! round trip once warm. APIs and custom scopes, which every token for an
//! API or with a custom scope needs, are kept the same way.
//!
//! Correctness comes before speed, so the cache only ever holds answers that
//! a later write can invalidate, and every such write goes through
//! [`Store::changed`]:
//! - in this process, the write drops the whole cache before it returns;
//! - the write also adds one to the shared counter `cache_epoch.n`. Every
//!   server polls that counter every `cache_sync_ms` and drops its cache when
//!   it moves, then records the value it has acted on in `cache_replicas`,
//!   with the time until which it may go on serving from its cache without
//!   renewing that row (`valid_until`);
//! - the writer waits (up to [`PROPAGATION_WAIT`]) until every server whose
//!   row is still valid has acted on its change, so a revocation made
//!   through the CLI or on another replica is in force everywhere when it
//!   returns. RFC 7009 §2 allows a propagation delay; this keeps it to one
//!   poll interval. A server that stops removes its row; one that crashed
//!   is waited for until its row lapses (about a second and a half).
//!
//! A server whose last successful poll is older than three intervals (its
//! database is slow or down) does not trust its cache and reads through. A
//! process that never polls (the CLI, storage tests) never uses the cache.
//! Entries are stamped with the generation current *before* the database was
//! read, so an answer read before an invalidation can never outlive it.

use super::{ReadCacheStats, Store, StoreError};
use crate::model::{ApiRecord, ClientRecord, ScopeRecord, UserRecord};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Entries each shelf holds before it is emptied and starts again (bounds
/// memory; a refill costs one query per key).
const SHELF_CAPACITY: usize = 20_000;

/// The longest an answer is kept, whatever else happens. It bounds the
/// damage of the one failure the counter cannot cover: a write that
/// committed, then could not move the counter (the database went away in
/// between), so other servers never heard of it.
const MAX_AGE: Duration = Duration::from_secs(10);

/// How long a writer waits for other servers to act on its change.
pub const PROPAGATION_WAIT: Duration = Duration::from_secs(2);

/// How often a server renews its row in `cache_replicas` when nothing
/// changes.
const HEARTBEAT_MS: i64 = 1_000;

/// Allowance for clocks of different hosts and a slow database round trip.
const MARGIN_MS: i64 = 500;

/// What an access token check found: usable, and until when its grant lasts
/// (`None` for a token without a grant, such as client_credentials).
#[derive(Debug, Clone, Copy)]
pub(super) struct TokenState {
    pub grant_expires_at: Option<i64>,
}

/// One kind of cached answer, keyed by id.
pub(super) struct Shelf<V> {
    entries: Mutex<HashMap<String, (u64, Instant, V)>>,
}

impl<V: Clone> Shelf<V> {
    fn new() -> Self {
        Shelf {
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn get(&self, key: &str, generation: u64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some((stamp, filled, value)) if *stamp == generation && filled.elapsed() < MAX_AGE => {
                Some(value.clone())
            }
            _ => None,
        }
    }

    pub(super) fn put(&self, key: &str, generation: u64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= SHELF_CAPACITY {
            entries.clear();
        }
        entries.insert(key.to_string(), (generation, Instant::now(), value));
    }

    fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The cache a [`Store`] and its clones share.
pub(super) struct ReadCache {
    /// Bumped to drop everything: entries stamped with another value are dead.
    generation: AtomicU64,
    /// The shared counter's value this process last acted on.
    seen: AtomicI64,
    /// Milliseconds since `started` when the last poll began; 0 before one.
    synced_at_ms: AtomicU64,
    /// Set while a poller runs in this process (servers only).
    polling: AtomicBool,
    /// Poll interval in milliseconds.
    interval_ms: AtomicU64,
    started: Instant,
    /// This process's row in `cache_replicas`.
    replica_id: String,
    last_heartbeat_ms: AtomicI64,
    hits: AtomicU64,
    misses: AtomicU64,
    bypassed: AtomicU64,
    pub(super) tokens: Shelf<TokenState>,
    pub(super) users: Shelf<Arc<UserRecord>>,
    pub(super) clients: Shelf<Arc<ClientRecord>>,
    pub(super) apis: Shelf<Arc<ApiRecord>>,
    /// Every custom scope, under the one key [`ALL`].
    pub(super) scopes: Shelf<Arc<Vec<ScopeRecord>>>,
}

/// The key of shelves that hold one answer for everything.
pub(super) const ALL: &str = "*";

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .field("replica_id", &self.replica_id)
            .finish_non_exhaustive()
    }
}

impl ReadCache {
    pub(super) fn new() -> Self {
        ReadCache {
            generation: AtomicU64::new(1),
            seen: AtomicI64::new(i64::MIN),
            synced_at_ms: AtomicU64::new(0),
            polling: AtomicBool::new(false),
            interval_ms: AtomicU64::new(0),
            started: Instant::now(),
            replica_id: uuid::Uuid::new_v4().to_string(),
            last_heartbeat_ms: AtomicI64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            bypassed: AtomicU64::new(0),
            tokens: Shelf::new(),
            users: Shelf::new(),
            clients: Shelf::new(),
            apis: Shelf::new(),
            scopes: Shelf::new(),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        // Never 0, which means "not synced yet".
        self.started.elapsed().as_millis() as u64 + 1
    }

    /// The generation to stamp (and to look up) entries with, or `None` when
    /// the cache must not be used: no poller, or none recently successful.
    pub(super) fn ticket(&self) -> Option<u64> {
        if !self.polling.load(Ordering::Acquire) {
            return None;
        }
        let synced = self.synced_at_ms.load(Ordering::Acquire);
        let interval = self.interval_ms.load(Ordering::Relaxed);
        if synced == 0 || self.elapsed_ms().saturating_sub(synced) > 3 * interval {
            return None;
        }
        Some(self.generation.load(Ordering::Acquire))
    }

    /// Looks `key` up: the ticket to stamp a fresh answer with (none when
    /// the cache is not in use) and the cached answer, if there is one.
    pub(super) fn find<V: Clone>(&self, shelf: &Shelf<V>, key: &str) -> (Option<u64>, Option<V>) {
        let Some(ticket) = self.ticket() else {
            self.bypassed.fetch_add(1, Ordering::Relaxed);
            return (None, None);
        };
        let found = shelf.get(key, ticket);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        (Some(ticket), found)
    }

    /// Drops every entry.
    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.tokens.clear();
        self.users.clear();
        self.clients.clear();
        self.apis.clear();
        self.scopes.clear();
    }
}

/// Milliseconds since the Unix epoch by the wall clock (heartbeats compare
/// across processes, so not the provider's injectable clock).
fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Store {
    /// Counters of the read cache.
    pub fn read_cache_stats(&self) -> ReadCacheStats {
        let cache = &self.cache;
        ReadCacheStats {
            active: cache.ticket().is_some(),
            hits: cache.hits.load(Ordering::Relaxed),
            misses: cache.misses.load(Ordering::Relaxed),
            bypassed: cache.bypassed.load(Ordering::Relaxed),
        }
    }

    /// Records that cached answers may be wrong now: drops this process's
    /// cache, moves the shared counter, and waits until every other live
    /// server has dropped its own (or [`PROPAGATION_WAIT`] passed). Call it
    /// after the write has committed. It cannot fail the write it follows:
    /// when the counter cannot be moved, that is retried in the background
    /// and logged, and other servers drop the answer after [`MAX_AGE`] at
    /// the latest.
    pub(crate) async fn changed(&self) {
        self.cache.invalidate();
        let n = match self.bump().await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "could not tell other servers of a change; retrying");
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    let store = self.clone();
                    runtime.spawn(async move {
                        for attempt in 1..=5u32 {
                            tokio::time::sleep(Duration::from_millis(200) * attempt).await;
                            if store.bump().await.is_ok() {
                                return;
                            }
                        }
                        tracing::warn!(
                            "other servers were not told of a change; they drop it within {} s",
                            MAX_AGE.as_secs()
                        );
                    });
                }
                return;
            }
        };
        if let Err(e) = self.await_acknowledgements(n).await {
            tracing::warn!(error = %e, "could not check that other servers saw a change");
        }
    }

    /// Moves the shared counter; returns its new value.
    async fn bump(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO cache_epoch (id, n) VALUES (1, 1)
             ON CONFLICT (id) DO UPDATE SET n = cache_epoch.n + 1 RETURNING n",
        )
        .fetch_one(&self.writer)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Waits until every other server whose row is valid has acted on
    /// counter value `n`, or [`PROPAGATION_WAIT`] passed.
    async fn await_acknowledgements(&self, n: i64) -> Result<(), StoreError> {
        let deadline = Instant::now() + PROPAGATION_WAIT;
        loop {
            let lagging = sqlx::query(
                "SELECT COUNT(*) AS n FROM cache_replicas
                 WHERE replica_id <> $1 AND seen < $2 AND valid_until > $3",
            )
            .bind(&self.cache.replica_id)
            .bind(n)
            .bind(wall_ms())
            .fetch_one(&self.pool)
            .await?
            .try_get::<i64, _>("n")?;
            if lagging == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                tracing::warn!(
                    servers = lagging,
                    "a change is not yet acknowledged by every server; going on"
                );
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Keeps this process's cache in step with changes made elsewhere, every
    /// `interval`, until the task is dropped. Only servers run it; without
    /// it the cache stays unused.
    pub async fn sync_cache(&self, interval: Duration) {
        let cache = &self.cache;
        cache
            .interval_ms
            .store(interval.as_millis().max(1) as u64, Ordering::Relaxed);
        cache.polling.store(true, Ordering::Release);
        let _unregister = Unregister(self.clone());
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.sync_once().await {
                tracing::debug!(error = %e, "read cache sync failed; reading through");
            }
        }
    }

    async fn sync_once(&self) -> Result<(), StoreError> {
        let cache = &self.cache;
        let began = cache.elapsed_ms();
        let n: i64 = match sqlx::query("SELECT n FROM cache_epoch WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
        {
            Some(row) => row.try_get("n")?,
            None => 0,
        };
        // `seen` moves only once the row says so too: if writing it fails,
        // the next poll tries again rather than finding nothing new.
        let moved = cache.seen.load(Ordering::Acquire) != n;
        if moved {
            cache.invalidate();
        }
        let now = wall_ms();
        if moved || now - cache.last_heartbeat_ms.load(Ordering::Relaxed) >= HEARTBEAT_MS {
            // Until the next renewal is due, plus the three intervals this
            // server goes on trusting its cache after its last good poll:
            // past that, it is gone or reads through, so no writer need wait.
            let interval = cache.interval_ms.load(Ordering::Relaxed) as i64;
            let valid_until = now + HEARTBEAT_MS + 3 * interval + MARGIN_MS;
            sqlx::query(
                "INSERT INTO cache_replicas (replica_id, seen, valid_until) VALUES ($1, $2, $3)
                 ON CONFLICT (replica_id) DO UPDATE
                 SET seen = excluded.seen, valid_until = excluded.valid_until",
            )
            .bind(&cache.replica_id)
            .bind(n)
            .bind(valid_until)
            .execute(&self.writer)
            .await?;
            cache.last_heartbeat_ms.store(now, Ordering::Relaxed);
        }
        cache.seen.store(n, Ordering::Release);
        cache.synced_at_ms.store(began, Ordering::Release);
        Ok(())
    }

    /// Stops using the cache and removes this server's row, so that writers
    /// do not wait for it: called when the server stops.
    pub async fn leave_cache_sync(&self) {
        self.cache.polling.store(false, Ordering::Release);
        let removed = sqlx::query("DELETE FROM cache_replicas WHERE replica_id = $1")
            .bind(&self.cache.replica_id)
            .execute(&self.writer)
            .await;
        if let Err(e) = removed {
            tracing::debug!(error = %e, "could not remove this server's cache row");
        }
    }

    /// Removes rows of servers gone for a day.
    pub(super) async fn prune_replicas(&self) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM cache_replicas WHERE valid_until < $1")
                .bind(wall_ms() - 86_400_000)
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }
}

/// Stops trusting the cache when the poller ends, however it ends.
struct Unregister(Store);

impl Drop for Unregister {
    fn drop(&mut self) {
        self.0.cache.polling.store(false, Ordering::Release);
    }
}
