//! Administration use-cases shared by the admin web UI, the JSON admin API
//! and the command line: each checks its input, changes the store and
//! records an audit event. No HTTP types in here.

pub mod api_access;
pub mod apis;
pub mod audit;
pub mod clients;
pub mod groups;
pub mod invitations;
pub mod outbox;
pub mod passkeys;
pub mod tokens;
pub mod upstream_settings;
pub mod upstreams;
pub mod users;

use crate::audit_log::{Actor, AuditLog, Event};
use crate::state::Provider;
use crate::store::{Store, StoreError};

/// Errors crossing the admin boundary; `Display` is the sentence to show.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The user, client, passkey or other thing named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The id or name is taken.
    #[error("{0}")]
    Conflict(String),
    /// The input is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Password hashing failed.
    #[error(transparent)]
    Account(#[from] crate::account::AccountError),
    /// The action sends email, and no SMTP server is configured.
    #[error("Email is off: set smtp_url (GATEHOUSE_SMTP_URL) to send invitations.")]
    EmailDisabled,
}

impl AdminError {
    /// A stable machine-readable code for the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            AdminError::NotFound(_) => "not_found",
            AdminError::Conflict(_) => "conflict",
            AdminError::Invalid(_) => "invalid_request",
            AdminError::EmailDisabled => "email_disabled",
            AdminError::Store(_) | AdminError::Account(_) => "server_error",
        }
    }
}

/// Who is acting, from where, and when: what every admin action needs.
pub struct Context<'a> {
    /// The database.
    pub store: &'a Store,
    /// Where actions are recorded.
    pub audit: &'a AuditLog,
    /// The admin (a user, an admin client, or the CLI).
    pub actor: Actor,
    /// The address the request came from (none on the CLI).
    pub ip: Option<String>,
    /// The current unix time.
    pub now: i64,
    /// The settings (what email may be sent, and how it looks).
    pub config: &'a crate::config::Config,
}

impl<'a> Context<'a> {
    /// The context of a request served by `provider`, made by `actor` from
    /// `ip`, now.
    pub fn new(provider: &'a Provider, actor: Actor, ip: Option<String>) -> Context<'a> {
        Context {
            store: &provider.store,
            audit: &provider.audit,
            actor,
            ip,
            now: provider.now(),
            config: &provider.config,
        }
    }

    /// Records an admin action.
    pub async fn record(&self, name: &'static str, build: impl FnOnce(Event) -> Event) {
        let mut event = Event::new(name, self.actor.clone());
        if let Some(ip) = &self.ip {
            event = event.ip(ip);
        }
        self.audit.record(self.now, build(event)).await;
    }
}

/// A page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// How many match in all, or at least (see `total_exact`).
    pub total: i64,
    /// Whether `total` is all of them; if not, more match than were counted.
    pub total_exact: bool,
    /// 1-based page number.
    pub page: i64,
    /// Items per page.
    pub per_page: i64,
}

impl<T> Page<T> {
    /// How many pages there are (at least one).
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// A random password for a new or reset account: 20 characters from an
/// alphabet without look-alikes, about 115 bits.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    crate::crypto::random_string(ALPHABET, 20)
}
