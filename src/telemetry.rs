//! Logging setup: tracing to standard error, filtered by `RUST_LOG`
//! (default `info`), as text or JSON (`GATEHOUSE_LOG_FORMAT`). No secret,
//! code or token is ever a field of a log line.
//!
//! Lines are written by a thread of their own, in batches: a request only
//! formats its line and queues it, instead of making a `write` system call
//! on the thread that serves it. The queue never drops a line; when it is
//! full (the disk or the terminal cannot keep up), requests wait for it. A
//! stop by SIGTERM or Ctrl-C writes the queue out; a process killed outright
//! (SIGKILL, an abort) loses the lines of its last milliseconds.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Lines queued before logging calls wait for the writer thread.
const QUEUED_LINES: usize = 65_536;

/// Keeps the writer thread alive; dropping it writes out what is queued.
#[must_use = "logs queued when this is dropped are written, later ones are lost"]
pub struct LogGuard {
    _writer: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Installs the global subscriber: human-readable text, or one JSON object
/// a line with `json` (the request id and other span fields included). A
/// second call is a no-op. Hold the guard until the process ends.
pub fn init(format: &str) -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("gatehouse-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let installed = if format == "json" {
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
    LogGuard {
        _writer: installed.is_ok().then_some(guard),
    }
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
