//! The `user`, `group`, `client`, `api` and `upstream` commands:
//! administration straight on the database, for bootstrap and scripts. They
//! run the same use-cases as the admin UI and API, and each action lands in
//! the audit log (actor `cli`).
//!
//! Exit codes scripts can rely on: 0 done; 1 the database or something else
//! failed (or, for `user invite`, email is off: no `GATEHOUSE_SMTP_URL`); 2 invalid input (including a password or a client secret that is
//! refused or missing); 3 no such user, group, client, API, upstream or
//! passkey; 4 the name or id is taken, or (for a group) still in use.

mod apis;
mod clients;
mod groups;
mod password;
mod upstreams;
mod users;

pub use apis::ApiAction;
pub use clients::ClientAction;
pub use groups::GroupAction;
pub use upstreams::UpstreamAction;
pub use users::UserAction;

use crate::admin::{AdminError, Context};
use crate::audit_log::{Actor, AuditLog};
use crate::config::Config;
use crate::store::Store;

/// A failed command: the message for stderr and the exit code.
#[derive(Debug)]
pub struct CliError {
    /// The process exit code.
    pub code: u8,
    /// What to print.
    pub message: String,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl CliError {
    /// Invalid input (exit code 2).
    pub fn invalid(message: impl Into<String>) -> CliError {
        CliError {
            code: 2,
            message: message.into(),
        }
    }
}

impl From<AdminError> for CliError {
    fn from(e: AdminError) -> CliError {
        let code = match e {
            AdminError::Invalid(_) => 2,
            AdminError::NotFound(_) => 3,
            AdminError::Conflict(_) => 4,
            AdminError::Store(_) | AdminError::Account(_) | AdminError::EmailDisabled => 1,
        };
        CliError {
            code,
            message: e.to_string(),
        }
    }
}

impl From<crate::store::StoreError> for CliError {
    fn from(e: crate::store::StoreError) -> CliError {
        CliError {
            code: 1,
            message: e.to_string(),
        }
    }
}

/// Opens the database and the audit log, runs `action` as the CLI, and
/// waits until its audit events are written.
async fn with_context<T>(
    config: &Config,
    action: impl AsyncFnOnce(&Context<'_>) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    let audit = AuditLog::start(store.clone());
    let ctx = Context {
        store: &store,
        audit: &audit,
        actor: Actor::Cli,
        ip: None,
        now: crate::clock::unix_now(),
        config,
    };
    let result = action(&ctx).await;
    audit.flush().await;
    result
}

/// Runs `gatehouse user …`.
pub async fn run_user(config: &Config, action: UserAction) -> Result<(), CliError> {
    with_context(config, async |ctx| users::run(ctx, config, action).await).await
}

/// Runs `gatehouse keys rotate`.
pub async fn rotate_keys(config: &Config) -> Result<crate::key_lifecycle::Rotation, CliError> {
    with_context(config, async |ctx| {
        Ok(crate::admin::tokens::rotate_keys(ctx, &config.signing_alg).await?)
    })
    .await
}

/// Runs `gatehouse client …`.
pub async fn run_client(config: &Config, action: ClientAction) -> Result<(), CliError> {
    with_context(config, async |ctx| clients::run(ctx, action).await).await
}

/// Runs `gatehouse group …`.
pub async fn run_group(config: &Config, action: GroupAction) -> Result<(), CliError> {
    with_context(config, async |ctx| groups::run(ctx, action).await).await
}

/// Runs `gatehouse api …`.
pub async fn run_api(config: &Config, action: ApiAction) -> Result<(), CliError> {
    with_context(config, async |ctx| apis::run(ctx, action).await).await
}

/// Runs `gatehouse upstream …`.
pub async fn run_upstream(config: &Config, action: UpstreamAction) -> Result<(), CliError> {
    with_context(config, async |ctx| {
        upstreams::run(ctx, &config.issuer, action).await
    })
    .await
}
