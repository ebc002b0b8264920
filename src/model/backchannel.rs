//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0) as plain
//! values: the outbox channels, and what one queued logout says.

/// The outbox channel of email rows.
pub const CHANNEL_EMAIL: &str = "email";
/// The outbox channel (and kind) of logout tokens on their way to a
/// client's `backchannel_logout_uri`.
pub const CHANNEL_BACKCHANNEL_LOGOUT: &str = "backchannel_logout";

/// What a queued logout token will say (§2.4), kept as the outbox row's
/// payload; the token itself is signed when it is sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogoutNotice {
    /// The audience: the client told of the logout.
    pub client_id: String,
    /// The user whose session ended.
    pub sub: String,
    /// The session that ended.
    pub sid: String,
}
