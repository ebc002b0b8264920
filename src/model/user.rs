//! Users: sign-in name, argon2id password hash, standard claims (OpenID
//! Connect Core §5.1), custom attributes, groups, flags, TOTP.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A user as stored.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// Stable subject identifier (a UUID), never reused.
    pub id: String,
    /// Sign-in name, unique.
    pub username: String,
    /// Email address, if known.
    pub email: Option<String>,
    /// Whether the address was verified (set by an admin or a seed who
    /// vouches for it); a user's own change clears it.
    pub email_verified: bool,
    /// Display name, if known.
    pub name: Option<String>,
    /// The other standard claims.
    pub profile: Profile,
    /// Custom attributes, released through custom scopes.
    pub claims: Map<String, Value>,
    /// Names of the groups the user belongs to, sorted.
    pub groups: Vec<String>,
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
    /// How many passkeys the user has registered (each one is a second
    /// factor, and a way to sign in on its own).
    pub passkeys: i64,
    /// When the user's record last changed (the `updated_at` claim).
    pub updated_at: i64,
}

impl UserRecord {
    /// Whether the user has a second factor: a TOTP app or a passkey.
    pub fn has_second_factor(&self) -> bool {
        self.totp_secret.is_some() || self.passkeys > 0
    }
}

/// The standard claims of OpenID Connect Core §5.1 besides `sub`, `name`,
/// `preferred_username`, `email` and `email_verified`; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Given name(s) or first name(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Surname(s) or last name(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Middle name(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Casual name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// URL of a profile picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// URL of a web page or blog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Gender (`female`, `male` or another value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Birthday, `YYYY-MM-DD` (or `0000-MM-DD`, or `YYYY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    /// Time zone from the IANA database, e.g. `Europe/Paris`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    /// BCP 47 language tag, e.g. `en-US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Telephone number, E.164 recommended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Whether the number was verified.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub phone_number_verified: bool,
    /// Postal address (§5.1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A postal address (OpenID Connect Core §5.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// The full address for display, lines separated by `\n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Street, house number, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// City or locality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// State, province, prefecture or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Zip code or postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Address {
    /// Whether no part is set.
    pub fn is_empty(&self) -> bool {
        self == &Address::default()
    }
}

/// What creating or updating a user from a seed or the CLI takes.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// Sign-in name.
    pub username: String,
    /// Email address.
    pub email: Option<String>,
    /// Whether the address is verified.
    pub email_verified: bool,
    /// Display name.
    pub name: Option<String>,
    /// The other standard claims.
    pub profile: Profile,
    /// Custom attributes.
    pub claims: Map<String, Value>,
    /// argon2id PHC string (already hashed).
    pub password_hash: String,
    /// Admin role.
    pub is_admin: bool,
    /// Base32 TOTP secret, if enrolled.
    pub totp_secret: Option<String>,
}
