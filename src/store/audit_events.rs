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
    ///
    /// The statement holds only the conditions of the filter's fields that
    /// are set, so that each can use its index, all ending in the id the log
    /// is ordered by: the newest events matching are a walk backwards along
    /// one index that stops after `limit` rows. A filter that matches
    /// through several keys (the user by id or by the username kept with the
    /// event; an event prefix, which stands for the names starting with it)
    /// reads one walk per key and merges them.
    pub async fn audit_events(
        &self,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut params = Params::default();
        // The keys an event may match by: any one of each group.
        let mut groups: Vec<Vec<String>> = Vec::new();
        if let Some(user) = filter.user.as_deref() {
            let given = params.text(user);
            // The user by id; or by the username kept with the event (a
            // deleted user's events keep only that); or, for events that
            // carry only the user id (the token path), by the current
            // username of the user with that id.
            let mut keys = vec![
                format!("e.user_id = {given}"),
                format!("e.username = {given}"),
            ];
            if let Some(id) = self.user_id_by_username(user).await? {
                if id != user {
                    keys.push(format!("e.user_id = {}", params.text(&id)));
                }
            }
            groups.push(keys);
        }
        let event = super::dialect::byte_order(self.engine, "e.event");
        match filter.event.as_deref() {
            Some(prefix) if prefix.ends_with('.') => {
                let names = self.event_names_starting(prefix).await?;
                if names.is_empty() {
                    return Ok(Vec::new());
                }
                let keys = names
                    .iter()
                    .map(|name| format!("{event} = {}", params.text(name)))
                    .collect();
                groups.push(keys);
            }
            Some(name) => groups.push(vec![format!("{event} = {}", params.text(name))]),
            None => {}
        }
        // Conditions every matching event meets.
        let mut common = Vec::new();
        if let Some(client) = filter.client_id.as_deref() {
            common.push(format!("e.client_id = {}", params.text(client)));
        }
        if let Some(since) = filter.since {
            common.push(format!("e.at >= {}", params.int(since)));
        }
        if let Some(until) = filter.until {
            common.push(format!("e.at <= {}", params.int(until)));
        }
        if let Some(before) = filter.before_id.as_deref() {
            common.push(format!("e.id < {}", params.text(before)));
        }
        let limit = params.int(limit);
        let branches: Vec<String> = combinations(&groups)
            .into_iter()
            .map(|keys| {
                let conditions: Vec<&str> = keys
                    .iter()
                    .map(String::as_str)
                    .chain(common.iter().map(String::as_str))
                    .collect();
                if conditions.is_empty() {
                    String::new()
                } else {
                    format!("WHERE {}", conditions.join(" AND "))
                }
            })
            .collect();
        // Events from the token path carry only the user id: the username
        // comes from the user, while the account exists.
        const COLUMNS: &str = "a.id, a.at, a.event, a.actor, a.actor_name, a.user_id,
             COALESCE(a.username, u.username) AS username, a.client_id, a.ip, a.detail";
        // Each walk in a subquery of its own (SQLite allows ORDER BY and
        // LIMIT in a compound's parts only so); UNION drops an event found
        // by two keys. CROSS JOIN keeps SQLite from scanning the whole table
        // in id order to meet the ids found.
        let walks: Vec<String> = branches
            .iter()
            .enumerate()
            .map(|(i, conditions)| {
                format!(
                    "SELECT id FROM (SELECT e.id FROM audit_events e {conditions}
                                     ORDER BY e.id DESC LIMIT {limit}) w{i}"
                )
            })
            .collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM ({}) m
             CROSS JOIN audit_events a LEFT JOIN users u ON u.id = a.user_id
             WHERE a.id = m.id ORDER BY a.id DESC LIMIT {limit}",
            walks.join(" UNION ")
        );
        let mut query = sqlx::query(&sql);
        for value in &params.values {
            query = match value {
                Param::Text(text) => query.bind(text.clone()),
                Param::Int(n) => query.bind(*n),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// The id of the user named `username`, if there is one.
    async fn user_id_by_username(&self, username: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("id")).transpose()?)
    }

    /// The event names recorded that start with `prefix` (which ends in
    /// `.`): those between the prefix and the prefix with its `.` raised to
    /// `/`, in byte order. Read by skipping from one name to the next along
    /// the index, so a name recorded millions of times costs one step.
    async fn event_names_starting(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let upper = format!("{}/", &prefix[..prefix.len() - 1]);
        let event = super::dialect::byte_order(self.engine, "e.event");
        let sql = format!(
            "WITH RECURSIVE names (event) AS (
                 SELECT MIN({event}) FROM audit_events e WHERE {event} >= $1 AND {event} < $2
                 UNION ALL
                 SELECT (SELECT MIN({event}) FROM audit_events e
                         WHERE {event} > n.event AND {event} < $2)
                 FROM names n WHERE n.event IS NOT NULL
             )
             SELECT event FROM names WHERE event IS NOT NULL"
        );
        let rows = sqlx::query(&sql)
            .bind(prefix)
            .bind(upper)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get("event").map_err(StoreError::from))
            .collect()
    }
}

/// A value bound to a placeholder.
enum Param {
    Text(String),
    Int(i64),
}

/// The values of a statement being written, numbered as they are added.
#[derive(Default)]
struct Params {
    values: Vec<Param>,
}

impl Params {
    /// Adds a text value; its placeholder.
    fn text(&mut self, value: &str) -> String {
        self.values.push(Param::Text(value.to_string()));
        format!("${}", self.values.len())
    }

    /// Adds an integer value; its placeholder.
    fn int(&mut self, value: i64) -> String {
        self.values.push(Param::Int(value));
        format!("${}", self.values.len())
    }
}

/// Every way of picking one key from each group (one empty pick when there
/// are no groups).
fn combinations(groups: &[Vec<String>]) -> Vec<Vec<String>> {
    groups.iter().fold(vec![Vec::new()], |picked, group| {
        picked
            .iter()
            .flat_map(|keys| {
                group.iter().map(move |key| {
                    let mut more = keys.clone();
                    more.push(key.clone());
                    more
                })
            })
            .collect()
    })
}
