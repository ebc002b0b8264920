//! Reading the settings: the optional TOML file, then the `GATEHOUSE_*`
//! environment variables over it, then the checks (`checks.rs`).

use super::{Config, ConfigError};
use std::path::Path;

/// How an environment variable's text is read.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Number,
    Flag,
    /// Comma-separated.
    List,
}

/// Settings that environment variables may override, with their kind. The
/// variable is `GATEHOUSE_` + the name in upper case.
const ENV_KEYS: &[(&str, Kind)] = &[
    ("database_url", Kind::Text),
    ("issuer", Kind::Text),
    ("listen", Kind::Text),
    ("seed", Kind::Text),
    ("access_token_ttl", Kind::Number),
    ("id_token_ttl", Kind::Number),
    ("code_ttl", Kind::Number),
    ("refresh_token_idle_ttl", Kind::Number),
    ("refresh_token_absolute_ttl", Kind::Number),
    ("session_ttl", Kind::Number),
    ("interaction_ttl", Kind::Number),
    ("product_name", Kind::Text),
    ("accent_color", Kind::Text),
    ("logo_file", Kind::Text),
    ("signing_alg", Kind::Text),
    ("metrics_listen", Kind::Text),
    ("log_format", Kind::Text),
    ("database_wait", Kind::Number),
    ("rate_limit_sign_in", Kind::Number),
    ("rate_limit_back_channel", Kind::Number),
    ("trust_forwarded_for", Kind::Flag),
    ("audit_retention_days", Kind::Number),
    ("cache_sync_ms", Kind::Number),
    ("prune_interval_secs", Kind::Number),
    ("upstream_timeout_secs", Kind::Number),
    ("smtp_url", Kind::Text),
    ("smtp_password", Kind::Text),
    ("email_from", Kind::Text),
    ("self_registration", Kind::Flag),
    ("self_registration_domains", Kind::List),
    ("self_registration_verify_email", Kind::Flag),
    ("notify_new_browser", Kind::Flag),
    ("notify_password_changed", Kind::Flag),
    ("notify_mfa_changed", Kind::Flag),
    ("notify_passkey_added", Kind::Flag),
    ("notify_upstream_linked", Kind::Flag),
    ("notify_email_changed", Kind::Flag),
    ("email_max_attempts", Kind::Number),
];

impl Config {
    /// Loads the file (if any), then applies the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_with_env(file, |name| std::env::var(name).ok())
    }

    /// Like [`Config::load`], with the environment supplied by the caller.
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Parse(format!("{}: {e}", path.display())))?
            }
            None => toml::Table::new(),
        };
        for (key, kind) in ENV_KEYS {
            let var = format!("GATEHOUSE_{}", key.to_uppercase());
            let Some(value) = env(&var).filter(|v| !v.is_empty()) else {
                continue;
            };
            let value = match kind {
                Kind::Number => toml::Value::Integer(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| ConfigError::Parse(format!("{var} must be a whole number")))?,
                ),
                Kind::Flag => {
                    toml::Value::Boolean(match value.trim().to_ascii_lowercase().as_str() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => {
                            return Err(ConfigError::Parse(format!("{var} must be true or false")))
                        }
                    })
                }
                Kind::Text => toml::Value::String(value),
                Kind::List => toml::Value::Array(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|item| !item.is_empty())
                        .map(|item| toml::Value::String(item.to_string()))
                        .collect(),
                ),
            };
            table.insert((*key).to_string(), value);
        }
        let config: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        config.validated()
    }
}
