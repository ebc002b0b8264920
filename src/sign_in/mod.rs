//! Signing in, as one use case: the state machine every sign-in method goes
//! through, with the throttle, the audit events, the metrics and the browser
//! session it ends in. No HTTP types in here: the screens hand in what the
//! browser sent (a [`Visitor`] and the method's input) and render the
//! [`Outcome`].
//!
//! ```text
//! identify ─▶ first factor ─▶ second factor ─▶ finish ─▶ (new password) ─▶ (consent) ─▶ done
//!                  │ refused        │ refused      │           forced by an admin    per client,
//!                  ▼                ▼              ▼                                  in oauth
//!               throttle        throttle      new session, old one closed
//! ```
//! - [`first_factor`](machine::first_factor) runs a method that identifies
//!   the user (a password, or a passkey on its own). A proof that is not already multi-factor
//!   for a user with a second factor opens a challenge instead of a session.
//! - [`second_factor`](machine::second_factor) runs a method against the
//!   challenge's user (a TOTP or recovery code today).
//! - Both count refusals against the account (`account::throttle`: against
//!   the browser alone when it holds a device cookie trusted for the
//!   account, against its address and the account's unknown browsers
//!   otherwise), record `sign_in.*` / `mfa.*` audit events
//!   and the sign-in metrics, and finish by opening a session and trusting
//!   the browser for the account ([`finish`](machine::finish)).
//! - What a fresh session must still do before a code is issued (choose a
//!   new password an admin set, set up two-step verification, consent) is
//!   decided by `oauth::next_step`; the forced password change and the
//!   enrolment that belongs to a sign-in are in [`new_password`] and
//!   [`enrolment`].
//!
//! # Adding a sign-in method
//! A method is one file here that turns its input into a [`Verdict`]:
//! `Proved` with the user and the RFC 8176 `amr` values it stands for, or
//! `Refused` with a reason for the audit log and a sentence for the person.
//! It then calls [`machine::first_factor`] (if it identifies the user) or
//! [`machine::second_factor`] (if it confirms the user of a challenge) with
//! that check, and gets an [`Outcome`] back. Add one template and one route
//! in `web` that read the input and render the outcome; nothing else
//! changes. [`password`] and [`totp`] are the two methods to copy.

pub mod anyone;
pub mod enrolment;
pub mod machine;
pub mod new_password;
pub mod passkey;
pub mod password;
pub mod test_claims;
pub mod totp;
pub mod upstream;
mod upstream_answer;
pub mod upstream_problem;
mod upstream_sign_out;

pub use machine::{first_factor, second_factor};

use crate::account::AccountError;
use crate::model::UserRecord;

/// What the screens know about the browser signing in. (No `Debug`: it
/// holds a session cookie value, which must not reach a log.)
#[derive(Clone, Default)]
pub struct Visitor {
    /// The client address (for the throttle, the audit log and the session).
    pub ip: String,
    /// The User-Agent header, shortened, to name the session's device.
    pub user_agent: Option<String>,
    /// The cookie value of the session this browser has now, if any: a new
    /// sign-in replaces it.
    pub session: Option<String>,
    /// The browser's device cookie value, if it sent one: trusted for an
    /// account it signed in to before (`account::device_cookie`).
    pub device: Option<String>,
}

/// What a sign-in method found out: the one seam between a method and the
/// machine.
#[derive(Debug)]
pub enum Verdict {
    /// The method proved who this is.
    Proved(Proof),
    /// It did not.
    Refused {
        /// The user the attempt was for, when the method knows one (the
        /// audit event names them; the person is told nothing more).
        user: Option<UserRecord>,
        /// Why, for the audit log (`wrong_password`, `replayed`, …).
        reason: &'static str,
        /// What to tell the person.
        problem: &'static str,
    },
    /// The challenge is used up (too many wrong codes): start again with
    /// the first factor.
    StartAgain,
}

/// A successful method.
#[derive(Debug)]
pub struct Proof {
    /// Who signed in.
    pub user: UserRecord,
    /// RFC 8176 `amr` values this method stands for (`pwd`, `otp`, …).
    pub amr: &'static [&'static str],
    /// Whether it is multi-factor on its own (no second factor is due).
    pub multi_factor: bool,
    /// The factor's name in the audit log (`password`, `totp`, …).
    pub factor: &'static str,
    /// The upstream it came through, for a sign-in through one (the
    /// session remembers it, to sign out there too).
    pub federation: crate::model::Federation,
}

/// Where a sign-in step left the browser. (No `Debug`: it holds cookie
/// values.) One is made per sign-in step and consumed at once, so the
/// size of the signed-in user's record in it costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    /// Signed in: the new session.
    SignedIn(SignedIn),
    /// The first factor held and a second is due: the challenge's cookie
    /// value (the only copy of it).
    SecondFactorDue {
        /// Cookie value naming the challenge.
        challenge: String,
    },
    /// Refused; the person may try again.
    Refused(Refusal),
    /// The challenge is gone (expired, or too many wrong codes), or its user
    /// was disabled meanwhile: start again with the first factor.
    StartAgain,
}

/// A finished sign-in.
pub struct SignedIn {
    /// The new session's cookie value (the only copy of it).
    pub cookie: String,
    /// The browser's new device cookie value, trusted for this user (the
    /// only copy of it).
    pub device: String,
    /// Who signed in.
    pub user: UserRecord,
}

/// Why an attempt was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Too many recent failures for this account: wait this many seconds.
    Throttled {
        /// Seconds to wait.
        wait: i64,
    },
    /// The proof was wrong; the sentence says what to do.
    Wrong {
        /// What to tell the person.
        problem: &'static str,
    },
    /// Longer than any username or password can be (`model::limits`):
    /// refused before anything is counted or hashed.
    TooLong,
}

impl Refusal {
    /// The sentence for the person.
    pub fn message(&self) -> String {
        match self {
            Refusal::Throttled { wait } => {
                format!("Too many failed attempts. Wait {wait} seconds, then try again.")
            }
            Refusal::Wrong { problem } => problem.to_string(),
            Refusal::TooLong => format!(
                "A username has at most {} characters, and a password at most {} bytes.",
                crate::model::limits::USERNAME,
                crate::model::limits::PASSWORD
            ),
        }
    }
}

/// Errors a sign-in step can end in (the database, a cancelled hash).
pub type SignInError = AccountError;
