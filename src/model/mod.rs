//! The nouns every layer speaks of: users, groups, APIs, scopes, clients,
//! sessions, passkeys, email, codes, grants, consents, signing keys and audit events, as plain values. The store reads
//! and writes them; the use cases and the screens pass them around. Nothing
//! here talks to a database or to HTTP.

mod access;
mod audit_event;
mod backchannel;
mod client;
mod code;
mod consent;
mod device_code;
mod grant;
pub mod limits;
mod mail;
mod mfa_challenge;
mod passkey;
mod session;
mod signing_key;
mod token_claims;
mod upstream;
mod user;

pub use access::{roles_held, ApiRecord, ApiScope, GroupRecord, Roles, ScopeRecord};
pub use audit_event::{AuditFilter, AuditRecord};
pub use backchannel::{LogoutNotice, CHANNEL_BACKCHANNEL_LOGOUT, CHANNEL_EMAIL};
pub use client::{ClientRecord, Lifetimes, NewClient};
pub use code::{CodeRecord, NewCode};
pub use consent::ConsentSummary;
pub use device_code::{
    DeviceApproval, DeviceCodeRecord, DeviceStatus, NewDeviceCode, DEVICE_CODE_GRANT,
};
pub use grant::{GrantRecord, GrantSummary, NewGrant, RefreshRecord};
pub use mail::{
    EmailTokenPurpose, EmailTokenRecord, MailKind, NewEmailToken, NewMail, OutboxRecord,
    OutboxState,
};
pub use mfa_challenge::MfaChallenge;
pub use passkey::{Ceremony, CeremonyPurpose, PasskeyRecord, StoredPasskey};
pub use session::{multi_factor, Device, SessionRecord, SessionSummary};
pub use signing_key::KeyRecord;
pub use token_claims::{AccessClaims, IdClaims};
pub use upstream::{
    is_upstream_id, upstream_redirect_uri, upstream_signed_out_uri, ClaimMapping, Federation,
    TripPurpose, UpstreamKind, UpstreamLink, UpstreamRecord, UpstreamTrip, UPSTREAM_ID_MAX,
};
pub use user::{Address, NewUser, Profile, UserRecord};
