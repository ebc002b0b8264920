//! Integration tests: a real server on port 0 with a fresh database per test,
//! driven over HTTP. SQLite by default; set GATEHOUSE_TEST_POSTGRES to a
//! server URL (postgres://postgres@127.0.0.1:5432/postgres) to run every
//! test on Postgres instead. The `store` module tests the storage layer on
//! its own, with no server in front of it.

mod access;
mod account;
mod admin_access;
mod admin_api;
mod admin_audit_filters;
mod admin_cli;
mod admin_passkeys;
mod admin_search;
mod admin_ui;
mod admin_upstreams;
mod authorize;
mod backchannel_logout;
mod backchannel_logout_clients;
mod backchannel_logout_delivery;
mod backchannel_logout_reauth;
mod backchannel_logout_receivers;
mod bad_input;
mod branding;
mod cli;
mod cold_start;
mod device_grant;
mod device_grant_endpoint;
mod device_grant_redemption;
mod device_grant_screens;
mod discovery;
mod email_sending;
mod email_tls;
mod email_verification;
mod flow;
mod helpers;
mod introspection;
mod invitations;
mod keys;
mod lockout;
mod login;
mod logout;
mod mock_upstream_self_test;
mod notices;
mod ops;
mod outbox;
mod passkeys;
mod password_reset;
mod pruning;
mod read_cache;
mod refresh;
mod registration;
mod replicas;
mod security;
mod storage;
mod store;
mod test_mode;
mod test_mode_keys;
mod test_mode_sign_in;
mod token;
mod upstream_checks;
mod upstream_settings;
mod upstreams;
mod userinfo;
