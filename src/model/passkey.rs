//! Passkeys (WebAuthn credentials) as the account page and the admin
//! screens list them, and a ceremony in progress.

/// A registered passkey, without its key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// Gatehouse's id for it (a UUID), used in URLs.
    pub id: String,
    /// Its owner.
    pub user_id: String,
    /// The name its owner gave it.
    pub name: String,
    /// When it was registered (unix seconds).
    pub created_at: i64,
    /// When it last signed someone in.
    pub last_used_at: Option<i64>,
}

/// A stored passkey with its verified credential (webauthn-rs' `Passkey`
/// as JSON: public key, signature counter, flags).
#[derive(Debug, Clone)]
pub struct StoredPasskey {
    /// What the screens show.
    pub record: PasskeyRecord,
    /// The credential, as JSON.
    pub credential: String,
    /// The signature counter of its last use (or its registration).
    pub sign_count: i64,
}

/// What a WebAuthn ceremony is for; stored with its state so that a
/// challenge issued for one purpose cannot finish another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyPurpose {
    /// Adding a passkey to the signed-in user's account.
    Register,
    /// Signing in without a username (discoverable credential).
    SignIn,
    /// Confirming the user of a second-factor challenge.
    SecondFactor,
}

impl CeremonyPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyPurpose::Register => "register",
            CeremonyPurpose::SignIn => "sign_in",
            CeremonyPurpose::SecondFactor => "second_factor",
        }
    }
}

/// A ceremony taken from the store (and so no longer there).
#[derive(Debug, Clone)]
pub struct Ceremony {
    /// What it was for.
    pub purpose: String,
    /// The user it was for (registration, second factor).
    pub user_id: Option<String>,
    /// webauthn-rs' ceremony state, as JSON.
    pub state: String,
}
