//! A second-factor challenge: the sign-in in progress between a correct
//! password and a correct code.

/// A password was accepted; the second factor is still due.
#[derive(Debug, Clone)]
pub struct MfaChallenge {
    /// Whose password was accepted.
    pub user_id: String,
    /// Codes tried so far.
    pub failures: i64,
    /// When the password was accepted.
    pub created_at: i64,
    /// The first factor's `amr` when it was not a password (`fed`: an
    /// upstream whose sign-in is not multi-factor).
    pub first_amr: Option<String>,
    /// The upstream the first factor came through, if any.
    pub federation: super::Federation,
}
