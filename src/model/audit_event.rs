//! Audit events as read back for the admin screens and API, and the filter
//! that selects them.

/// One event as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRecord {
    /// Time-ordered id (UUIDv7), so ids sort like the events happened.
    pub id: String,
    /// When (unix seconds).
    pub at: i64,
    /// What: `sign_in.failure`, `token.issued`, `admin.user.created`, …
    pub event: String,
    /// Who acted: `user:ID`, `client:ID`, `cli` or `anonymous`.
    pub actor: String,
    /// The actor's name when it has one (username, client name).
    pub actor_name: Option<String>,
    /// The user concerned.
    pub user_id: Option<String>,
    /// That user's username at the time.
    pub username: Option<String>,
    /// The client concerned.
    pub client_id: Option<String>,
    /// The address the request came from.
    pub ip: Option<String>,
    /// More about it, such as the reason for a failure (`key=value …`).
    pub detail: String,
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The user concerned, by id or username.
    pub user: Option<String>,
    /// The client concerned.
    pub client_id: Option<String>,
    /// The event name, or a prefix of it ending in `.` (`sign_in.`).
    pub event: Option<String>,
    /// Not before (unix seconds).
    pub since: Option<i64>,
    /// Not after (unix seconds).
    pub until: Option<i64>,
    /// Only events older than this id (the next page).
    pub before_id: Option<String>,
}
