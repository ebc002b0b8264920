//! Pruning: deletes the rows nothing can use any more, in small batches so
//! that the token path never waits long for the writer (RFC 9700 §4.14 for
//! what a token family must keep to detect reuse).
//!
//! Each kind of row is deleted `BATCH` rows a statement
//! (`DELETE … WHERE key IN (SELECT key … LIMIT n)`, valid on both engines),
//! with a pause between statements: a statement holds SQLite's one writer
//! for a moment only and takes row locks on Postgres, never a table lock.
//! Safe to run on several replicas at once: a row is deleted once, by
//! whichever statement gets to it first.
//!
//! What goes, and why nothing still needed does:
//! - codes a day past their end (a late replay is still recognised as one
//!   until then), device codes a day past theirs (RFC 8628), pending authorization requests, second-factor challenges,
//!   browser sessions and revoked access-token ids past their end;
//! - refresh tokens past their end, except a successor whose predecessor
//!   could still be presented (the successor is what marks it rotated out);
//! - grants (token families) that are revoked or past their absolute
//!   lifetime and have no refresh token left that could be presented. Such
//!   a grant answers nothing a missing one does not: its access tokens are
//!   refused either way, and while one of its refresh tokens could still be
//!   presented the grant stays, so that presenting a rotated-out token is
//!   still reported as reuse. A grant also stays while a browser session
//!   with its `sid` exists: when that session ends, its client is sent a
//!   logout token (Back-Channel Logout 1.0 §2.7), and the grant is how the
//!   session knows the client;
//! - consents whose client or user no longer exists;
//! - audit events older than the retention, when one is set;
//! - trusted browsers (device cookies) past their end;
//! - one-time email links and sign-ups waiting for theirs past their end, and sent messages 30 days after
//!   they went out (pending and parked ones stay until sent or retried);
//! - sign-in failure counters a day old and rows of servers gone for a day.

use super::{Store, StoreError};
use crate::metrics::PRUNED_KINDS;
use std::time::Duration;

/// Rows deleted by one statement.
const BATCH: i64 = 500;

/// The pause between two batches, which lets queued writes in.
const PAUSE: Duration = Duration::from_millis(5);

const DAY: i64 = 86_400;

/// How long a used code is kept past its end, so that a late replay is
/// still recognised as one (and revokes what the code issued).
const CODE_GRACE: i64 = DAY;

/// How long a sent message stays listed in the outbox.
const SENT_MAIL_KEPT: i64 = 30 * DAY;

/// What one pruning round removed, by kind (every kind of
/// [`crate::metrics::PRUNED_KINDS`], in that order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// (kind, rows removed).
    pub counts: Vec<(&'static str, u64)>,
}

impl Pruned {
    /// Rows removed in all.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    /// Rows of one kind removed.
    pub fn of(&self, kind: &str) -> u64 {
        self.counts
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }
}

impl std::fmt::Display for Pruned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (kind, n)) in self.counts.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{kind}={n}")?;
        }
        Ok(())
    }
}

/// One batched delete. With a cut-off time, the statement binds it as `$1`
/// and the batch size as `$2`; without, the batch size as `$1`.
struct Sweep {
    kind: &'static str,
    sql: &'static str,
    before: Option<i64>,
}

impl Store {
    /// Deletes what expired before `now` (see the module header), and audit
    /// events older than `audit_before` when it is set.
    pub async fn prune(&self, now: i64, audit_before: Option<i64>) -> Result<Pruned, StoreError> {
        let expired = |kind, sql| Sweep {
            kind,
            sql,
            before: Some(now),
        };
        let mut sweeps = vec![
            Sweep {
                kind: "authorization_codes",
                sql: "DELETE FROM authorization_codes WHERE code_hash IN
                      (SELECT code_hash FROM authorization_codes WHERE expires_at < $1 LIMIT $2)",
                before: Some(now - CODE_GRACE),
            },
            // Device codes likewise, so that a device polling late is told
            // its code expired rather than that it never existed.
            Sweep {
                kind: "device_codes",
                sql: "DELETE FROM device_codes WHERE device_code_hash IN
                      (SELECT device_code_hash FROM device_codes WHERE expires_at < $1 LIMIT $2)",
                before: Some(now - CODE_GRACE),
            },
            expired(
                "interactions",
                "DELETE FROM auth_requests WHERE id_hash IN
                 (SELECT id_hash FROM auth_requests WHERE expires_at < $1 LIMIT $2)",
            ),
            expired(
                "mfa_challenges",
                "DELETE FROM mfa_challenges WHERE id_hash IN
                 (SELECT id_hash FROM mfa_challenges WHERE expires_at < $1 LIMIT $2)",
            ),
            expired(
                "webauthn_ceremonies",
                "DELETE FROM webauthn_ceremonies WHERE id_hash IN
                 (SELECT id_hash FROM webauthn_ceremonies WHERE expires_at < $1 LIMIT $2)",
            ),
            expired(
                "upstream_trips",
                "DELETE FROM upstream_trips WHERE state_hash IN
                 (SELECT state_hash FROM upstream_trips WHERE expires_at < $1 LIMIT $2)",
            ),
            expired(
                "email_tokens",
                "DELETE FROM email_tokens WHERE token_hash IN
                 (SELECT token_hash FROM email_tokens WHERE expires_at < $1 LIMIT $2)",
            ),
            expired(
                "registrations",
                "DELETE FROM registrations WHERE token_hash IN
                 (SELECT token_hash FROM registrations WHERE expires_at < $1 LIMIT $2)",
            ),
            // A sent message is kept a while for the admin screens (its
            // bodies were erased when it went out).
            Sweep {
                kind: "outbox",
                sql: "DELETE FROM outbox WHERE id IN
                      (SELECT id FROM outbox WHERE state = 'sent' AND sent_at < $1 LIMIT $2)",
                before: Some(now - SENT_MAIL_KEPT),
            },
            expired(
                "sessions",
                "DELETE FROM browser_sessions WHERE id_hash IN
                 (SELECT id_hash FROM browser_sessions WHERE expires_at < $1 LIMIT $2)",
            ),
            expired(
                "revoked_access_tokens",
                "DELETE FROM revoked_access_tokens WHERE jti IN
                 (SELECT jti FROM revoked_access_tokens WHERE expires_at < $1 LIMIT $2)",
            ),
            // A browser trusted for an account (see `device_cookies.rs`) stops
            // being trusted at its expiry.
            Sweep {
                kind: "device_cookies",
                sql: "DELETE FROM device_cookies WHERE (token_hash, account) IN
                      (SELECT token_hash, account FROM device_cookies WHERE expires_at < $1 LIMIT $2)",
                before: Some(now),
            },
            // A token counts as rotated out because its successor exists, so
            // a successor stays while the token it replaced could be
            // presented (its idle lifetime can outlast the successor's, after
            // a client's lifetimes were shortened).
            expired(
                "refresh_tokens",
                "DELETE FROM refresh_tokens WHERE token_hash IN
                 (SELECT r.token_hash FROM refresh_tokens r
                  WHERE r.expires_at < $1
                    AND NOT EXISTS (SELECT 1 FROM refresh_tokens p
                                    WHERE p.token_hash = r.rotated_from AND p.expires_at >= $1)
                  LIMIT $2)",
            ),
            // After the refresh tokens, so that a dead family's last tokens
            // are already gone (the foreign key would take them anyway).
            expired(
                "grants",
                "DELETE FROM grants WHERE id IN
                 (SELECT g.id FROM grants g
                  WHERE (g.revoked_at IS NOT NULL OR g.expires_at < $1)
                    AND NOT EXISTS (SELECT 1 FROM refresh_tokens r
                                    WHERE r.grant_id = g.id AND r.expires_at >= $1)
                    AND NOT EXISTS (SELECT 1 FROM browser_sessions s WHERE s.sid = g.sid)
                  LIMIT $2)",
            ),
            // Deleting a client or a user takes its consents along; this
            // catches any left behind (a database changed by hand, say), so
            // a client registered again under the same id starts with none.
            Sweep {
                kind: "consents",
                sql: "DELETE FROM consents WHERE (user_id, client_id) IN
                      (SELECT c.user_id, c.client_id FROM consents c
                       WHERE NOT EXISTS (SELECT 1 FROM clients k WHERE k.client_id = c.client_id)
                          OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id)
                       LIMIT $1)",
                before: None,
            },
        ];
        if let Some(before) = audit_before {
            sweeps.push(Sweep {
                kind: "audit_events",
                sql: "DELETE FROM audit_events WHERE id IN
                      (SELECT id FROM audit_events WHERE at < $1 LIMIT $2)",
                before: Some(before),
            });
        }
        let mut pruned = Pruned::default();
        for sweep in &sweeps {
            let n = self.sweep(sweep).await?;
            pruned.counts.push((sweep.kind, n));
        }
        if audit_before.is_none() {
            pruned.counts.push(("audit_events", 0));
        }
        // Failure counters a day old no longer slow anyone down. An attack
        // from many addresses leaves a row per address, so these go in
        // batches too.
        let failures = self
            .sweep(&Sweep {
                kind: "sign_in_failures",
                sql: "DELETE FROM sign_in_failures WHERE (account, source) IN
                      (SELECT account, source FROM sign_in_failures WHERE updated_at < $1 LIMIT $2)",
                before: Some(now - DAY),
            })
            .await?;
        pruned.counts.push(("sign_in_failures", failures));
        // One row per server: one statement.
        pruned
            .counts
            .push(("replicas", self.prune_replicas().await?));
        debug_assert!(pruned
            .counts
            .iter()
            .map(|(k, _)| *k)
            .eq(PRUNED_KINDS.iter().copied()));
        Ok(pruned)
    }

    /// Deletes what expired before `now` (everything [`Store::prune`] does
    /// but the audit log); returns how many rows.
    pub async fn prune_expired(&self, now: i64) -> Result<u64, StoreError> {
        Ok(self.prune(now, None).await?.total())
    }

    /// Runs one sweep batch after batch until a batch comes back short.
    async fn sweep(&self, sweep: &Sweep) -> Result<u64, StoreError> {
        let mut removed = 0;
        loop {
            let mut query = sqlx::query(sweep.sql);
            if let Some(before) = sweep.before {
                query = query.bind(before);
            }
            let n = query
                .bind(BATCH)
                .execute(&self.writer)
                .await?
                .rows_affected();
            removed += n;
            if n < BATCH as u64 {
                return Ok(removed);
            }
            tokio::time::sleep(PAUSE).await;
        }
    }
}
