//! Reading and changing a test database directly, beside the server or
//! store that uses it: one way to connect on either engine, so that no test
//! carries its own SQLite/Postgres branch.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// A pool on the test database at `database_url` (as `fresh_database` or a
/// `TestApp` gave it). A SQLite file is opened read-write but never
/// created, so a wrong URL fails here rather than reading a new empty file.
/// Close it when done: an open SQLite handle outlives the test otherwise.
pub async fn connect(database_url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    let url = if database_url.starts_with("sqlite") && !database_url.contains("mode=") {
        let joiner = if database_url.contains('?') { '&' } else { '?' };
        format!("{database_url}{joiner}mode=rw")
    } else {
        database_url.to_string()
    };
    AnyPool::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot open the test database {url}: {e}"))
}

/// Every row `sql` returns.
pub async fn rows(database_url: &str, sql: &str) -> Vec<AnyRow> {
    let pool = connect(database_url).await;
    let rows = sqlx::query(sql)
        .fetch_all(&pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    pool.close().await;
    rows
}

/// The `n` column of a one-row query.
pub async fn count(database_url: &str, sql: &str) -> i64 {
    count_with(database_url, sql, &[]).await
}

/// The `n` column of a one-row query, with `$1…` bound to `params` in order.
pub async fn count_with(database_url: &str, sql: &str, params: &[&str]) -> i64 {
    let pool = connect(database_url).await;
    let mut query = sqlx::query(sql);
    for param in params {
        query = query.bind(*param);
    }
    let row = query
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    pool.close().await;
    row.try_get("n").unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs one statement; returns how many rows it changed.
pub async fn execute(database_url: &str, sql: &str) -> u64 {
    let pool = connect(database_url).await;
    let done = sqlx::query(sql)
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    pool.close().await;
    done.rows_affected()
}

/// Runs one statement with foreign-key checks off for its connection (as
/// a database changed by hand, or by an older version, may have been), on
/// either engine; returns how many rows it changed.
pub async fn execute_unchecked(database_url: &str, sql: &str) -> u64 {
    use sqlx::Connection;
    let pool = connect(database_url).await;
    let mut conn = pool.acquire().await.expect("a connection");
    let checks_off = if database_url.starts_with("sqlite") {
        "PRAGMA foreign_keys = OFF"
    } else {
        "SET session_replication_role = replica"
    };
    sqlx::query(checks_off)
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{checks_off}: {e}"));
    let done = sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    // The setting belongs to this connection only: close it rather than
    // hand it back to the pool.
    conn.detach().close().await.ok();
    pool.close().await;
    done.rows_affected()
}
