//! Users: sign-in name, argon2id password hash, profile, flags, TOTP.

/// A user as stored.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// Stable subject identifier (a UUID), never reused.
    pub id: String,
    /// Sign-in name, unique.
    pub username: String,
    /// Email address, if known.
    pub email: Option<String>,
    /// Display name, if known.
    pub name: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Whether the user may use the admin screens.
    pub is_admin: bool,
    /// Disabled users cannot sign in or use their tokens.
    pub disabled: bool,
    /// Base32 TOTP secret when MFA is enrolled.
    pub totp_secret: Option<String>,
    /// Base32 TOTP secret shown at enrolment, waiting for its first code.
    pub totp_pending_secret: Option<String>,
    /// The password was set by an admin: it must be changed at sign-in.
    pub must_change_password: bool,
}

/// What creating or updating a user from a seed or the CLI takes.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in name.
    pub username: String,
    /// Email address.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// argon2id PHC string (already hashed).
    pub password_hash: String,
    /// Admin role.
    pub is_admin: bool,
    /// Base32 TOTP secret, if enrolled.
    pub totp_secret: Option<String>,
}
