//! Spawns a real Gatehouse on port 0 with a fresh database (SQLite by
//! default; Postgres when GATEHOUSE_TEST_POSTGRES names a server) and drives
//! it over HTTP like a browser and like a relying party.
//!
//! - `seed`: the clients and users every app starts with, and their secrets;
//! - `app`: spawning the app on a fresh database, and running the CLI;
//! - `http`: browser-like requests and back-channel calls;
//! - `authorize`: authorization requests and the sign-in flow that answers them;
//! - `backchannel`: a relying party's back-channel logout endpoint, and
//!   validating the logout tokens it gets;
//! - `admin`: admin API tokens and admin users;
//! - `authenticator`: a software WebAuthn authenticator for passkeys;
//! - `database`: reading and changing a test database directly;
//! - `metrics`: reading `/metrics`, strictly;
//! - `mock_upstream`: a fake upstream identity provider that knobs make
//!   misbehave;
//! - `passkeys`: the passkey endpoints, and the passkeys and audit events stored;
//! - `federation`: two Gatehouses, one signing in through the other.

mod admin;
mod app;
mod authenticator;
mod authorize;
mod backchannel;
mod database;
mod federation;
mod http;
mod metrics;
pub mod mock_upstream;
mod passkeys;
mod seed;
pub mod smtp;

pub use app::*;
pub use authenticator::*;
pub use authorize::*;
pub use backchannel::*;
pub use database::*;
pub use federation::*;
pub use http::*;
pub use metrics::*;
pub use passkeys::*;
pub use seed::*;
