//! Prometheus metrics (text exposition format 0.0.4): sign-ins, MFA
//! challenges, tokens, refresh reuse, revocations, request latency per route,
//! the database pool and pruning. Each server has its own registry, so
//! several in one process (tests) do not mix their counts.
//!
//! Every counter is exported from the start, with each of its label values
//! at 0, so that a scrape (or a rate over it) tells "nothing happened" from
//! "not exported" (Prometheus' advice on missing metrics).

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// Results of a password sign-in.
pub const SIGN_IN_RESULTS: &[&str] = &["success", "failure"];
/// Results of a second-factor check.
pub const MFA_RESULTS: &[&str] = &["success", "failure", "exhausted"];
/// Grant types the token endpoint serves.
pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code",
];
/// Token types the revocation endpoint revokes.
pub const TOKEN_TYPES: &[&str] = &["access_token", "refresh_token"];
/// Results of a read-cache lookup.
pub const CACHE_RESULTS: &[&str] = &["hit", "miss", "bypassed"];
/// What became of a delivery attempt of an email.
pub const EMAIL_RESULTS: &[&str] = &["sent", "failed", "parked"];
/// What became of a delivery attempt of a back-channel logout token.
pub const BACKCHANNEL_LOGOUT_RESULTS: &[&str] = &["sent", "failed", "parked", "dropped"];
/// Every kind of row pruning removes, in the order it removes them.
pub const PRUNED_KINDS: &[&str] = &[
    "authorization_codes",
    "device_codes",
    "interactions",
    "mfa_challenges",
    "webauthn_ceremonies",
    "upstream_trips",
    "email_tokens",
    "registrations",
    "outbox",
    "sessions",
    "revoked_access_tokens",
    "device_cookies",
    "refresh_tokens",
    "grants",
    "consents",
    "audit_events",
    "sign_in_failures",
    "replicas",
];

/// Every metric Gatehouse exports.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Password sign-ins by result (`success`, `failure`).
    pub sign_ins: IntCounterVec,
    /// Second-factor checks by result (`success`, `failure`, `exhausted`).
    pub mfa_challenges: IntCounterVec,
    /// Tokens issued by grant type.
    pub tokens_issued: IntCounterVec,
    /// Rotated-out refresh tokens presented again (families revoked).
    pub refresh_reuse: IntCounter,
    /// Revocations by token type (`access_token`, `refresh_token`).
    pub revocations: IntCounterVec,
    /// HTTP request latency by route pattern, method and status.
    pub http_latency: HistogramVec,
    /// Open database connections.
    pub db_connections: IntGauge,
    /// Idle database connections.
    pub db_idle_connections: IntGauge,
    /// 1 when the server runs in test mode (anyone may sign in as anyone).
    pub test_mode: IntGauge,
    /// Read-cache lookups by result (`hit`, `miss`, `bypassed`).
    pub read_cache_lookups: IntCounterVec,
    /// Rows removed by pruning, by kind ([`PRUNED_KINDS`]).
    pub pruned_rows: IntCounterVec,
    /// Pruning rounds finished (each one ran through every kind).
    pub prune_rounds: IntCounter,
    /// Email delivery attempts by result ([`EMAIL_RESULTS`]).
    pub emails: IntCounterVec,
    /// Back-channel logout token deliveries by result
    /// ([`BACKCHANNEL_LOGOUT_RESULTS`]).
    pub backchannel_logouts: IntCounterVec,
    /// Messages waiting in the outbox (read at scrape time).
    pub outbox_pending: IntGauge,
    /// Messages parked in the outbox for an admin (read at scrape time).
    pub outbox_parked: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        // A counter with one label, exported at 0 for each of `values`.
        let counter_vec = |name: &str, help: &str, label: &str, values: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), &[label]).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            for value in values {
                c.with_label_values(&[value]);
            }
            c
        };
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("unique metric");
            g
        };
        let sign_ins = counter_vec(
            "gatehouse_sign_ins_total",
            "Password sign-ins by result.",
            "result",
            SIGN_IN_RESULTS,
        );
        let mfa_challenges = counter_vec(
            "gatehouse_mfa_challenges_total",
            "Second-factor code checks by result.",
            "result",
            MFA_RESULTS,
        );
        let tokens_issued = counter_vec(
            "gatehouse_tokens_issued_total",
            "Token responses issued, by grant type.",
            "grant_type",
            GRANT_TYPES,
        );
        let revocations = counter_vec(
            "gatehouse_revocations_total",
            "Tokens revoked at the revocation endpoint, by type.",
            "token_type",
            TOKEN_TYPES,
        );
        let refresh_reuse = counter(
            "gatehouse_refresh_token_reuse_total",
            "Rotated-out refresh tokens presented again; each revoked its family.",
        );
        let http_latency = HistogramVec::new(
            HistogramOpts::new(
                "gatehouse_http_request_duration_seconds",
                "HTTP request latency.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(http_latency.clone()))
            .expect("unique metric");
        let db_connections = gauge(
            "gatehouse_db_pool_connections",
            "Open database connections.",
        );
        let db_idle_connections = gauge(
            "gatehouse_db_pool_idle_connections",
            "Idle database connections.",
        );
        let test_mode = gauge(
            "gatehouse_test_mode",
            "1 when the server runs in test mode: anyone may sign in as anyone and /test/v1 mints tokens.",
        );
        let read_cache_lookups = counter_vec(
            "gatehouse_read_cache_lookups_total",
            "Read-cache lookups (access-token checks, clients, user claims) by result.",
            "result",
            CACHE_RESULTS,
        );
        let pruned_rows = counter_vec(
            "gatehouse_pruned_rows_total",
            "Rows removed by pruning, by kind.",
            "kind",
            PRUNED_KINDS,
        );
        let prune_rounds = counter("gatehouse_prune_rounds_total", "Pruning rounds finished.");
        let emails = counter_vec(
            "gatehouse_emails_total",
            "Email delivery attempts by result: sent, failed (to be retried), parked.",
            "result",
            EMAIL_RESULTS,
        );
        let backchannel_logouts = counter_vec(
            "gatehouse_backchannel_logouts_total",
            "Back-channel logout token deliveries by result: sent, failed (to be retried), parked, dropped (the client is gone or has no URI any more).",
            "result",
            BACKCHANNEL_LOGOUT_RESULTS,
        );
        let outbox_pending = gauge(
            "gatehouse_outbox_pending",
            "Messages waiting in the outbox to be sent.",
        );
        let outbox_parked = gauge(
            "gatehouse_outbox_parked",
            "Messages parked after too many failed attempts, until an admin retries them.",
        );
        Metrics {
            emails,
            backchannel_logouts,
            outbox_pending,
            outbox_parked,
            pruned_rows,
            prune_rounds,
            read_cache_lookups,
            registry,
            sign_ins,
            mfa_challenges,
            tokens_issued,
            refresh_reuse,
            revocations,
            http_latency,
            db_connections,
            db_idle_connections,
            test_mode,
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let encoder = TextEncoder::new();
        if encoder
            .encode(&self.registry.gather(), &mut buffer)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_with_their_labels() {
        let m = Metrics::new();
        m.sign_ins.with_label_values(&["success"]).inc();
        m.tokens_issued
            .with_label_values(&["authorization_code"])
            .inc_by(2);
        let text = m.render();
        assert!(
            text.contains(r#"gatehouse_sign_ins_total{result="success"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"gatehouse_tokens_issued_total{grant_type="authorization_code"} 2"#)
        );
        assert!(text.contains("gatehouse_refresh_token_reuse_total 0"));
    }

    #[test]
    fn every_counter_and_label_value_is_exported_at_zero_from_the_start() {
        let text = Metrics::new().render();
        for (name, label, values) in [
            ("gatehouse_sign_ins_total", "result", SIGN_IN_RESULTS),
            ("gatehouse_mfa_challenges_total", "result", MFA_RESULTS),
            ("gatehouse_tokens_issued_total", "grant_type", GRANT_TYPES),
            ("gatehouse_revocations_total", "token_type", TOKEN_TYPES),
            (
                "gatehouse_read_cache_lookups_total",
                "result",
                CACHE_RESULTS,
            ),
            ("gatehouse_pruned_rows_total", "kind", PRUNED_KINDS),
        ] {
            for value in values {
                let line = format!("{name}{{{label}=\"{value}\"}} 0");
                assert!(text.lines().any(|l| l == line), "{line} in {text}");
            }
        }
        for name in [
            "gatehouse_refresh_token_reuse_total",
            "gatehouse_prune_rounds_total",
        ] {
            assert!(text.lines().any(|l| l == format!("{name} 0")), "{name}");
        }
    }
}
