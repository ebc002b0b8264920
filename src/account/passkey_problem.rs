//! Why a passkey step was refused: one closed list, each with a word for
//! the audit log and a sentence for the person, and what webauthn-rs'
//! own refusals (W3C Web Authentication Level 3 §7.1, §7.2) mean in it.

use super::AccountError;
use webauthn_rs::prelude::WebauthnError;

/// Why a passkey step was refused; `Display` is the sentence to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The issuer has no RP ID (an IP address): passkeys are off.
    Off,
    /// The sign-in is older than [`REAUTH_WINDOW`](super::passkeys::REAUTH_WINDOW).
    SignInAgain,
    /// The account holds [`MAX_PER_USER`](super::passkeys::MAX_PER_USER) passkeys already.
    TooMany,
    /// A name that is empty, too long or has control characters.
    Name,
    /// No ceremony, an expired one, one used already, or one for something
    /// else.
    Expired,
    /// The browser's answer is not WebAuthn JSON.
    Malformed,
    /// The answer did not verify.
    Refused {
        /// For the audit log.
        reason: &'static str,
        /// What to tell the person.
        sentence: &'static str,
    },
    /// The authenticator's credential is registered already.
    Duplicate,
    /// No passkey with that id on this account (or none at all, for a
    /// second step).
    NotFound,
    /// Removing it would leave no way to sign in.
    LastWay,
}

impl Problem {
    /// A word for the audit log.
    pub fn reason(&self) -> &'static str {
        match self {
            Problem::Off => "off",
            Problem::SignInAgain => "stale_sign_in",
            Problem::TooMany => "too_many",
            Problem::Name => "bad_name",
            Problem::Expired => "expired_challenge",
            Problem::Malformed => "malformed",
            Problem::Refused { reason, .. } => reason,
            Problem::Duplicate => "duplicate",
            Problem::NotFound => "not_found",
            Problem::LastWay => "last_way",
        }
    }

    /// What to tell the person.
    pub fn sentence(&self) -> &'static str {
        match self {
            Problem::Off => "Passkeys are not available on this server.",
            Problem::SignInAgain => {
                "To add or remove a passkey, sign in again first: your last sign-in was more than 10 minutes ago."
            }
            Problem::TooMany => "You have 20 passkeys already. Remove one before adding another.",
            Problem::Name => {
                "Give the passkey a name of 1 to 64 characters, without line breaks or other control characters."
            }
            Problem::Expired => "That passkey request expired or was used already. Please try again.",
            Problem::Malformed => "Your browser's passkey answer could not be read. Please try again.",
            Problem::Refused { sentence, .. } => sentence,
            Problem::Duplicate => "That passkey is registered already.",
            Problem::NotFound => "There is no such passkey on this account.",
            Problem::LastWay => {
                "This passkey is the only way you can sign in. Set a password or add another passkey first."
            }
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.sentence())
    }
}

/// A step's result: a problem to show, or a failure of the database.
pub type Step<T> = Result<Result<T, Problem>, AccountError>;

/// What webauthn-rs' refusal means to the audit log and to the person.
pub fn refusal(e: &WebauthnError) -> Problem {
    let (reason, sentence) = match e {
        WebauthnError::InvalidRPOrigin | WebauthnError::InvalidRPIDHash => (
            "wrong_origin",
            "That passkey answer was made for another website. Open this page at its usual address and try again.",
        ),
        WebauthnError::MismatchedChallenge => (
            "wrong_challenge",
            "That passkey answer was for another request. Please try again.",
        ),
        WebauthnError::UserNotVerified | WebauthnError::UserNotPresent => (
            "not_verified",
            "Your passkey didn't confirm it was you. Try again, and unlock it with its PIN or biometric when asked.",
        ),
        WebauthnError::CredentialPossibleCompromise => (
            "cloned_passkey",
            "This passkey can't be used: it looks like a copy of another. Use another way to sign in.",
        ),
        WebauthnError::CredentialNotFound => (
            "unknown_passkey",
            "That passkey isn't registered here. Sign in another way, then add it on your account page.",
        ),
        WebauthnError::InvalidClientDataType
        | WebauthnError::ParseBase64Failure(_)
        | WebauthnError::ParseCBORFailure(_)
        | WebauthnError::ParseJSONFailure(_)
        | WebauthnError::ParseNOMFailure
        | WebauthnError::ParseInsufficientBytesAvailable => {
            return Problem::Malformed;
        }
        _ => (
            "invalid_passkey",
            "That passkey answer did not check out. Please try again.",
        ),
    };
    Problem::Refused { reason, sentence }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webauthn_refusals_name_their_reason() {
        let reason = |e: WebauthnError| refusal(&e).reason();
        assert_eq!(reason(WebauthnError::InvalidRPOrigin), "wrong_origin");
        assert_eq!(reason(WebauthnError::InvalidRPIDHash), "wrong_origin");
        assert_eq!(
            reason(WebauthnError::MismatchedChallenge),
            "wrong_challenge"
        );
        assert_eq!(reason(WebauthnError::UserNotVerified), "not_verified");
        assert_eq!(
            reason(WebauthnError::CredentialPossibleCompromise),
            "cloned_passkey"
        );
        assert_eq!(reason(WebauthnError::ParseNOMFailure), "malformed");
        assert_eq!(refusal(&WebauthnError::ParseNOMFailure), Problem::Malformed);
    }
}
