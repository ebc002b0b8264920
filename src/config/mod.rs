//! Typed configuration: defaults, then an optional TOML file, then
//! `GATEHOUSE_*` environment variables, each overriding the one before.

mod checks;
mod environment;
pub use checks::{redact, TEST_MODE_DATABASE};

use serde::Deserialize;
use std::path::PathBuf;

/// Every setting Gatehouse reads. Each has a default; see the README for the
/// reference table.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://PATH`, `sqlite::memory:` or `postgres://…`.
    pub database_url: String,
    /// The exact `iss`; every endpoint URL is derived from it.
    pub issuer: String,
    /// Address the HTTP server binds to (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// Seed file loaded at start-up.
    pub seed: Option<PathBuf>,
    /// Access token lifetime in seconds.
    pub access_token_ttl: i64,
    /// ID token lifetime in seconds.
    pub id_token_ttl: i64,
    /// Authorization code lifetime in seconds (at most 60).
    pub code_ttl: i64,
    /// A refresh token unused for this many seconds expires.
    pub refresh_token_idle_ttl: i64,
    /// A grant (refresh token family) ends this many seconds after sign-in.
    pub refresh_token_absolute_ttl: i64,
    /// Browser session lifetime in seconds.
    pub session_ttl: i64,
    /// How long a user has to finish signing in, in seconds.
    pub interaction_ttl: i64,
    /// Product name shown on every page.
    pub product_name: String,
    /// Accent colour of the screens, as `#rgb` or `#rrggbb`.
    pub accent_color: String,
    /// An SVG, PNG, JPEG or WebP file shown as the logo on every page
    /// (read once at start-up); unset, Gatehouse's own logo.
    pub logo_file: Option<PathBuf>,
    /// JWS algorithm for new signing keys: `RS256` (default) or `ES256`.
    pub signing_alg: String,
    /// A separate address for `/metrics` (kept off the public listener);
    /// unset, `/metrics` is served with everything else.
    pub metrics_listen: Option<String>,
    /// Log format: `text` (default, for people) or `json` (one object a line).
    pub log_format: String,
    /// How long start-up waits for an unreachable database, in seconds,
    /// retrying with a log line each time, before giving up.
    pub database_wait: i64,
    /// Password and TOTP form posts allowed per client address per minute
    /// (0: no limit).
    pub rate_limit_sign_in: u32,
    /// Token, introspection and revocation requests allowed per client
    /// address per minute (0: no limit).
    pub rate_limit_back_channel: u32,
    /// Take the client address from the right-most X-Forwarded-For entry
    /// (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Audit events older than this many days are deleted (0: kept forever).
    pub audit_retention_days: i64,
    /// How often, in milliseconds, each server checks whether another
    /// process (a replica, the CLI) changed what its read cache holds
    /// (0: no read cache, every check asks the database).
    pub cache_sync_ms: i64,
    /// How often, in seconds, each server deletes expired rows (codes,
    /// sessions, pending sign-ins, dead token families, …) and audit events
    /// past their retention.
    pub prune_interval_secs: i64,
    /// How long, in seconds, Gatehouse waits for an upstream identity
    /// provider (connecting and each answer) before telling the person it
    /// is not answering.
    pub upstream_timeout_secs: u64,
    /// The SMTP server email goes through: `smtp://host:port` (plain, for a
    /// local relay), `smtp://host:587?tls=starttls`, or
    /// `smtps://user:password@host:465` (TLS from the first byte). Unset, no
    /// email is sent and the screens that need it say so.
    pub smtp_url: Option<Secret>,
    /// The SMTP password, when it should not sit in `smtp_url`.
    pub smtp_password: Option<Secret>,
    /// The `From` of every message, like `Gatehouse <id@example.com>`;
    /// unset, the product name at `noreply@` the issuer's host.
    pub email_from: Option<String>,
    /// Whether people may create their own account on the sign-in page.
    pub self_registration: bool,
    /// When set, only addresses at these domains may register.
    pub self_registration_domains: Vec<String>,
    /// Whether a registered account must verify its address before its
    /// first sign-in.
    pub self_registration_verify_email: bool,
    /// Security notices, each on unless turned off: a sign-in from a new
    /// browser, a password change, a second factor turned on or off, a
    /// passkey added, a provider linked.
    pub notify_new_browser: bool,
    /// See `notify_new_browser`.
    pub notify_password_changed: bool,
    /// See `notify_new_browser`.
    pub notify_mfa_changed: bool,
    /// See `notify_new_browser`.
    pub notify_passkey_added: bool,
    /// See `notify_new_browser`.
    pub notify_upstream_linked: bool,
    /// A notice to the old (verified) address when the account's address
    /// changes.
    pub notify_email_changed: bool,
    /// Failed attempts after which a message (an email, or a back-channel
    /// logout token) is parked for an admin.
    pub email_max_attempts: i64,
    /// Upstream identity providers, in the seed file's `[[upstreams]]`
    /// format (read and checked by `seed`, stored at start-up).
    #[serde(default)]
    pub upstreams: UpstreamTables,
    /// Test mode: anyone may sign in as anyone, and `/test/v1/*` mints
    /// tokens, moves the clock and resets the state (`crate::test_mode`).
    /// Never read from the file or a seed: only `serve --test-mode` or
    /// `GATEHOUSE_TEST_MODE` switch it on ([`Config::enter_test_mode`]).
    #[serde(skip)]
    pub test_mode: bool,
}

/// A setting that holds a secret: its `Debug` says only whether it is set.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Secret {
        Secret(text.to_string())
    }
}

/// The config file's `[[upstreams]]` tables, as written. Their `Debug`
/// shows only the ids: they hold client secrets.
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct UpstreamTables(pub Vec<toml::Table>);

impl std::fmt::Debug for UpstreamTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.0
                    .iter()
                    .map(|t| t.get("id").and_then(|v| v.as_str()).unwrap_or("?")),
            )
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://data/gatehouse.db".into(),
            issuer: "http://localhost:8080".into(),
            listen: "127.0.0.1:8080".into(),
            seed: None,
            access_token_ttl: 600,
            id_token_ttl: 3600,
            code_ttl: 60,
            refresh_token_idle_ttl: 14 * 86_400,
            refresh_token_absolute_ttl: 30 * 86_400,
            session_ttl: 12 * 3600,
            interaction_ttl: 30 * 60,
            product_name: "Gatehouse".into(),
            accent_color: "#2f5bea".into(),
            logo_file: None,
            signing_alg: "RS256".into(),
            metrics_listen: None,
            log_format: "text".into(),
            database_wait: 60,
            rate_limit_sign_in: 60,
            rate_limit_back_channel: 6000,
            trust_forwarded_for: false,
            audit_retention_days: 365,
            cache_sync_ms: 100,
            prune_interval_secs: 300,
            upstream_timeout_secs: 10,
            smtp_url: None,
            smtp_password: None,
            email_from: None,
            self_registration: false,
            self_registration_domains: Vec::new(),
            self_registration_verify_email: true,
            notify_new_browser: true,
            notify_password_changed: true,
            notify_mfa_changed: true,
            notify_passkey_added: true,
            notify_upstream_linked: true,
            notify_email_changed: true,
            email_max_attempts: 10,
            upstreams: UpstreamTables::default(),
            test_mode: false,
        }
    }
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file or an environment variable does not parse.
    #[error("invalid configuration: {0}")]
    Parse(String),
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// The path part of the issuer (`""` or `/prefix`), under which every
    /// endpoint is served.
    pub fn base_path(&self) -> String {
        url::Url::parse(&self.issuer)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default()
    }

    /// Whether the issuer is served over https (cookies get `Secure`).
    pub fn is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// The `From` of every message (see `email_from`).
    pub fn email_from_address(&self) -> String {
        let issuer = url::Url::parse(&self.issuer).expect("the issuer was checked at start-up");
        crate::smtp_url::from_address(self.email_from.as_deref(), &self.product_name, &issuer)
            .unwrap_or_else(|_| format!("noreply@{}", issuer.host_str().unwrap_or("localhost")))
    }

    /// Whether email can be sent (an SMTP server is configured).
    pub fn email_enabled(&self) -> bool {
        self.smtp_url.is_some()
    }

    /// An absolute URL for an endpoint path such as `/token`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documentation() {
        let c = Config::load_with_env(None, |_| None).unwrap();
        assert_eq!(c.database_url, "sqlite://data/gatehouse.db");
        assert_eq!(c.issuer, "http://localhost:8080");
        assert_eq!(c.listen, "127.0.0.1:8080");
    }

    #[test]
    fn environment_overrides_and_issuer_is_normalised() {
        let c = Config::load_with_env(None, |k| match k {
            "GATEHOUSE_ISSUER" => Some("https://id.example.com/auth/".into()),
            "GATEHOUSE_CODE_TTL" => Some("30".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.issuer, "https://id.example.com/auth");
        assert_eq!(c.base_path(), "/auth");
        assert_eq!(c.endpoint("/token"), "https://id.example.com/auth/token");
        assert_eq!(c.code_ttl, 30);
        assert!(c.is_https());
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(
            Config::load_with_env(None, |k| (k == "GATEHOUSE_CODE_TTL").then(|| "600".into()))
                .is_err()
        );
        assert!(
            Config::load_with_env(None, |k| (k == "GATEHOUSE_CODE_TTL").then(|| "x".into()))
                .is_err()
        );
        assert!(Config::load_with_env(None, |k| (k == "GATEHOUSE_ISSUER")
            .then(|| "ftp://x".into()))
        .is_err());
        for colour in ["blue", "#12345", "#ggg", "2f5bea"] {
            assert!(
                Config::load_with_env(None, |k| (k == "GATEHOUSE_ACCENT_COLOR")
                    .then(|| colour.into()))
                .is_err(),
                "{colour}"
            );
        }
    }

    #[test]
    fn the_example_file_is_valid() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("gatehouse.example.toml");
        let c = Config::load_with_env(Some(&path), |_| None).unwrap();
        assert_eq!(c.accent_color, "#2f5bea");
    }

    #[test]
    fn test_mode_runs_in_memory_unless_told_otherwise() {
        let mut c = Config::default();
        c.enter_test_mode(false).unwrap();
        assert!(c.test_mode);
        assert_eq!(c.database_url, TEST_MODE_DATABASE);

        let mut c = Config {
            database_url: "postgres://gh:secret@db/gatehouse".into(),
            ..Config::default()
        };
        let refused = c.enter_test_mode(false).unwrap_err().to_string();
        assert!(!c.test_mode);
        assert!(
            refused.contains("postgres://gh:***@db/gatehouse"),
            "{refused}"
        );
        assert!(!refused.contains("secret"), "{refused}");
        c.enter_test_mode(true).unwrap();
        assert!(c.test_mode);
        assert_eq!(c.database_url, "postgres://gh:secret@db/gatehouse");
    }

    #[test]
    fn test_mode_is_never_read_from_the_file() {
        let refused = "test_mode = true"
            .parse::<toml::Table>()
            .unwrap()
            .try_into::<Config>();
        assert!(refused.is_err(), "the file cannot switch test mode on");
    }
}
