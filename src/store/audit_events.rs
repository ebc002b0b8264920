//! The audit log table: written in batches, read newest first with filters.

use super::{Store, StoreError};
use crate::model::{AuditFilter, AuditRecord};
use sqlx::any::AnyRow;
use sqlx::Row;

fn from_row(row: &AnyRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        event: row.try_get("event")?,
        actor: row.try_get("actor")?,
        actor_name: row.try_get("actor_name")?,
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        client_id: row.try_get("client_id")?,
        ip: row.try_get("ip")?,
        detail: row.try_get("detail")?,
    })
}

impl Store {
    /// Writes events in one transaction.
    pub async fn insert_audit_events(&self, events: &[AuditRecord]) -> Result<(), StoreError> {
        // Many rows a statement: each statement is a round trip (to the
        // SQLite worker thread or the Postgres server), and the token path
        // records an event per response.
        const ROWS_PER_STATEMENT: usize = 32;
        const COLUMNS: usize = 10;
        let events = events.to_vec();
        self.write_lanes
            .run(move |connection| {
                Box::pin(async move {
                    use sqlx::Connection;
                let mut tx = connection.begin().await?;
                for chunk in events.chunks(ROWS_PER_STATEMENT) {
                    let mut sql = String::from(
                        "INSERT INTO audit_events (id, at, event, actor, actor_name, user_id, username,
                                                   client_id, ip, detail) VALUES ",
                    );
                    for row in 0..chunk.len() {
                        if row > 0 {
                            sql.push_str(", ");
                        }
                        sql.push('(');
                        for column in 0..COLUMNS {
                            if column > 0 {
                                sql.push_str(", ");
                            }
                            sql.push_str(&format!("${}", row * COLUMNS + column + 1));
                        }
                        sql.push(')');
                    }
                    let mut query = sqlx::query(&sql);
                    for e in chunk {
                        query = query
                            .bind(&e.id)
                            .bind(e.at)
                            .bind(&e.event)
                            .bind(&e.actor)
                            .bind(&e.actor_name)
                            .bind(&e.user_id)
                            .bind(&e.username)
                            .bind(&e.client_id)
                            .bind(&e.ip)
                            .bind(&e.detail);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
                })
            })
            .await
    }

    /// Up to `limit` events matching `filter`, newest first.
    pub async fn audit_events(
        &self,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        // Each condition is always present and switched off by a NULL
        // parameter, so the statement text (and its prepared plan) is one.
        // A prefix is compared as text, not with LIKE: `_` is a wildcard
        // there, and SQLite's LIKE ignores case where Postgres's does not.
        let event_prefix = filter.event.as_deref().filter(|e| e.ends_with('.'));
        let event_exact = filter.event.as_deref().filter(|e| !e.ends_with('.'));
        let rows = sqlx::query(
            // Events from the token path carry only the user id: the
            // username comes from the user, while the account exists.
            "SELECT a.id, a.at, a.event, a.actor, a.actor_name, a.user_id,
                    COALESCE(a.username, u.username) AS username, a.client_id, a.ip, a.detail
             FROM audit_events a LEFT JOIN users u ON u.id = a.user_id
             WHERE ($1 IS NULL OR a.user_id = $1 OR a.username = $1 OR u.username = $1)
               AND ($2 IS NULL OR a.client_id = $2)
               AND ($3 IS NULL OR a.event = $3)
               AND ($4 IS NULL OR substr(a.event, 1, length($4)) = $4)
               AND ($5 IS NULL OR a.at >= $5)
               AND ($6 IS NULL OR a.at <= $6)
               AND ($7 IS NULL OR a.id < $7)
             ORDER BY a.id DESC
             LIMIT $8",
        )
        .bind(filter.user.as_deref())
        .bind(filter.client_id.as_deref())
        .bind(event_exact)
        .bind(event_prefix)
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.before_id.as_deref())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
