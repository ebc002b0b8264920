//! Storage: one SQL code path for SQLite (embedded default) and Postgres.
//!
//! Queries use sqlx's `Any` driver with `$N` placeholders, which both engines
//! accept. Ids are TEXT, times BIGINT unix seconds, flags INTEGER 0/1 and lists
//! JSON text; conversion happens here, at the storage edge. The few places
//! where the engines differ live in two spots and nowhere else: connecting
//! (URL handling, pragmas) in [`Store::connect`], and the SQL that cannot be
//! written once (full-text search, byte-order comparison) in `dialect`, with
//! the engine's own part of a migration beside the shared one (`migrate`).

mod access;
mod audit_events;
mod cache;
mod clients;
mod codes;
mod consents;
mod device_codes;
mod device_cookies;
mod dialect;
mod email_tokens;
mod grants;
mod interactions;
mod lanes;
mod migrate;
mod outbox;
mod passkeys;
mod password_resets;
mod pruning;
mod recovery_codes;
mod registrations;
mod session_endings;
mod sessions;
mod signing_keys;
mod test_reset;
mod throttle;
mod upstream_trips;
mod upstreams;

pub use upstreams::{Unlinked, WayIn};
mod user_changes;
mod user_search;
mod users;

pub use codes::Redemption;
pub use device_codes::{PollPace, SLOW_DOWN_STEP};
pub use outbox::OutboxCounts;
pub use passkeys::NewPasskey;
pub use pruning::Pruned;
pub use registrations::Registration;
pub use user_search::{MatchCount, COUNTED_PAST_OFFSET};

pub use migrate::count as migration_count;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::time::Duration;

/// Errors crossing the storage boundary.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored value could not be read back (a JSON list, say).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The connection URL names no engine Gatehouse supports.
    #[error("unsupported database URL {0:?}: use sqlite://PATH, sqlite::memory: or postgres://…")]
    UnsupportedUrl(String),
    /// The folder for a SQLite file could not be created.
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        /// The folder that could not be created.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl crate::failure::Failure for StoreError {
    fn is_unavailable(&self) -> bool {
        StoreError::is_unavailable(self)
    }
}

impl StoreError {
    /// Whether the database could not be reached (down, restarting, pool
    /// exhausted): worth a 503 and a retry, not a 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(e) => match e {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    // Postgres: connection exceptions (08xxx), shutting down
                    // or starting up (57P01–57P03).
                    code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            },
            _ => false,
        }
    }
}

/// How the read cache has served, for /metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadCacheStats {
    /// Whether lookups use the cache now (a poller runs and is in step).
    pub active: bool,
    /// Lookups answered from memory.
    pub hits: u64,
    /// Lookups that read the database and kept the answer.
    pub misses: u64,
    /// Lookups that read the database because the cache was not in use.
    pub bypassed: u64,
}

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Embedded SQLite (file or memory).
    Sqlite,
    /// PostgreSQL (and wire-compatible servers).
    Postgres,
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    /// Reads.
    pool: AnyPool,
    /// Writes. On a SQLite file, a pool of one connection of its own: SQLite
    /// lets one writer in at a time, and writers that collide wait in its
    /// busy handler, which sleeps 1, 2, 5, 10… ms; queueing for this
    /// connection instead costs no sleep. Readers (WAL) never wait for it.
    /// Elsewhere the same pool as `pool`.
    writer: AnyPool,
    engine: Engine,
    cache: std::sync::Arc<cache::ReadCache>,
    /// Woken when logout tokens are queued, so the back-channel deliverer
    /// posts them now rather than at its next look.
    logout_wake: std::sync::Arc<tokio::sync::Notify>,
    /// The token path's reads, on connections of `pool` kept checked out
    /// while reads are waiting (see [`lanes`]).
    read_lanes: lanes::Lanes,
    /// The token path's writes, likewise on `writer`.
    write_lanes: lanes::Lanes,
}

impl Store {
    /// Connects to `url`, creating a SQLite file (and its folder) when needed.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let target = resolve_url(url)?;
        let mut options = AnyPoolOptions::new()
            .max_connections(target.max_connections)
            // During a database outage requests fail (503) after this long.
            .acquire_timeout(Duration::from_secs(5));
        if target.engine == Engine::Sqlite {
            // A private or shared-cache memory database lives only as long as a
            // connection to it: never let the pool close the last one.
            // Testing a connection on checkout is a round trip to its
            // worker thread, and a SQLite connection has no server to lose.
            options = options
                .test_before_acquire(false)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
            let wal = target.file_backed;
            options = options.after_connect(move |conn, _meta| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    if wal {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    dialect::open_search_index(conn).await?;
                    Ok(())
                })
            });
        }
        let pool = options.clone().connect(&target.url).await?;
        let writer = if target.engine == Engine::Sqlite && target.file_backed {
            options.max_connections(1).connect(&target.url).await?
        } else {
            pool.clone()
        };
        // A SQLite file has one writer connection: one write lane; readers
        // work side by side, and a few lanes keep both cores busy.
        let (read_lanes, write_lanes) = match (target.engine, target.file_backed) {
            (Engine::Sqlite, true) => (
                lanes::Lanes::start(pool.clone(), 4),
                lanes::Lanes::start(writer.clone(), 1),
            ),
            (Engine::Sqlite, false) => {
                let lanes = lanes::Lanes::start(pool.clone(), 1);
                (lanes.clone(), lanes)
            }
            (Engine::Postgres, _) => (
                lanes::Lanes::direct(pool.clone()),
                lanes::Lanes::direct(pool.clone()),
            ),
        };
        Ok(Store {
            read_lanes,
            write_lanes,
            pool,
            writer,
            engine: target.engine,
            cache: std::sync::Arc::new(cache::ReadCache::new()),
            logout_wake: std::sync::Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// Tries one connection to a server database, without a pool (whose
    /// acquire timeout would hide the cause): `Ok` when it answers. SQLite
    /// needs no server and always passes.
    pub async fn probe(url: &str) -> Result<(), StoreError> {
        sqlx::any::install_default_drivers();
        let target = resolve_url(url)?;
        if target.engine == Engine::Postgres {
            use sqlx::Connection;
            let connection = sqlx::AnyConnection::connect(&target.url).await?;
            connection.close().await?;
        }
        Ok(())
    }

    /// Which engine this store uses.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrate::run(&self.pool, self.engine).await?;
        if self.engine == Engine::Sqlite {
            // The writer connected before the migrations ran.
            dialect::open_search_index(&mut *self.writer.acquire().await?).await?;
        }
        Ok(())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Open and idle connections in the pool.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

struct Target {
    url: String,
    engine: Engine,
    max_connections: u32,
    file_backed: bool,
}

/// Maps the user-facing URL to what the driver needs. The engines differ here:
/// `sqlite::memory:` behind a pool would give each connection its own empty
/// database, so it becomes one shared connection; a SQLite file gets its
/// folder created and `mode=rwc`.
fn resolve_url(url: &str) -> Result<Target, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target {
            url: url.to_string(),
            engine: Engine::Postgres,
            max_connections: 16,
            file_backed: false,
        });
    }
    if url == "sqlite::memory:" || url == "sqlite://:memory:" || url == "sqlite::memory" {
        return Ok(Target {
            url: "sqlite::memory:".to_string(),
            engine: Engine::Sqlite,
            max_connections: 1,
            file_backed: false,
        });
    }
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::UnsupportedUrl(url.to_string()))?;
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(StoreError::UnsupportedUrl(url.to_string()));
    }
    if query.is_some_and(|q| q.contains("mode=memory")) {
        return Ok(Target {
            url: url.to_string(),
            engine: Engine::Sqlite,
            max_connections: 1,
            file_backed: false,
        });
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Folder {
                path: parent.display().to_string(),
                source,
            })?;
        }
    }
    let query = match query {
        Some(q) if q.contains("mode=") => q.to_string(),
        Some(q) => format!("{q}&mode=rwc"),
        None => "mode=rwc".to_string(),
    };
    Ok(Target {
        url: format!("sqlite://{path}?{query}"),
        engine: Engine::Sqlite,
        max_connections: 8,
        file_backed: true,
    })
}

/// Reads a value stored as JSON text in a column (lists, role maps,
/// profiles, custom attributes).
pub(crate) fn json<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// Reads a JSON list of strings stored in a TEXT column.
pub(crate) fn json_list(row: &AnyRow, column: &str) -> Result<Vec<String>, StoreError> {
    json(row, column)
}

/// Encodes a value as JSON text for a column.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Encodes a list of strings for a TEXT column.
pub(crate) fn to_json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_string())
}

/// Reads an INTEGER 0/1 flag: SQLite hands INTEGER back as 64 bits,
/// Postgres as 32.
pub(crate) fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    match row.try_get::<i64, _>(column) {
        Ok(value) => Ok(value != 0),
        Err(_) => Ok(row.try_get::<i32, _>(column)? != 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_file_urls_get_create_mode() {
        let t = resolve_url("sqlite://target/test-urls/x.db").unwrap();
        assert_eq!(t.url, "sqlite://target/test-urls/x.db?mode=rwc");
        assert!(t.file_backed);
    }

    #[test]
    fn memory_is_one_connection() {
        let t = resolve_url("sqlite::memory:").unwrap();
        assert_eq!(t.max_connections, 1);
        assert_eq!(t.engine, Engine::Sqlite);
    }

    #[test]
    fn unknown_scheme_is_refused() {
        assert!(matches!(
            resolve_url("mysql://x"),
            Err(StoreError::UnsupportedUrl(_))
        ));
    }
}
