//! Groups and their members, custom scopes, and APIs (resource servers).
//! APIs and custom scopes are read through the read cache: the token path
//! needs them whenever a token is for an API or releases a custom claim.
//! Every write here goes through [`Store::changed`], so a removed member
//! loses the group everywhere before the write returns.

use super::cache::ALL;
use super::{json, json_list, to_json, to_json_list, Store, StoreError};
use crate::model::{ApiRecord, GroupRecord, ScopeRecord};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::sync::Arc;

fn api_from_row(row: &AnyRow) -> Result<ApiRecord, StoreError> {
    Ok(ApiRecord {
        identifier: row.try_get("identifier")?,
        name: row.try_get("name")?,
        scopes: json(row, "scopes")?,
        roles: json(row, "roles")?,
        access_token_ttl: row.try_get("access_token_ttl")?,
        signing_alg: row.try_get("signing_alg")?,
    })
}

const API_COLUMNS: &str = "identifier, name, scopes, roles, access_token_ttl, signing_alg";

impl Store {
    /// Every group with its member count, by name.
    pub async fn groups(&self) -> Result<Vec<GroupRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.name, g.description,
                    (SELECT COUNT(*) FROM group_members m WHERE m.group_name = g.name) AS members
             FROM user_groups g ORDER BY g.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(GroupRecord {
                    name: row.try_get("name")?,
                    description: row.try_get("description")?,
                    members: row.try_get("members")?,
                })
            })
            .collect()
    }

    /// Creates the group or changes its description.
    pub async fn upsert_group(
        &self,
        name: &str,
        description: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO user_groups (name, description, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET description = excluded.description",
        )
        .bind(name)
        .bind(description)
        .bind(now)
        .execute(&self.writer)
        .await?;
        self.changed().await;
        Ok(())
    }

    /// Creates a group; false if the name is taken.
    pub async fn insert_group(
        &self,
        name: &str,
        description: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO user_groups (name, description, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(description)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a group and its memberships; false if there was none.
    pub async fn delete_group(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM group_members WHERE group_name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM user_groups WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.changed().await;
        Ok(done.rows_affected() > 0)
    }

    /// The usernames of a group's members, sorted.
    pub async fn group_members(&self, name: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.username FROM group_members m JOIN users u ON u.id = m.user_id
             WHERE m.group_name = $1 ORDER BY u.username",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get("username")?))
            .collect::<Result<_, StoreError>>()
    }

    /// Adds a user to a group; false if they were a member already.
    pub async fn add_member(&self, group: &str, user_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO group_members (group_name, user_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(group)
        .bind(user_id)
        .execute(&self.writer)
        .await?;
        self.changed().await;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a user from a group; false if they were not a member.
    pub async fn remove_member(&self, group: &str, user_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM group_members WHERE group_name = $1 AND user_id = $2")
            .bind(group)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        self.changed().await;
        Ok(done.rows_affected() == 1)
    }

    /// Makes `groups` exactly the user's groups (in one transaction).
    pub async fn set_memberships(
        &self,
        user_id: &str,
        groups: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM group_members WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for group in groups {
            sqlx::query(
                "INSERT INTO group_members (group_name, user_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(group)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.changed().await;
        Ok(())
    }

    /// Every custom scope, through the read cache.
    pub async fn custom_scopes(&self) -> Result<Arc<Vec<ScopeRecord>>, StoreError> {
        let (ticket, cached) = self.cache.find(&self.cache.scopes, ALL);
        if let Some(scopes) = cached {
            return Ok(scopes);
        }
        let rows = sqlx::query("SELECT name, description, claims FROM custom_scopes ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        let scopes = rows
            .iter()
            .map(|row| {
                Ok(ScopeRecord {
                    name: row.try_get("name")?,
                    description: row.try_get("description")?,
                    claims: json_list(row, "claims")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let scopes = Arc::new(scopes);
        if let Some(t) = ticket {
            self.cache.scopes.put(ALL, t, scopes.clone());
        }
        Ok(scopes)
    }

    /// Creates a custom scope or replaces the one with its name.
    pub async fn upsert_scope(&self, scope: &ScopeRecord, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO custom_scopes (name, description, claims, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET description = excluded.description,
                                              claims = excluded.claims",
        )
        .bind(&scope.name)
        .bind(&scope.description)
        .bind(to_json_list(&scope.claims))
        .bind(now)
        .execute(&self.writer)
        .await?;
        self.changed().await;
        Ok(())
    }

    /// Deletes a custom scope; false if there was none.
    pub async fn delete_scope(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM custom_scopes WHERE name = $1")
            .bind(name)
            .execute(&self.writer)
            .await?;
        self.changed().await;
        Ok(done.rows_affected() > 0)
    }

    /// An API by identifier, through the read cache.
    pub async fn api(&self, identifier: &str) -> Result<Option<Arc<ApiRecord>>, StoreError> {
        let (ticket, cached) = self.cache.find(&self.cache.apis, identifier);
        if cached.is_some() {
            return Ok(cached);
        }
        let sql = format!("SELECT {API_COLUMNS} FROM apis WHERE identifier = $1");
        let row = sqlx::query(&sql)
            .bind(identifier)
            .fetch_optional(&self.pool)
            .await?;
        let api = row.as_ref().map(api_from_row).transpose()?.map(Arc::new);
        if let (Some(t), Some(found)) = (ticket, &api) {
            self.cache.apis.put(identifier, t, found.clone());
        }
        Ok(api)
    }

    /// Every API, by identifier.
    pub async fn apis(&self) -> Result<Vec<ApiRecord>, StoreError> {
        let sql = format!("SELECT {API_COLUMNS} FROM apis ORDER BY identifier");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(api_from_row).collect()
    }

    /// Creates the API or replaces the settings of the one with its identifier.
    pub async fn upsert_api(&self, api: &ApiRecord, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO apis (identifier, name, scopes, roles, access_token_ttl, signing_alg,
                               created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
             ON CONFLICT (identifier) DO UPDATE SET
                 name = excluded.name, scopes = excluded.scopes, roles = excluded.roles,
                 access_token_ttl = excluded.access_token_ttl,
                 signing_alg = excluded.signing_alg, updated_at = excluded.updated_at",
        )
        .bind(&api.identifier)
        .bind(&api.name)
        .bind(to_json(&api.scopes)?)
        .bind(to_json(&api.roles)?)
        .bind(api.access_token_ttl)
        .bind(&api.signing_alg)
        .bind(now)
        .execute(&self.writer)
        .await?;
        self.changed().await;
        Ok(())
    }

    /// Deletes an API; false if there was none. Clients that named it keep
    /// the identifier in their lists, where it matches nothing.
    pub async fn delete_api(&self, identifier: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM apis WHERE identifier = $1")
            .bind(identifier)
            .execute(&self.writer)
            .await?;
        self.changed().await;
        Ok(done.rows_affected() > 0)
    }

    /// The signing algorithms the APIs' tokens use.
    pub async fn api_signing_algs(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT signing_alg FROM apis ORDER BY signing_alg")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get("signing_alg")?))
            .collect::<Result<_, StoreError>>()
    }
}
