//! The seed file: groups, custom scopes, APIs, clients and users loaded at
//! start-up (`serve --seed`) or by `gatehouse seed FILE`. Loading is
//! idempotent: records are matched by name, identifier, `client_id` and
//! `username` and updated in place, never duplicated.
//!
//! Reading checks every entry once (`entries`: shapes, reserved claim
//! names) and keeps what the store takes; loading then checks that every
//! group and API named exists in the file or the database before anything
//! is stored, so a seed that fails validation changes nothing.

mod entries;

pub use entries::{SeedApi, SeedApiScope, SeedClient, SeedFile, SeedGroup, SeedScope, SeedUser};

use crate::account::password::hash_password;
use crate::admin::upstreams::{self, UpstreamSettings};
use crate::model::{ApiRecord, NewClient, ScopeRecord, UpstreamRecord};
use crate::store::Store;
use entries::PlannedUser;
use std::path::Path;

/// Why a seed file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// Unreadable file.
    #[error("cannot read seed file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or unknown fields.
    #[error("seed file {path} is invalid: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A value is not acceptable.
    #[error("seed file: {0}")]
    Invalid(String),
    /// Storing failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Password hashing failed.
    #[error(transparent)]
    Account(#[from] crate::account::AccountError),
}

/// A seed file read and checked: what the store takes, ready to load.
pub struct Seed {
    groups: Vec<(String, String)>,
    scopes: Vec<ScopeRecord>,
    apis: Vec<ApiRecord>,
    clients: Vec<NewClient>,
    users: Vec<PlannedUser>,
    upstreams: Vec<UpstreamRecord>,
    /// Loaded for test mode: new users get their username as id (their
    /// `sub`), not a UUID, and passwords are hashed at the lowest cost.
    for_test_mode: bool,
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Counts only: the seed holds passwords.
        f.debug_struct("Seed")
            .field("groups", &self.groups.len())
            .field("scopes", &self.scopes.len())
            .field("apis", &self.apis.len())
            .field("clients", &self.clients.len())
            .field("users", &self.users.len())
            .field("upstreams", &self.upstreams.len())
            .finish()
    }
}

/// Reads and checks a seed file.
pub fn read(path: &Path) -> Result<Seed, SeedError> {
    let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let file: SeedFile = toml::from_str(&text).map_err(|e| SeedError::Parse {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Seed::of(&file)
}

impl Seed {
    /// Checks every entry of `file`.
    pub fn of(file: &SeedFile) -> Result<Seed, SeedError> {
        let mut groups: Vec<(String, String)> = Vec::with_capacity(file.groups.len());
        for g in &file.groups {
            let checked = g.checked()?;
            if groups.iter().any(|(name, _)| *name == checked.0) {
                return Err(SeedError::Invalid(format!(
                    "group {:?} is listed twice",
                    g.name
                )));
            }
            groups.push(checked);
        }
        Ok(Seed {
            groups,
            scopes: file
                .scopes
                .iter()
                .map(|s| s.checked())
                .collect::<Result<_, _>>()?,
            apis: file
                .apis
                .iter()
                .map(|a| a.checked())
                .collect::<Result<_, _>>()?,
            clients: file
                .clients
                .iter()
                .map(|c| c.checked())
                .collect::<Result<_, _>>()?,
            users: file
                .users
                .iter()
                .map(|u| u.checked())
                .collect::<Result<_, _>>()?,
            upstreams: checked_upstreams(&file.upstreams)?,
            for_test_mode: false,
        })
    }

    /// How many clients the seed holds.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// How many users the seed holds.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// Checks that every group and API the seed names is in it or already
    /// stored.
    async fn check_references(&self, store: &Store) -> Result<(), SeedError> {
        let mut known_groups: Vec<String> = self.groups.iter().map(|g| g.0.clone()).collect();
        known_groups.extend(store.groups().await?.into_iter().map(|g| g.name));
        let mut known_apis: Vec<String> = self.apis.iter().map(|a| a.identifier.clone()).collect();
        known_apis.extend(store.apis().await?.into_iter().map(|a| a.identifier));
        let group = |owner: String, name: &String| {
            if known_groups.contains(name) {
                Ok(())
            } else {
                Err(SeedError::Invalid(format!(
                    "{owner}: there is no group {name:?} (add it under [[groups]])"
                )))
            }
        };
        for a in &self.apis {
            for g in a.roles.values().flatten() {
                group(format!("API {:?}", a.identifier), g)?;
            }
        }
        for c in &self.clients {
            for g in c.allowed_groups.iter().chain(c.roles.values().flatten()) {
                group(format!("client {:?}", c.client_id), g)?;
            }
            for a in c.apis.iter().chain(&c.introspects) {
                if !known_apis.contains(a) {
                    return Err(SeedError::Invalid(format!(
                        "client {:?}: there is no API {a:?} (add it under [[apis]])",
                        c.client_id
                    )));
                }
            }
        }
        for u in &self.users {
            for g in u.groups.iter().flatten() {
                group(format!("user {:?}", u.user.username), g)?;
            }
        }
        for u in &self.upstreams {
            for g in u.group_map.values() {
                group(format!("upstream {:?}", u.id), g)?;
            }
            if let Some(stored) = store.upstream(&u.id).await? {
                upstreams::check_same_accounts(store, &stored, u)
                    .await
                    .map_err(|e| SeedError::Invalid(e.to_string()))?;
            }
        }
        Ok(())
    }

    /// Loads the seed as test mode does: new users' ids (their `sub`) are
    /// their usernames, so that a suite knows the subjects it will see,
    /// the same after every reset and restart; and their passwords are
    /// hashed at the lowest cost (`crypto::password::hash_password_for_tests`),
    /// so that a start or a reset takes milliseconds.
    pub fn for_test_mode(mut self) -> Seed {
        self.for_test_mode = true;
        self
    }

    /// Stores every group, scope, API, client and user (creating or updating).
    pub async fn apply(&self, store: &Store, now: i64) -> Result<(), SeedError> {
        let hashing = self.hash_passwords();
        self.apply_hashed(store, now, hashing).await
    }

    /// Starts hashing every user's password at once, on the blocking pool
    /// (several users load in the time of one). It needs no database, so a
    /// start-up begins it before the migrations.
    pub fn hash_passwords(&self) -> PasswordHashing {
        PasswordHashing(
            self.users
                .iter()
                .map(|u| {
                    let password = u.password.clone();
                    match self.for_test_mode {
                        true => tokio::task::spawn_blocking(move || {
                            Ok(crate::crypto::password::hash_password_for_tests(&password))
                        }),
                        false => tokio::spawn(hash_password(password)),
                    }
                })
                .collect(),
        )
    }

    /// [`Seed::apply`] with the passwords' hashing already under way.
    pub async fn apply_hashed(
        &self,
        store: &Store,
        now: i64,
        hashing: PasswordHashing,
    ) -> Result<(), SeedError> {
        self.check_references(store).await?;
        for (name, description) in &self.groups {
            store.upsert_group(name, description, now).await?;
        }
        for scope in &self.scopes {
            store.upsert_scope(scope, now).await?;
        }
        for api in &self.apis {
            store.upsert_api(api, now).await?;
        }
        for client in &self.clients {
            store.upsert_client(client, now).await?;
        }
        store_upstreams(store, &self.upstreams, now).await?;
        for (planned, hashed) in self.users.iter().zip(hashing.0) {
            let password_hash = hashed
                .await
                .map_err(|_| crate::account::AccountError::Cancelled)??;
            let user = crate::model::NewUser {
                password_hash,
                ..planned.user.clone()
            };
            let id = match self.for_test_mode {
                true => {
                    store
                        .upsert_user_as(&user, now, planned.with_claims, &user.username)
                        .await?
                }
                false => store.upsert_user(&user, now, planned.with_claims).await?,
            };
            if let Some(groups) = &planned.groups {
                store.set_memberships(&id, groups).await?;
            }
        }
        tracing::info!(
            groups = self.groups.len(),
            apis = self.apis.len(),
            clients = self.clients.len(),
            users = self.users.len(),
            upstreams = self.upstreams.len(),
            "seed loaded"
        );
        Ok(())
    }
}

/// The seed users' password hashes being made, in the order of its users.
#[derive(Debug)]
pub struct PasswordHashing(
    Vec<tokio::task::JoinHandle<Result<String, crate::account::AccountError>>>,
);

/// Checks `[[upstreams]]` entries (`admin::upstreams::checked`), each id
/// once.
fn checked_upstreams(entries: &[UpstreamSettings]) -> Result<Vec<UpstreamRecord>, SeedError> {
    let mut checked: Vec<UpstreamRecord> = Vec::with_capacity(entries.len());
    for entry in entries {
        let upstream =
            upstreams::checked(entry, None, 0).map_err(|e| SeedError::Invalid(e.to_string()))?;
        if checked.iter().any(|u| u.id == upstream.id) {
            return Err(SeedError::Invalid(format!(
                "upstream {:?} is listed twice",
                upstream.id
            )));
        }
        checked.push(upstream);
    }
    Ok(checked)
}

/// Adds or replaces each upstream, keeping a stored one's `created_at`.
async fn store_upstreams(
    store: &Store,
    list: &[UpstreamRecord],
    now: i64,
) -> Result<(), SeedError> {
    for upstream in list {
        let created_at = match store.upstream(&upstream.id).await? {
            Some(stored) => {
                upstreams::check_same_accounts(store, &stored, upstream)
                    .await
                    .map_err(|e| SeedError::Invalid(e.to_string()))?;
                stored.created_at
            }
            None => now,
        };
        store
            .upsert_upstream(&UpstreamRecord {
                created_at,
                updated_at: now,
                ..upstream.clone()
            })
            .await?;
    }
    Ok(())
}

/// Reads the config file's `[[upstreams]]` (the seed file's format) and
/// stores them, after checking that the groups they map to exist.
pub async fn load_config_upstreams(
    store: &Store,
    tables: &[toml::Table],
    now: i64,
) -> Result<usize, SeedError> {
    let entries = tables
        .iter()
        .map(|t| {
            toml::Value::Table(t.clone())
                .try_into::<UpstreamSettings>()
                .map_err(|e| SeedError::Invalid(format!("config file [[upstreams]]: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let list = checked_upstreams(&entries)?;
    let known: Vec<String> = store.groups().await?.into_iter().map(|g| g.name).collect();
    for u in &list {
        if let Some(missing) = u.group_map.values().find(|g| !known.contains(g)) {
            return Err(SeedError::Invalid(format!(
                "upstream {:?}: there is no group {missing:?}",
                u.id
            )));
        }
    }
    store_upstreams(store, &list, now).await?;
    Ok(list.len())
}
