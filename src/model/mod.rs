//! The nouns every layer speaks of: users, clients, sessions, codes, grants,
//! consents, signing keys and audit events, as plain values. The store reads
//! and writes them; the use cases and the screens pass them around. Nothing
//! here talks to a database or to HTTP.

mod audit_event;
mod client;
mod code;
mod consent;
mod grant;
mod mfa_challenge;
mod session;
mod signing_key;
mod token_claims;
mod user;

pub use audit_event::{AuditFilter, AuditRecord};
pub use client::{ClientRecord, Lifetimes, NewClient};
pub use code::{CodeRecord, NewCode};
pub use consent::ConsentSummary;
pub use grant::{GrantRecord, GrantSummary, NewGrant, RefreshRecord};
pub use mfa_challenge::MfaChallenge;
pub use session::{Device, SessionRecord, SessionSummary};
pub use signing_key::KeyRecord;
pub use token_claims::{AccessClaims, IdClaims};
pub use user::{NewUser, UserRecord};
