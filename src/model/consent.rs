//! Consents as listed on the account page (OpenID Connect Core §3.1.2.4).

/// An application the user has agreed to share their account with.
#[derive(Debug, Clone)]
pub struct ConsentSummary {
    /// The client.
    pub client_id: String,
    /// Its display name.
    pub client_name: String,
    /// The scopes agreed to.
    pub scopes: Vec<String>,
    /// When consent was last given.
    pub granted_at: i64,
}
