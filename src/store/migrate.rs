//! Schema migrations: plain SQL files under `migrations/`, embedded in the
//! binary, applied in order, each recorded in `gatehouse_migrations`.
//!
//! Each migration runs in one transaction that first claims its version row:
//! when several replicas start together on an empty database, one claims it
//! and the others wait on that row's lock, then see it applied.

use super::StoreError;
use sqlx::{AnyPool, Executor, Row};

/// (version, SQL) in the order they apply.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_core.sql")),
    (2, include_str!("../../migrations/0002_token_lifecycle.sql")),
    (3, include_str!("../../migrations/0003_one_current_key.sql")),
    (
        4,
        include_str!("../../migrations/0004_sign_in_failures.sql"),
    ),
    (5, include_str!("../../migrations/0005_account.sql")),
    (6, include_str!("../../migrations/0006_admin.sql")),
    (7, include_str!("../../migrations/0007_read_cache.sql")),
    (
        8,
        include_str!("../../migrations/0008_rotation_by_successor.sql"),
    ),
    (9, include_str!("../../migrations/0009_access.sql")),
    (
        10,
        include_str!("../../migrations/0010_one_current_key_per_alg.sql"),
    ),
    (11, include_str!("../../migrations/0011_device_cookies.sql")),
    (12, include_str!("../../migrations/0012_passkeys.sql")),
    (13, include_str!("../../migrations/0013_upstreams.sql")),
    (14, include_str!("../../migrations/0014_email.sql")),
    (15, include_str!("../../migrations/0015_device_codes.sql")),
    (
        16,
        include_str!("../../migrations/0016_backchannel_logout.sql"),
    ),
];

/// How many migrations the binary carries.
pub fn count() -> usize {
    MIGRATIONS.len()
}

pub(super) async fn run(pool: &AnyPool) -> Result<(), StoreError> {
    // Replicas starting together can collide on the bootstrap DDL (Postgres
    // reports a duplicate catalog entry for a concurrent CREATE TABLE IF NOT
    // EXISTS); the loser retries and then finds the work done.
    let mut attempt = 0;
    loop {
        match run_once(pool).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 5 => {
                attempt += 1;
                tracing::info!(error = %e, attempt, "migration attempt failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn run_once(pool: &AnyPool) -> Result<(), StoreError> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS gatehouse_migrations (
             version BIGINT PRIMARY KEY,
             applied_at BIGINT NOT NULL
         )",
    )
    .await?;
    for (version, sql) in MIGRATIONS {
        if is_applied(pool, *version).await? {
            continue;
        }
        let mut tx = pool.begin().await?;
        let claimed = sqlx::query(
            "INSERT INTO gatehouse_migrations (version, applied_at) VALUES ($1, $2)
             ON CONFLICT (version) DO NOTHING",
        )
        .bind(*version)
        .bind(crate::clock::unix_now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            // Another process applied it between our check and our claim.
            tx.rollback().await?;
            continue;
        }
        for statement in statements(sql) {
            tx.execute(statement.as_str()).await?;
        }
        tx.commit().await?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}

async fn is_applied(pool: &AnyPool, version: i64) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM gatehouse_migrations WHERE version = $1")
        .bind(version)
        .fetch_one(pool)
        .await?;
    let n: i64 = row.try_get("n")?;
    Ok(n > 0)
}

/// Splits a migration into statements: drops `--` comments, splits on `;`.
/// Migrations never put a semicolon inside a string literal.
fn statements(sql: &str) -> Vec<String> {
    let without_comments: String = sql
        .lines()
        .map(|line| match line.find("--") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_splits_into_statements() {
        for (_, sql) in MIGRATIONS {
            let parts = statements(sql);
            assert!(
                parts.iter().all(|s| ["CREATE", "ALTER", "DROP", "UPDATE"]
                    .iter()
                    .any(|verb| s.starts_with(verb))),
                "{parts:?}"
            );
        }
    }
}
