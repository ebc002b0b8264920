//! Authorization codes (RFC 6749 §4.1.2): what a code is bound to until it is
//! redeemed once.

/// A code as stored.
#[derive(Debug, Clone)]
pub struct CodeRecord {
    /// Client the code was issued to.
    pub client_id: String,
    /// User who authorized.
    pub user_id: String,
    /// Browser session it came from.
    pub sid: String,
    /// The redirect_uri of the authorization request.
    pub redirect_uri: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// Nonce of the authorization request.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// When the user authenticated.
    pub auth_time: i64,
    /// Methods used, space-separated.
    pub amr: String,
    /// The API the tokens are for (RFC 8707), if one was asked for.
    pub resource: Option<String>,
    /// When the code stops being redeemable.
    pub expires_at: i64,
    /// The grant its redemption produced (set once used; ignored on insert).
    pub grant_id: Option<String>,
}

/// What issuing a code takes.
pub type NewCode = CodeRecord;
