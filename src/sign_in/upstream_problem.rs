//! Why a trip to an upstream provider ended without a sign-in or a link:
//! the word the audit log keeps, the sentence the person reads, and how
//! bad it is (the page's status). Nothing is created or linked when one of
//! these is the answer.

use crate::account::upstream_accounts::{AccountProblem, UnlinkProblem};
use crate::upstream_client::UpstreamError;

/// What went wrong.
#[derive(Debug)]
pub enum Problem {
    /// No enabled upstream has that id.
    Unavailable,
    /// The browser came back with a `state` that names no trip of its own
    /// (expired, used, forged, or begun in another browser).
    StateMismatch,
    /// The upstream's authorization response was an error (RFC 6749
    /// §4.1.2.1), `access_denied` when the person said no.
    Denied(String),
    /// The answer lacked its code, or RFC 9207's `iss` was wrong or absent
    /// where promised.
    BadResponse(&'static str),
    /// Talking to the upstream failed, or what it sent failed a check.
    Upstream(UpstreamError),
    /// The local account side said no.
    Account(AccountProblem),
    /// A link came back to a browser no longer signed in as the user who
    /// asked for it.
    NotSignedIn,
    /// Unlinking was refused.
    Unlink(UnlinkProblem),
    /// Linking needs a recent sign-in.
    SignInAgain,
}

impl Problem {
    /// The audit log's word for it.
    pub fn reason(&self) -> &'static str {
        match self {
            Problem::Unavailable => "unavailable",
            Problem::StateMismatch => "state_mismatch",
            Problem::Denied(_) => "error_response",
            Problem::BadResponse(why) => why,
            Problem::Upstream(e) => e.reason(),
            Problem::Account(p) => p.reason(),
            Problem::NotSignedIn => "not_signed_in",
            Problem::SignInAgain => "sign_in_again",
            Problem::Unlink(UnlinkProblem::NotLinked) => "not_linked",
            Problem::Unlink(UnlinkProblem::LastWay) => "last_way",
        }
    }

    /// The HTTP status of the page that says so.
    pub fn status(&self) -> u16 {
        match self {
            Problem::Unavailable | Problem::Unlink(UnlinkProblem::NotLinked) => 404,
            Problem::Upstream(UpstreamError::Timeout(_)) => 504,
            Problem::Upstream(_) => 502,
            Problem::Account(AccountProblem::NoAccount | AccountProblem::Disabled)
            | Problem::NotSignedIn
            | Problem::SignInAgain => 403,
            Problem::Account(_) | Problem::Unlink(UnlinkProblem::LastWay) => 409,
            Problem::StateMismatch | Problem::Denied(_) | Problem::BadResponse(_) => 400,
        }
    }

    /// The heading of the page.
    pub fn title(&self) -> &'static str {
        match self {
            Problem::Unavailable => "This sign-in option is not available",
            Problem::StateMismatch => "This sign-in has expired",
            Problem::Denied(_) => "You were not signed in",
            Problem::Account(AccountProblem::NoAccount) => "No account here yet",
            Problem::Account(AccountProblem::Disabled) => "This account is disabled",
            Problem::Account(_) => "This account is linked already",
            Problem::NotSignedIn | Problem::SignInAgain => "Sign in first",
            Problem::Unlink(_) => "Not unlinked",
            Problem::BadResponse(_) | Problem::Upstream(_) => "The sign-in did not complete",
        }
    }

    /// What to tell the person; `name` is the upstream's button name.
    pub fn sentence(&self, name: &str) -> String {
        match self {
            Problem::Unavailable => {
                "That way to sign in is not offered here. Go back and choose another.".into()
            }
            Problem::StateMismatch => format!(
                "The answer from {name} does not match a sign-in started in this browser in the last few minutes. Go back to the application and sign in again."
            ),
            Problem::Denied(error) if error == "access_denied" => format!(
                "{name} did not sign you in: the request was declined. You can try again, or sign in another way."
            ),
            Problem::Denied(error) => format!(
                "{name} answered with an error ({error}). Try again, or sign in another way."
            ),
            Problem::BadResponse(_) => format!(
                "The answer from {name} could not be trusted, so nothing was done. Try again, or sign in another way."
            ),
            Problem::Upstream(UpstreamError::Timeout(_)) => format!(
                "{name} did not answer in time. Try again in a moment, or sign in another way."
            ),
            Problem::Upstream(UpstreamError::Unreachable(_)) => format!(
                "{name} could not be reached. Try again in a moment, or sign in another way."
            ),
            Problem::Upstream(UpstreamError::IdToken("stale_authentication" | "no_auth_time")) => format!(
                "This needs you to sign in at {name} again, and {name} did not confirm that you did. Sign out at {name}, then try again."
            ),
            Problem::Upstream(UpstreamError::Refused { error, .. }) => format!(
                "{name} refused to complete the sign-in ({error}). Try again, or sign in another way."
            ),
            Problem::Upstream(_) => format!(
                "The answer from {name} could not be trusted, so nothing was done. Try again, or sign in another way."
            ),
            Problem::Account(AccountProblem::NoAccount) => format!(
                "Your {name} account is not linked to an account here, and accounts are not created through {name}. Ask an administrator for an account, or sign in another way and link {name} from your account page."
            ),
            Problem::Account(AccountProblem::Disabled) => {
                "The account this sign-in leads to is disabled. Ask an administrator.".into()
            }
            Problem::Account(AccountProblem::EmailTaken) => format!(
                "The account here with your {name} address is linked to another {name} account. Sign in another way, or ask an administrator."
            ),
            Problem::Account(AccountProblem::LinkedElsewhere) => format!(
                "That {name} account is already linked to another account here."
            ),
            Problem::Account(AccountProblem::AlreadyLinked) => format!(
                "Your account is already linked to another {name} account. Unlink it first."
            ),
            Problem::NotSignedIn => format!(
                "Linking {name} needs you signed in here, in this browser. Sign in, then link it from your account page."
            ),
            Problem::SignInAgain => format!(
                "To link {name}, sign in again first: your last sign-in was more than 10 minutes ago."
            ),
            Problem::Unlink(UnlinkProblem::NotLinked) => {
                format!("Your account is not linked to {name}.")
            }
            Problem::Unlink(UnlinkProblem::LastWay) => format!(
                "{name} is the only way you can sign in. Add a password or a passkey first, then unlink it."
            ),
        }
    }
}
