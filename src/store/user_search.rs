//! The admin's user search: every word typed (letters and digits, any
//! case) must start a word of a user's username, name or email. The word
//! index behind it is engine-specific (SQLite FTS5, Postgres full-text
//! search; see `dialect`), and counting stops a bounded way past the page,
//! so a search that matches most users costs no more than one that matches
//! a few.

use super::users::{from_row, COLUMNS};
use super::{dialect, Store, StoreError};
use crate::model::UserRecord;
use sqlx::any::AnyRow;
use sqlx::Row;

/// How many matches past the requested page's offset a user search counts
/// before it reports "at least".
pub const COUNTED_PAST_OFFSET: i64 = 1000;

/// How many users a search matches: `count` exactly, or at least `count`
/// when counting stopped there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchCount {
    /// The count.
    pub count: i64,
    /// Whether it is all of them.
    pub exact: bool,
}

/// The words of a user search: runs of letters and digits, in lower case.
fn search_words(search: &str) -> Vec<String> {
    search
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl Store {
    /// A page of users matching `search`, ordered by username, and how
    /// many match. A user matches when each word of the search (a run of
    /// letters and digits, any case) starts a word of their username, name
    /// or email: `ali exa` finds alice@example.com. A search with no such
    /// word looks for the username or the email as typed. Counting stops
    /// past [`COUNTED_PAST_OFFSET`] matches after `offset`, so a search
    /// that matches most users costs no more than one that matches a few.
    pub async fn list_users(
        &self,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<UserRecord>, MatchCount), StoreError> {
        let counted_up_to = offset + COUNTED_PAST_OFFSET;
        let (rows, counted) = match search.map(search_words) {
            None => {
                let counted: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM users LIMIT $1) m",
                )
                .bind(counted_up_to + 1)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
                let sql =
                    format!("SELECT {COLUMNS} FROM users ORDER BY username LIMIT $1 OFFSET $2");
                let rows = sqlx::query(&sql)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                (rows, counted)
            }
            Some(words) if words.is_empty() => {
                // Nothing to search words for (`%`, `+-+`): usernames may
                // still be made of such characters.
                let exact = "username = $1 OR LOWER(email) = LOWER($1)";
                let typed = search.unwrap_or_default();
                let counted: i64 =
                    sqlx::query(&format!("SELECT COUNT(*) AS n FROM users WHERE {exact}"))
                        .bind(typed)
                        .fetch_one(&self.pool)
                        .await?
                        .try_get("n")?;
                let sql = format!(
                    "SELECT {COLUMNS} FROM users WHERE {exact}
                     ORDER BY username LIMIT $2 OFFSET $3"
                );
                let rows = sqlx::query(&sql)
                    .bind(typed)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                (rows, counted)
            }
            Some(words) => {
                let query = dialect::word_prefix_query(self.engine, &words);
                let matching = dialect::matching_user_ids(self.engine);
                let counted: i64 = sqlx::query(&format!(
                    "SELECT COUNT(*) AS n FROM ({matching} LIMIT $2) m"
                ))
                .bind(&query)
                .bind(counted_up_to + 1)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
                let rows = if counted <= counted_up_to {
                    // Few enough to read them all from the word index and
                    // sort them. The LIMIT (all of them) keeps Postgres from
                    // merging the subquery into a walk of the username index
                    // that checks every user's words.
                    let sql = format!(
                        "SELECT {COLUMNS} FROM ({matching} LIMIT $4) m CROSS JOIN users
                         WHERE users.id = m.user_id
                         ORDER BY users.username LIMIT $2 OFFSET $3"
                    );
                    sqlx::query(&sql)
                        .bind(&query)
                        .bind(limit)
                        .bind(offset)
                        .bind(counted_up_to + 1)
                        .fetch_all(&self.pool)
                        .await?
                } else {
                    // So many match that walking the users in username order
                    // meets a page of them soon.
                    let ids = self.walk_matching(&words, limit, offset).await?;
                    self.users_by_ids(&ids).await?
                };
                (rows, counted)
            }
        };
        let count = if counted > counted_up_to {
            MatchCount {
                count: counted_up_to,
                exact: false,
            }
        } else {
            MatchCount {
                count: counted,
                exact: true,
            }
        };
        let mut users: Vec<UserRecord> = rows.iter().map(from_row).collect::<Result<_, _>>()?;
        self.fill_groups(&mut users).await?;
        Ok((users, count))
    }

    /// The ids of the users matching `words`, in username order, from the
    /// `offset`th match on and at most `limit`: the users read in username
    /// order, a batch at a time, and checked here the way the word index
    /// splits them. Meant for searches that match many users.
    async fn walk_matching(
        &self,
        words: &[String],
        limit: i64,
        offset: i64,
    ) -> Result<Vec<String>, StoreError> {
        const BATCH: i64 = 2000;
        let mut skipped = 0;
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        loop {
            // Two statements, so that each reads a range of the username
            // index.
            let rows = match &after {
                None => {
                    sqlx::query(
                        "SELECT id, username, name, email FROM users
                         ORDER BY username LIMIT $1",
                    )
                    .bind(BATCH)
                    .fetch_all(&self.pool)
                    .await?
                }
                Some(last) => {
                    sqlx::query(
                        "SELECT id, username, name, email FROM users
                         WHERE username > $1 ORDER BY username LIMIT $2",
                    )
                    .bind(last)
                    .bind(BATCH)
                    .fetch_all(&self.pool)
                    .await?
                }
            };
            for row in &rows {
                let username: String = row.try_get("username")?;
                let name: Option<String> = row.try_get("name")?;
                let email: Option<String> = row.try_get("email")?;
                let own: Vec<String> = [Some(username.as_str()), name.as_deref(), email.as_deref()]
                    .into_iter()
                    .flatten()
                    .flat_map(search_words)
                    .collect();
                if words
                    .iter()
                    .all(|w| own.iter().any(|o| o.starts_with(w.as_str())))
                {
                    if skipped < offset {
                        skipped += 1;
                    } else {
                        ids.push(row.try_get("id")?);
                        if ids.len() as i64 >= limit {
                            return Ok(ids);
                        }
                    }
                }
                after = Some(username);
            }
            if (rows.len() as i64) < BATCH {
                return Ok(ids);
            }
        }
    }

    /// The rows of the users with these ids, in username order.
    async fn users_by_ids(&self, ids: &[String]) -> Result<Vec<AnyRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM users WHERE id IN ({}) ORDER BY username",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id.clone());
        }
        Ok(query.fetch_all(&self.pool).await?)
    }
}
