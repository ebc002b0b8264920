//! Grants (token families, RFC 9700 §4.14) and their refresh tokens.

/// What creating a grant takes.
#[derive(Debug, Clone)]
pub struct NewGrant {
    /// Grant id (a UUID), carried in the access tokens.
    pub id: String,
    /// The user, if the grant is on behalf of one.
    pub user_id: Option<String>,
    /// The client.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// Browser session it came from.
    pub sid: Option<String>,
    /// When the user authenticated.
    pub auth_time: Option<i64>,
    /// Methods used, space-separated.
    pub amr: String,
    /// The API the tokens are for (RFC 8707), if one was asked for.
    pub resource: Option<String>,
    /// When the whole family ends.
    pub expires_at: i64,
}

/// A grant as stored.
#[derive(Debug, Clone)]
pub struct GrantRecord {
    /// Grant id.
    pub id: String,
    /// The user, if any.
    pub user_id: Option<String>,
    /// The client.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// Browser session it came from.
    pub sid: Option<String>,
    /// When the user authenticated.
    pub auth_time: Option<i64>,
    /// Methods used, space-separated.
    pub amr: String,
    /// The API the tokens are for (RFC 8707), if one was asked for.
    pub resource: Option<String>,
    /// When it was created.
    pub created_at: i64,
    /// When the whole family ends (absolute lifetime).
    pub expires_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

impl GrantRecord {
    /// Neither revoked nor past its absolute lifetime.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A refresh token as stored, with the grant it belongs to.
#[derive(Debug, Clone)]
pub struct RefreshRecord {
    /// Its family.
    pub grant: GrantRecord,
    /// When this token was issued.
    pub issued_at: i64,
    /// Idle expiry of this token.
    pub expires_at: i64,
    /// When it was rotated out, if it was.
    pub used_at: Option<i64>,
}

/// A live grant as the admin screens list it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GrantSummary {
    /// Grant id.
    pub id: String,
    /// The user, if any (none for client_credentials).
    pub user_id: Option<String>,
    /// Their username.
    pub username: Option<String>,
    /// The client.
    pub client_id: String,
    /// Its name.
    pub client_name: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// When it was created.
    pub created_at: i64,
    /// When the family ends.
    pub expires_at: i64,
}
