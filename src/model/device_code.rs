//! Device codes (RFC 8628 §3.2): a device's request to be authorized, what
//! its user decided on another screen, and how fast the device may poll.

/// Where a device code stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    /// The user allowed it; the device may redeem it once.
    Approved,
    /// The user refused it.
    Denied,
    /// The device got its tokens.
    Redeemed,
}

impl DeviceStatus {
    /// The value stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "pending",
            DeviceStatus::Approved => "approved",
            DeviceStatus::Denied => "denied",
            DeviceStatus::Redeemed => "redeemed",
        }
    }

    /// Reads a stored `status`.
    pub fn parse(value: &str) -> Option<DeviceStatus> {
        Some(match value {
            "pending" => DeviceStatus::Pending,
            "approved" => DeviceStatus::Approved,
            "denied" => DeviceStatus::Denied,
            "redeemed" => DeviceStatus::Redeemed,
            _ => return None,
        })
    }
}

/// What issuing a device code takes.
#[derive(Debug, Clone)]
pub struct NewDeviceCode {
    /// SHA-256 of the device code.
    pub device_code_hash: String,
    /// SHA-256 of the normalised user code.
    pub user_code_hash: String,
    /// The client that asked.
    pub client_id: String,
    /// Requested scopes, space-separated, each allowed for the client.
    pub scope: String,
    /// The API the tokens will be for (RFC 8707), if one was asked for.
    pub resource: Option<String>,
    /// Polling interval, seconds.
    pub interval: i64,
    /// When the codes stop working.
    pub expires_at: i64,
}

/// The user's approval, as recorded on the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceApproval {
    /// The user who allowed it.
    pub user_id: String,
    /// Their browser session.
    pub sid: String,
    /// When they authenticated.
    pub auth_time: i64,
    /// Methods they used, space-separated.
    pub amr: String,
}

/// A device code as stored.
#[derive(Debug, Clone)]
pub struct DeviceCodeRecord {
    /// The client that asked.
    pub client_id: String,
    /// Requested scopes, space-separated.
    pub scope: String,
    /// The API the tokens will be for, if any.
    pub resource: Option<String>,
    /// Where it stands.
    pub status: DeviceStatus,
    /// Current polling interval, seconds.
    pub interval: i64,
    /// When the device last polled.
    pub last_polled_at: Option<i64>,
    /// The approval, once given.
    pub approval: Option<DeviceApproval>,
    /// The grant its redemption produced.
    pub grant_id: Option<String>,
    /// When the codes stop working.
    pub expires_at: i64,
}

/// The grant type of the device flow (RFC 8628 §3.4), as clients name it in
/// their `grant_types` and at the token endpoint.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
