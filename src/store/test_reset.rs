//! Emptying the database for test mode's reset (`test_mode::reset`): every
//! row that a seed, a sign-in or a token made goes, in one transaction,
//! children before parents. The signing keys stay (a resource server under
//! test keeps the JWKS it fetched), and so do the audit log and the read
//! cache's bookkeeping.

use super::{Store, StoreError};

/// The tables emptied, rows that point at others first.
const TABLES: &[&str] = &[
    "refresh_tokens",
    "authorization_codes",
    "revoked_access_tokens",
    "device_codes",
    "grants",
    "consents",
    "mfa_challenges",
    "recovery_codes",
    "auth_requests",
    "browser_sessions",
    "sign_in_failures",
    "device_cookies",
    "webauthn_ceremonies",
    "passkeys",
    "passkey_users",
    "upstream_trips",
    "upstream_links",
    "upstreams",
    "email_tokens",
    "registrations",
    "outbox",
    "group_members",
    "user_groups",
    "custom_scopes",
    "apis",
    "clients",
    "users",
];

impl Store {
    /// Deletes users, clients, groups, APIs, scopes, upstreams, sessions,
    /// grants, codes, consents and messages; keeps the signing keys and
    /// the audit log.
    pub async fn empty_for_reset(&self) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        for table in TABLES {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.changed().await;
        Ok(())
    }
}
