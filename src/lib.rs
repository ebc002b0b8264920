//! Gatehouse: a self-hosted OpenID Connect provider.
//!
//! Layers point one way: `web` (actix handlers) → the use cases
//! (`sign_in`, `admin`, `oauth`, `account`; no HTTP types) → `store` (sqlx),
//! with `model` and `crypto` below them all. ARCHITECTURE.md is the map;
//! `scripts/check-layers` keeps it true.

pub mod account;
pub mod admin;
pub mod audit_log;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod email;
pub mod failure;
pub mod health;
pub mod housekeeping;
pub mod key_lifecycle;
pub mod metrics;
pub mod model;
pub mod oauth;
pub mod rate_limiter;
pub mod redirect_uri;
pub mod seed;
pub mod sign_in;
pub mod smtp_url;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod test_mode;
pub mod upstream_client;
pub mod web;
