//! Account use-cases behind the screens: checking passwords and second
//! factors, opening browser sessions, the self-service account page. No
//! HTTP types in here.

pub mod device_cookie;
pub mod email_links;
pub mod email_verification;
pub mod enrolment;
pub mod invitation;
pub mod mfa;
pub mod notices;
pub mod passkey_problem;
pub mod passkeys;
pub mod password;
pub mod password_reset;
pub mod profile;
pub mod recovery;
pub mod registration;
pub mod secret_forms;
pub mod self_service;
pub mod session;
pub mod throttle;
pub mod upstream_accounts;
pub mod webauthn_ceremony;

/// Errors crossing the account boundary.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A message could not be composed.
    #[error(transparent)]
    Mail(#[from] crate::email::ComposeError),
    /// The blocking pool could not run the password check.
    #[error("password check was cancelled")]
    Cancelled,
}

impl crate::failure::Failure for AccountError {
    fn is_unavailable(&self) -> bool {
        matches!(self, AccountError::Store(e) if e.is_unavailable())
    }
}
