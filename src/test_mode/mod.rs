//! Test mode: Gatehouse as the local provider of other projects' test
//! suites. It is switched on only at start, by `serve --test-mode` or
//! `GATEHOUSE_TEST_MODE=true` (`Config::enter_test_mode`), never by a
//! request or a seed; without it the routes under `/test/v1` are not even
//! registered, and every use case here refuses with [`TestModeError::Off`].
//!
//! - [`tokens`]: tokens minted on request, signed with the published keys;
//! - [`clock`]: the provider's clock moved forward, and back to real time;
//! - [`reset`]: the state emptied and the seed loaded again;
//! - [`key_cache`]: the signing keys kept between runs, so that a start
//!   takes milliseconds rather than an RSA key's generation.
//!
//! Signing in as anyone is a sign-in method (`sign_in::anyone`). Every
//! action here is recorded in the audit log as a `test_mode.*` event.

pub mod clock;
pub mod key_cache;
mod mint_request;
pub mod reset;
pub mod tokens;

use crate::audit_log::{Actor, Event};
use crate::state::Provider;
use crate::store::StoreError;

/// Why a test-mode request failed.
#[derive(Debug, thiserror::Error)]
pub enum TestModeError {
    /// The server is not in test mode.
    #[error("test mode is off")]
    Off,
    /// The request asks for something this cannot do; the sentence says
    /// what.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something else broke (a key, the seed file): for the log.
    #[error("{0}")]
    Fault(String),
}

impl From<crate::account::AccountError> for TestModeError {
    fn from(e: crate::account::AccountError) -> TestModeError {
        match e {
            crate::account::AccountError::Store(s) => TestModeError::Store(s),
            other => TestModeError::Fault(other.to_string()),
        }
    }
}

/// The clock tests move, or [`TestModeError::Off`].
fn test_clock(provider: &Provider) -> Result<&crate::clock::OffsetClock, TestModeError> {
    provider.test_clock().ok_or(TestModeError::Off)
}

/// Records a test-mode action.
async fn record(provider: &Provider, ip: &str, event: Event) {
    provider.audit.record(provider.now(), event.ip(ip)).await;
}

/// An event by the test harness.
fn event(name: &'static str) -> Event {
    Event::new(name, Actor::TestMode)
}
