//! Schema migrations: plain SQL files under `migrations/`, embedded in the
//! binary, applied in order, each recorded in `gatehouse_migrations`.
//!
//! A migration is one file that runs on both engines. Where the DDL must
//! differ (a full-text index: FTS5 on SQLite, GIN on Postgres), the version
//! also has one file per engine under `migrations/sqlite/` and
//! `migrations/postgres/`, applied after the shared one in the same
//! transaction ([`ENGINE_SPECIFIC`]).
//!
//! Each migration runs in one transaction that first claims its version row:
//! when several replicas start together on an empty database, one claims it
//! and the others wait on that row's lock, then see it applied. On an empty
//! database, every version runs in one such transaction instead, sent as
//! one script (a first start's schema in one round trip).

use super::{Engine, StoreError};
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
    (17, include_str!("../../migrations/0017_admin_search.sql")),
];

/// (version, SQLite SQL, Postgres SQL): the part of a migration that differs
/// by engine, run after the shared file of the same version.
const ENGINE_SPECIFIC: &[(i64, &str, &str)] = &[(
    17,
    include_str!("../../migrations/sqlite/0017_admin_search.sql"),
    include_str!("../../migrations/postgres/0017_admin_search.sql"),
)];

/// The engine's own part of migration `version`, if it has one.
fn engine_part(engine: Engine, version: i64) -> Option<&'static str> {
    ENGINE_SPECIFIC
        .iter()
        .find(|(v, _, _)| *v == version)
        .map(|(_, sqlite, postgres)| match engine {
            Engine::Sqlite => *sqlite,
            Engine::Postgres => *postgres,
        })
}

/// How many migrations the binary carries.
pub fn count() -> usize {
    MIGRATIONS.len()
}

pub(super) async fn run(pool: &AnyPool, engine: Engine) -> Result<(), StoreError> {
    // Replicas starting together can collide on the bootstrap DDL (Postgres
    // reports a duplicate catalog entry for a concurrent CREATE TABLE IF NOT
    // EXISTS); the loser retries and then finds the work done.
    let mut attempt = 0;
    loop {
        match run_once(pool, engine).await {
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

async fn run_once(pool: &AnyPool, engine: Engine) -> Result<(), StoreError> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS gatehouse_migrations (
             version BIGINT PRIMARY KEY,
             applied_at BIGINT NOT NULL
         )",
    )
    .await?;
    if applied_count(pool).await? == 0 && apply_all_at_once(pool, engine).await? {
        return Ok(());
    }
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
        let own = engine_part(engine, *version).unwrap_or("");
        for statement in statements(sql).into_iter().chain(statements(own)) {
            tx.execute(statement.as_str()).await?;
        }
        tx.commit().await?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}

/// How many versions the database has.
async fn applied_count(pool: &AnyPool) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM gatehouse_migrations")
        .fetch_one(pool)
        .await?;
    Ok(row.try_get("n")?)
}

/// On an empty database, every version in one transaction and one round
/// trip (the statements sent as one text, unprepared): a first start, and
/// every start of test mode's in-memory database, takes a few milliseconds
/// here instead of a round trip per statement. False if another server
/// claimed the first version meanwhile (its transaction is then waited for
/// by the insert, and the versions are checked one by one).
async fn apply_all_at_once(pool: &AnyPool, engine: Engine) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let now = crate::clock::unix_now();
    let mut script = String::new();
    for (version, sql) in MIGRATIONS {
        let claimed = sqlx::query(
            "INSERT INTO gatehouse_migrations (version, applied_at) VALUES ($1, $2)
             ON CONFLICT (version) DO NOTHING",
        )
        .bind(*version)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let own = engine_part(engine, *version).unwrap_or("");
        for statement in statements(sql).into_iter().chain(statements(own)) {
            script.push_str(&statement);
            script.push_str(";\n");
        }
    }
    sqlx::raw_sql(&script).execute(&mut *tx).await?;
    tx.commit().await?;
    tracing::info!(versions = MIGRATIONS.len(), "created the database schema");
    Ok(true)
}

async fn is_applied(pool: &AnyPool, version: i64) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM gatehouse_migrations WHERE version = $1")
        .bind(version)
        .fetch_one(pool)
        .await?;
    let n: i64 = row.try_get("n")?;
    Ok(n > 0)
}

/// Splits a migration into statements: drops `--` comments, splits on `;`,
/// except inside a `CREATE TRIGGER … BEGIN … END`, whose body is a list of
/// statements. Migrations never put a semicolon inside a string literal.
fn statements(sql: &str) -> Vec<String> {
    let without_comments: String = sql
        .lines()
        .map(|line| match line.find("--") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut statements = Vec::new();
    let mut pending = String::new();
    for piece in without_comments.split(';') {
        if !pending.is_empty() {
            pending.push(';');
        }
        pending.push_str(piece);
        let text = pending.trim();
        let upper = text.to_ascii_uppercase();
        let body_ended = upper
            .strip_suffix("END")
            .is_some_and(|before| before.ends_with(char::is_whitespace));
        if upper.starts_with("CREATE TRIGGER") && !body_ended {
            continue;
        }
        if !text.is_empty() {
            statements.push(text.to_string());
        }
        pending.clear();
    }
    if !pending.trim().is_empty() {
        statements.push(pending.trim().to_string());
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_body_stays_one_statement() {
        let sql = "CREATE TABLE t (a INTEGER); -- a table\n\
                   CREATE TRIGGER t_added AFTER INSERT ON t BEGIN\n\
                     INSERT INTO u VALUES (new.a);\n\
                     DELETE FROM v WHERE a = new.a;\n\
                   END;\n\
                   CREATE INDEX t_a ON t (a);";
        let parts = statements(sql);
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert!(parts[1].starts_with("CREATE TRIGGER") && parts[1].ends_with("END"));
        assert!(parts[1].contains("new.a);"));
    }

    #[test]
    fn every_migration_splits_into_statements() {
        let own = ENGINE_SPECIFIC
            .iter()
            .flat_map(|(_, sqlite, postgres)| [*sqlite, *postgres]);
        for sql in MIGRATIONS.iter().map(|(_, sql)| *sql).chain(own) {
            let parts = statements(sql);
            assert!(
                parts
                    .iter()
                    .all(|s| ["CREATE", "ALTER", "DROP", "UPDATE", "INSERT"]
                        .iter()
                        .any(|verb| s.starts_with(verb))),
                "{parts:?}"
            );
        }
    }
}
