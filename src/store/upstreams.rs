//! Upstream identity providers and the links from their accounts to local
//! users. The trips to them in progress are `upstream_trips.rs`.

use super::{flag, to_json, Store, StoreError};
use crate::model::{ClaimMapping, UpstreamKind, UpstreamLink, UpstreamRecord};
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str = "id, kind, name, icon, issuer, authorization_endpoint, token_endpoint,
    userinfo_endpoint, client_id, client_secret, scopes, jit, link_by_verified_email, mfa,
    sign_out_upstream, enabled, claims, group_map, created_at, updated_at";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("upstream {what}: {e}"))
}

fn from_row(row: &AnyRow) -> Result<UpstreamRecord, StoreError> {
    let kind: String = row.try_get("kind")?;
    let scopes: String = row.try_get("scopes")?;
    let claims: String = row.try_get("claims")?;
    let group_map: String = row.try_get("group_map")?;
    Ok(UpstreamRecord {
        id: row.try_get("id")?,
        kind: UpstreamKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        name: row.try_get("name")?,
        icon: row.try_get("icon")?,
        issuer: row.try_get("issuer")?,
        authorization_endpoint: row.try_get("authorization_endpoint")?,
        token_endpoint: row.try_get("token_endpoint")?,
        userinfo_endpoint: row.try_get("userinfo_endpoint")?,
        client_id: row.try_get("client_id")?,
        client_secret: row.try_get("client_secret")?,
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        jit: flag(row, "jit")?,
        link_by_verified_email: flag(row, "link_by_verified_email")?,
        mfa: flag(row, "mfa")?,
        sign_out_upstream: flag(row, "sign_out_upstream")?,
        enabled: flag(row, "enabled")?,
        claims: serde_json::from_str::<ClaimMapping>(&claims).map_err(|e| corrupt("claims", e))?,
        group_map: serde_json::from_str(&group_map).map_err(|e| corrupt("group map", e))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn link_from_row(row: &AnyRow) -> Result<UpstreamLink, StoreError> {
    Ok(UpstreamLink {
        upstream_id: row.try_get("upstream_id")?,
        subject: row.try_get("subject")?,
        user_id: row.try_get("user_id")?,
        email: row.try_get("email")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

/// How an upstream is written: the insert, with `tail` after it.
async fn write_upstream(
    store: &Store,
    upstream: &UpstreamRecord,
    tail: &str,
) -> Result<u64, StoreError> {
    let sql = format!(
        "INSERT INTO upstreams ({COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $19, $20) {tail}"
    );
    let done = sqlx::query(&sql)
        .bind(&upstream.id)
        .bind(upstream.kind.as_str())
        .bind(&upstream.name)
        .bind(&upstream.icon)
        .bind(&upstream.issuer)
        .bind(&upstream.authorization_endpoint)
        .bind(&upstream.token_endpoint)
        .bind(&upstream.userinfo_endpoint)
        .bind(&upstream.client_id)
        .bind(&upstream.client_secret)
        .bind(upstream.scopes.join(" "))
        .bind(i64::from(upstream.jit))
        .bind(i64::from(upstream.link_by_verified_email))
        .bind(i64::from(upstream.mfa))
        .bind(i64::from(upstream.sign_out_upstream))
        .bind(i64::from(upstream.enabled))
        .bind(to_json(&upstream.claims)?)
        .bind(to_json(&upstream.group_map)?)
        .bind(upstream.created_at)
        .bind(upstream.updated_at)
        .execute(&store.writer)
        .await?;
    Ok(done.rows_affected())
}

/// How [`Store::remove_way_unless_last`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlinked {
    /// It is gone.
    Done,
    /// There was no such link or passkey.
    NotLinked,
    /// It was the last way to sign in: kept.
    LastWay,
}

/// A way to sign in that a user may remove.
#[derive(Debug, Clone, Copy)]
pub enum WayIn<'a> {
    /// The link to this upstream.
    Link(&'a str),
    /// The passkey with this id.
    Passkey(&'a str),
}

impl Store {
    /// Every upstream, by name.
    pub async fn upstreams(&self) -> Result<Vec<UpstreamRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM upstreams ORDER BY name, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The upstream with this id.
    pub async fn upstream(&self, id: &str) -> Result<Option<UpstreamRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM upstreams WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Adds an upstream; `false` when its id is taken.
    pub async fn insert_upstream(&self, upstream: &UpstreamRecord) -> Result<bool, StoreError> {
        Ok(write_upstream(self, upstream, "ON CONFLICT (id) DO NOTHING").await? > 0)
    }

    /// Adds an upstream or replaces the one with its id (a seed or config
    /// file loading again), keeping the original `created_at`.
    pub async fn upsert_upstream(&self, upstream: &UpstreamRecord) -> Result<(), StoreError> {
        write_upstream(
            self,
            upstream,
            "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name,
                icon = excluded.icon, issuer = excluded.issuer,
                authorization_endpoint = excluded.authorization_endpoint,
                token_endpoint = excluded.token_endpoint,
                userinfo_endpoint = excluded.userinfo_endpoint,
                client_id = excluded.client_id, client_secret = excluded.client_secret,
                scopes = excluded.scopes, jit = excluded.jit,
                link_by_verified_email = excluded.link_by_verified_email, mfa = excluded.mfa,
                sign_out_upstream = excluded.sign_out_upstream, enabled = excluded.enabled,
                claims = excluded.claims, group_map = excluded.group_map,
                updated_at = excluded.updated_at",
        )
        .await?;
        Ok(())
    }

    /// Replaces an existing upstream's settings (all but its id and
    /// `created_at`); `false` when there is none with its id.
    pub async fn update_upstream(&self, upstream: &UpstreamRecord) -> Result<bool, StoreError> {
        if self.upstream(&upstream.id).await?.is_none() {
            return Ok(false);
        }
        self.upsert_upstream(upstream).await?;
        Ok(true)
    }

    /// Removes an upstream with its links and trips; `false` when there
    /// was none.
    pub async fn delete_upstream(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        for sql in [
            "DELETE FROM upstream_links WHERE upstream_id = $1",
            "DELETE FROM upstream_trips WHERE upstream_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        let done = sqlx::query("DELETE FROM upstreams WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The local user an upstream account is linked to.
    pub async fn upstream_link(
        &self,
        upstream_id: &str,
        subject: &str,
    ) -> Result<Option<UpstreamLink>, StoreError> {
        let row = sqlx::query(
            "SELECT upstream_id, subject, user_id, email, created_at, last_used_at
             FROM upstream_links WHERE upstream_id = $1 AND subject = $2",
        )
        .bind(upstream_id)
        .bind(subject)
        .fetch_optional(&self.writer)
        .await?;
        row.as_ref().map(link_from_row).transpose()
    }

    /// A user's links, by upstream.
    pub async fn upstream_links_of(&self, user_id: &str) -> Result<Vec<UpstreamLink>, StoreError> {
        let rows = sqlx::query(
            "SELECT upstream_id, subject, user_id, email, created_at, last_used_at
             FROM upstream_links WHERE user_id = $1 ORDER BY upstream_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(link_from_row).collect()
    }

    /// Links an upstream account to a user; `false` when the account is
    /// linked already, or the user has an account of that upstream linked.
    /// `notice` joins the outbox in the same transaction.
    pub async fn insert_upstream_link(
        &self,
        link: &UpstreamLink,
        notice: Option<&crate::model::NewMail>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "INSERT INTO upstream_links (upstream_id, subject, user_id, email, created_at,
                                         last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&link.upstream_id)
        .bind(&link.subject)
        .bind(&link.user_id)
        .bind(&link.email)
        .bind(link.created_at)
        .bind(link.last_used_at)
        .execute(&mut *tx)
        .await?;
        let linked = done.rows_affected() > 0;
        if linked {
            super::outbox::insert_all(&mut tx, notice, link.created_at).await?;
        }
        tx.commit().await?;
        Ok(linked)
    }

    /// Notes that a link signed its user in.
    pub async fn upstream_link_used(
        &self,
        upstream_id: &str,
        subject: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE upstream_links SET last_used_at = $3 WHERE upstream_id = $1 AND subject = $2",
        )
        .bind(upstream_id)
        .bind(subject)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// How many of the user's links are to upstreams that exist now and
    /// are enabled (those are ways to sign in).
    pub async fn usable_links_of(&self, user_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM upstream_links l JOIN upstreams u ON u.id = l.upstream_id
             WHERE l.user_id = $1 AND u.enabled = 1",
        )
        .bind(user_id)
        .fetch_one(&self.writer)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// How many accounts are linked through the upstream.
    pub async fn links_to_upstream(&self, upstream_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM upstream_links WHERE upstream_id = $1")
            .bind(upstream_id)
            .fetch_one(&self.writer)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Removes a user's link to an upstream unless it is their last way to
    /// sign in (see [`Store::remove_way_unless_last`]).
    pub async fn unlink_unless_last(
        &self,
        user_id: &str,
        upstream_id: &str,
    ) -> Result<Unlinked, StoreError> {
        self.remove_way_unless_last(user_id, WayIn::Link(upstream_id))
            .await
    }

    /// Removes one of a user's ways to sign in (a link, a passkey) unless
    /// none would be left: a password, a passkey, a link to an enabled
    /// upstream. The user's row is locked first (a no-op UPDATE, which
    /// Postgres holds to the end of the transaction and SQLite takes as
    /// its write lock), so that two removals at once cannot each count on
    /// what the other removes.
    pub async fn remove_way_unless_last(
        &self,
        user_id: &str,
        way: WayIn<'_>,
    ) -> Result<Unlinked, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let (this, delete) = match way {
            WayIn::Link(_) => (
                "SELECT COUNT(*) AS n FROM upstream_links WHERE user_id = $1 AND upstream_id = $2",
                "DELETE FROM upstream_links WHERE user_id = $1 AND upstream_id = $2",
            ),
            WayIn::Passkey(_) => (
                "SELECT COUNT(*) AS n FROM passkeys WHERE user_id = $1 AND id = $2",
                "DELETE FROM passkeys WHERE user_id = $1 AND id = $2",
            ),
        };
        let target = match way {
            WayIn::Link(id) | WayIn::Passkey(id) => id,
        };
        let found: i64 = sqlx::query(this)
            .bind(user_id)
            .bind(target)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if found == 0 {
            return Ok(Unlinked::NotLinked);
        }
        let row = sqlx::query(
            "SELECT
               (SELECT COUNT(*) FROM users WHERE id = $1 AND password_hash <> '') AS pwd,
               (SELECT COUNT(*) FROM passkeys WHERE user_id = $1) AS keys,
               (SELECT COUNT(*) FROM upstream_links l JOIN upstreams u ON u.id = l.upstream_id
                 WHERE l.user_id = $1 AND u.enabled = 1) AS links",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        let count = |name: &str| -> Result<i64, StoreError> { Ok(row.try_get(name)?) };
        let ways = count("pwd")? + count("keys")? + count("links")?;
        // What goes away counts only if it was a way in (a link to a
        // disabled upstream is none).
        let counted: i64 = match way {
            WayIn::Passkey(_) => 1,
            WayIn::Link(id) => {
                sqlx::query("SELECT COUNT(*) AS n FROM upstreams WHERE id = $1 AND enabled = 1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("n")?
            }
        };
        if ways - counted < 1 {
            return Ok(Unlinked::LastWay);
        }
        sqlx::query(delete)
            .bind(user_id)
            .bind(target)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if matches!(way, WayIn::Passkey(_)) {
            self.changed().await;
        }
        Ok(Unlinked::Done)
    }

    /// Removes a user's link to an upstream; `false` when there was none.
    pub async fn delete_upstream_link(
        &self,
        user_id: &str,
        upstream_id: &str,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM upstream_links WHERE user_id = $1 AND upstream_id = $2")
                .bind(user_id)
                .bind(upstream_id)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}
