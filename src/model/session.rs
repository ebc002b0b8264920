//! Browser sessions and the device that opened them.

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// Public session id, used as the `sid` claim. It carries over when the
    /// same user signs in again in the same browser.
    pub sid: String,
    /// The hash of the cookie value the session was opened with: new with
    /// every sign-in, even when the `sid` carries over, so a fresh sign-in
    /// can be told from the one it replaced (`prompt=login`).
    pub cookie_hash: String,
    /// Who signed in.
    pub user_id: String,
    /// When the user last authenticated (unix seconds).
    pub auth_time: i64,
    /// Authentication methods used, space-separated (`pwd otp`).
    pub amr: String,
    /// When the session ends.
    pub expires_at: i64,
}

/// Whether a session's `amr` (space-separated RFC 8176 values) shows more
/// than one factor: a one-time code after the password (`otp`), or a
/// method that is multi-factor on its own, such as a passkey with user
/// verification (`mfa`).
pub fn multi_factor(amr: &str) -> bool {
    amr.split(' ').any(|m| m == "otp" || m == "mfa")
}

/// What the browser said about itself when the session began, so that its
/// owner can recognise it on the account page.
#[derive(Debug, Clone, Default)]
pub struct Device {
    /// The User-Agent header, shortened.
    pub user_agent: Option<String>,
    /// The client address.
    pub ip: Option<String>,
}

/// A session as listed on the account page.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    /// Public session id.
    pub sid: String,
    /// When the user authenticated.
    pub auth_time: i64,
    /// Methods used, space-separated.
    pub amr: String,
    /// When the session began.
    pub created_at: i64,
    /// When it ends.
    pub expires_at: i64,
    /// The browser, as it described itself.
    pub device: Device,
}
