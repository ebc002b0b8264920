//! The SQL that must differ between SQLite and Postgres, kept in one place:
//! the rest of the store writes one statement for both.
//!
//! - Comparing text in byte order (an audit event name against a prefix's
//!   bounds): SQLite compares bytes by default; Postgres compares in the
//!   database's collation unless told `COLLATE "C"`, and its index on the
//!   event name is declared so (migrations/postgres/0017_admin_search.sql).
//! - Searching users by the words of their username, name and email: an FTS5
//!   table on SQLite (migrations/sqlite/0017_admin_search.sql), a GIN index
//!   on a `tsvector` expression on Postgres. Both see the same words: runs of
//!   letters and digits, compared in lower case.

use super::Engine;

/// `column` compared in byte order.
pub(super) fn byte_order(engine: Engine, column: &str) -> String {
    match engine {
        Engine::Sqlite => column.to_string(),
        Engine::Postgres => format!("{column} COLLATE \"C\""),
    }
}

/// A search for users whose words start with each of the given words, in
/// the engine's own query syntax (bound as `$1` in the conditions below).
/// The words hold only letters and digits, so none is an operator.
pub(super) fn word_prefix_query(engine: Engine, words: &[String]) -> String {
    match engine {
        // FTS5: `"alice"* "exa"*`, each a prefix of a word, all required.
        Engine::Sqlite => words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" "),
        // tsquery: `alice:* & exa:*`.
        Engine::Postgres => words
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & "),
    }
}

/// The words Postgres indexes for a user: the expression of the `users_words`
/// index, repeated exactly so that the planner uses it.
const POSTGRES_WORDS: &str = "to_tsvector('simple', regexp_replace(
        username || ' ' || COALESCE(name, '') || ' ' || COALESCE(email, ''),
        '[^[:alnum:]]+', ' ', 'g'))";

/// The ids of the users matching the query bound as `$1`, read from the
/// word index (the statement a count or a small result set starts from).
pub(super) fn matching_user_ids(engine: Engine) -> String {
    match engine {
        Engine::Sqlite => "SELECT r.user_id FROM user_search s
                           JOIN user_search_rows r ON r.row = s.rowid
                           WHERE user_search MATCH $1"
            .to_string(),
        Engine::Postgres => {
            format!("SELECT id AS user_id FROM users WHERE {POSTGRES_WORDS} @@ to_tsquery('simple', $1)")
        }
    }
}

/// Opens SQLite's user-search table on `conn`, outside any transaction.
///
/// FTS5 reads its settings when a connection first uses the table. Inside a
/// write transaction (a user inserted, changed or deleted fires the triggers
/// that keep the table in step) that read would hold a snapshot while
/// waiting to write, and a writer of another process would make SQLite
/// answer "database is locked" at once rather than wait. So each SQLite
/// connection opens the table when it connects, and the writer again after
/// the migrations that may have created it.
pub(super) async fn open_search_index(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    use sqlx::Row;
    let exists: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'user_search'",
    )
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    if exists > 0 {
        sqlx::query("SELECT rowid FROM user_search WHERE rowid = 0")
            .fetch_optional(&mut *conn)
            .await?;
    }
    Ok(())
}
