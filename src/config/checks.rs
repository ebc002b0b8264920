//! The checks a loaded configuration must pass before it is used: ranges,
//! supported choices, the issuer's form (normalised without a trailing
//! slash), the SMTP settings and the sign-up domains.

use super::{Config, ConfigError};

impl Config {
    /// Checks ranges and normalises the issuer (no trailing slash).
    pub fn validated(mut self) -> Result<Config, ConfigError> {
        let issuer = url::Url::parse(&self.issuer)
            .map_err(|e| ConfigError::Invalid(format!("issuer {:?}: {e}", self.issuer)))?;
        if !matches!(issuer.scheme(), "http" | "https")
            || issuer.query().is_some()
            || issuer.fragment().is_some()
        {
            return Err(ConfigError::Invalid(
                "issuer must be an http(s) URL without query or fragment".into(),
            ));
        }
        while self.issuer.ends_with('/') {
            self.issuer.pop();
        }
        if !matches!(self.signing_alg.as_str(), "RS256" | "ES256") {
            return Err(ConfigError::Invalid(format!(
                "signing_alg {:?} is not supported; use RS256 or ES256",
                self.signing_alg
            )));
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(ConfigError::Invalid(
                "log_format must be text or json".into(),
            ));
        }
        let hex = self.accent_color.strip_prefix('#').unwrap_or("");
        if !matches!(hex.len(), 3 | 6) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ConfigError::Invalid(format!(
                "accent_color {:?} must be a colour like #2f5bea",
                self.accent_color
            )));
        }
        if !(1..=60).contains(&self.code_ttl) {
            return Err(ConfigError::Invalid(
                "code_ttl must be 1..=60 seconds".into(),
            ));
        }
        if !(0..=36_500).contains(&self.audit_retention_days) {
            return Err(ConfigError::Invalid(
                "audit_retention_days must be 0 (keep forever) to 36500".into(),
            ));
        }
        if !(0..=10_000).contains(&self.cache_sync_ms) {
            return Err(ConfigError::Invalid(
                "cache_sync_ms must be 0 (no read cache) to 10000".into(),
            ));
        }
        if !(1..=86_400).contains(&self.prune_interval_secs) {
            return Err(ConfigError::Invalid(
                "prune_interval_secs must be 1 to 86400".into(),
            ));
        }
        if !(1..=120).contains(&self.upstream_timeout_secs) {
            return Err(ConfigError::Invalid(
                "upstream_timeout_secs must be 1 to 120".into(),
            ));
        }
        if !(1..=100).contains(&self.email_max_attempts) {
            return Err(ConfigError::Invalid(
                "email_max_attempts must be 1 to 100".into(),
            ));
        }
        if let Some(url) = &self.smtp_url {
            crate::smtp_url::SmtpUrl::parse(&url.0)
                .map(|_| ())
                .map_err(ConfigError::Invalid)?;
        }
        crate::smtp_url::from_address(self.email_from.as_deref(), &self.product_name, &issuer)
            .map_err(ConfigError::Invalid)?;
        for domain in &mut self.self_registration_domains {
            *domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
            if domain.is_empty() || !domain.contains('.') || domain.contains(['@', ' ', '/']) {
                return Err(ConfigError::Invalid(format!(
                    "self_registration_domains: {domain:?} is not a domain like example.com"
                )));
            }
        }
        for (name, value) in [
            ("access_token_ttl", self.access_token_ttl),
            ("id_token_ttl", self.id_token_ttl),
            ("refresh_token_idle_ttl", self.refresh_token_idle_ttl),
            (
                "refresh_token_absolute_ttl",
                self.refresh_token_absolute_ttl,
            ),
            ("session_ttl", self.session_ttl),
            ("interaction_ttl", self.interaction_ttl),
        ] {
            if value <= 0 {
                return Err(ConfigError::Invalid(format!("{name} must be positive")));
            }
        }
        Ok(self)
    }
}

/// The one database test mode runs on unless told otherwise.
pub const TEST_MODE_DATABASE: &str = "sqlite::memory:";

impl Config {
    /// Switches test mode on, as the command line or the environment asked
    /// at start. Test mode lets anyone in, so it refuses a database that
    /// may hold real accounts: anything but [`TEST_MODE_DATABASE`], unless
    /// `any_database` (`GATEHOUSE_TEST_MODE_ANY_DATABASE=true`) says the
    /// operator means it. With the default database setting it uses
    /// [`TEST_MODE_DATABASE`].
    pub fn enter_test_mode(&mut self, any_database: bool) -> Result<(), ConfigError> {
        if self.database_url == Config::default().database_url {
            self.database_url = TEST_MODE_DATABASE.into();
        }
        if self.database_url != TEST_MODE_DATABASE && !any_database {
            return Err(ConfigError::Invalid(format!(
                "test mode lets anyone sign in as anyone, so it runs only on {TEST_MODE_DATABASE} \
                 (the database here is {}); set GATEHOUSE_TEST_MODE_ANY_DATABASE=true to use \
                 another one anyway",
                redact(&self.database_url)
            )));
        }
        self.test_mode = true;
        Ok(())
    }
}

/// Hides the password in a database URL before it is logged.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}
