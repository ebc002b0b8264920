//! Logging setup: tracing to standard error, filtered by `RUST_LOG`
//! (default `info`), as text or JSON (`GATEHOUSE_LOG_FORMAT`). No secret,
//! code or token is ever a field of a log line.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: human-readable text, or one JSON object
/// a line with `json` (the request id and other span fields included). A
/// second call is a no-op.
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .try_init()
    };
}

/// For test binaries: logs go through the test harness's capture, `warn`
/// and above unless `RUST_LOG` says otherwise.
pub fn init_for_tests() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
