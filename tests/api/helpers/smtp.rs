//! A real SMTP server for tests that send email: `tests/support/smtp-sink`
//! (aiosmtpd, in a virtualenv the script installs on first use) on a
//! loopback port, which keeps each message it accepts as a JSON file in a
//! fresh temporary folder. [`SmtpSink::messages`] reads them back as
//! [`Mail`]s, in arrival order.
//!
//! The sink takes any AUTH PLAIN or LOGIN credentials (and records the user
//! name in [`Mail::auth_user`]) but requires none. It answers 250 only
//! after it has written the message down; [`SmtpSink::start_with`] makes it
//! wait before that, so a test can stop a sender mid-send (a message whose
//! sender went away before the 250 is not recorded). The process is killed
//! when the [`SmtpSink`] is dropped; [`SmtpSink::stop`] also waits for it
//! and removes the folder.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The sink script (a bash wrapper around `tests/support/smtp_sink.py`).
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp-sink");

/// How long to wait for `listening on PORT`: the first sink on a machine
/// creates the virtualenv and installs aiosmtpd from PyPI.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// How long [`SmtpSink::wait_for`] waits, and how often it looks.
const WAIT_TIMEOUT: Duration = Duration::from_secs(15);
const POLL_EVERY: Duration = Duration::from_millis(50);

/// A running SMTP sink on `127.0.0.1:port`, writing into `dir`.
pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

/// One accepted message, as the sink wrote it down.
#[derive(Debug, Clone, Deserialize)]
pub struct Mail {
    /// The envelope sender (MAIL FROM).
    pub mail_from: String,
    /// The envelope recipients (every RCPT TO).
    pub rcpt_tos: Vec<String>,
    /// The Message-ID header as written, angle brackets included ("" when
    /// there is none).
    pub message_id: String,
    /// The From header, decoded.
    pub from: String,
    /// The To header, decoded.
    pub to: String,
    /// The Subject header, decoded.
    pub subject: String,
    /// The text/plain part, its transfer encoding and charset undone, lines
    /// ending in `\n` ("" when there is none).
    pub text: String,
    /// The text/html part, likewise, when there is one.
    pub html: Option<String>,
    /// The whole message as it came, headers and encoded body.
    pub raw: String,
    /// The user name the sender authenticated with, if it did.
    pub auth_user: Option<String>,
    /// The password given with it.
    pub auth_password: Option<String>,
    /// Whether the message came over TLS (STARTTLS or SMTPS).
    pub tls: bool,
}

/// How a sink protects its connections.
#[derive(Debug, Clone, Copy)]
pub enum Protection<'a> {
    /// Plain SMTP.
    Plain,
    /// STARTTLS with this certificate and key, required.
    StartTls(&'a std::path::Path, &'a std::path::Path),
    /// TLS from the first byte (SMTPS) with this certificate and key.
    Implicit(&'a std::path::Path, &'a std::path::Path),
}

impl SmtpSink {
    /// A sink on a free port, writing into a fresh temporary folder.
    pub async fn start() -> SmtpSink {
        Self::start_with(0, 0.0).await
    }

    /// A sink on the given port (0: a free one), e.g. to bring SMTP back
    /// where a stopped sink was.
    pub async fn start_on(port: u16) -> SmtpSink {
        Self::start_with(port, 0.0).await
    }

    /// A sink on the given port (0: a free one) that waits `delay_data_secs`
    /// after each message's data before recording it and answering 250.
    pub async fn start_with(port: u16, delay_data_secs: f64) -> SmtpSink {
        Self::start_protected(port, delay_data_secs, Protection::Plain).await
    }

    /// A sink on a free port that speaks TLS (see [`Protection`]).
    pub async fn start_tls(protection: Protection<'_>) -> SmtpSink {
        Self::start_protected(0, 0.0, protection).await
    }

    async fn start_protected(
        port: u16,
        delay_data_secs: f64,
        protection: Protection<'_>,
    ) -> SmtpSink {
        let dir =
            std::env::temp_dir().join(format!("gh_test_smtp_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("cannot create the SMTP sink's folder");
        let mut command = Command::new("bash");
        command
            .arg(SCRIPT)
            .arg("--dir")
            .arg(&dir)
            .arg("--port")
            .arg(port.to_string());
        if delay_data_secs > 0.0 {
            command.arg("--delay-data").arg(delay_data_secs.to_string());
        }
        match protection {
            Protection::Plain => {}
            Protection::StartTls(cert, key) => {
                command
                    .arg("--tls-cert")
                    .arg(cert)
                    .arg("--tls-key")
                    .arg(key);
            }
            Protection::Implicit(cert, key) => {
                command
                    .arg("--tls-cert")
                    .arg(cert)
                    .arg("--tls-key")
                    .arg(key)
                    .arg("--implicit-tls");
            }
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {SCRIPT}: {e}"));
        let stdout = child.stdout.take().expect("the sink's stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        // Only `listening on PORT` comes on stdout (the installation, if
        // any, and aiosmtpd's warnings go to stderr, which the test shows).
        let listening = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(port) = line.trim().strip_prefix("listening on ") {
                    return Some(port.to_string());
                }
            }
            None
        })
        .await;
        match listening {
            Ok(Some(listening)) => {
                let port = listening
                    .parse()
                    .unwrap_or_else(|_| panic!("the SMTP sink listens on {listening:?}?"));
                SmtpSink { port, dir, child }
            }
            Ok(None) => {
                let status = child.wait().await;
                panic!("the SMTP sink (port {port}) exited before listening: {status:?}; its stderr is above")
            }
            Err(_) => {
                let _ = child.kill().await;
                panic!("the SMTP sink (port {port}) did not listen within {START_TIMEOUT:?}")
            }
        }
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message accepted so far, in arrival order.
    pub fn messages(&self) -> Vec<Mail> {
        read_messages(&self.dir)
    }

    /// The messages accepted so far with `rcpt` among their envelope
    /// recipients (compared ignoring ASCII case), in arrival order.
    pub fn messages_to(&self, rcpt: &str) -> Vec<Mail> {
        self.messages()
            .into_iter()
            .filter(|mail| mail.rcpt_tos.iter().any(|to| to.eq_ignore_ascii_case(rcpt)))
            .collect()
    }

    /// Waits (up to 15 s) until at least `n` messages to `rcpt` have
    /// arrived, and returns them all; panics, listing what did arrive, if
    /// fewer do.
    pub async fn wait_for(&self, rcpt: &str, n: usize) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + WAIT_TIMEOUT;
        loop {
            let mails = self.messages_to(rcpt);
            if mails.len() >= n {
                return mails;
            }
            if tokio::time::Instant::now() >= deadline {
                let arrived: Vec<String> = self
                    .messages()
                    .iter()
                    .map(|mail| format!("to {:?}: {:?}", mail.rcpt_tos, mail.subject))
                    .collect();
                panic!(
                    "expected {n} message(s) to {rcpt} within {WAIT_TIMEOUT:?}, got {}; all that arrived: {arrived:#?}",
                    mails.len()
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Kills the sink, waits for it to exit and removes its folder.
    pub async fn stop(self) {
        let SmtpSink { dir, mut child, .. } = self;
        let _ = child.kill().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn read_messages(dir: &Path) -> Vec<Mail> {
    // The sink writes each message under a temporary name and renames it to
    // `<counter>-<random>.json`: whatever ends in .json is whole, and the
    // zero-padded counter sorts in arrival order.
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("cannot read the SMTP sink's folder").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{} is not a message: {e}", path.display()))
        })
        .collect()
}

/// A free TCP port on the loopback interface (bound, read and let go).
pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("cannot bind 127.0.0.1:0");
    probe.local_addr().expect("no local address").port()
}

/// The first URL in `text` that starts with `prefix` (e.g. the issuer +
/// "/reset-password"), up to whitespace, a quote or an angle bracket, and
/// trimmed of trailing punctuation. Panics, showing `text`, if there is
/// none.
pub fn link(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no link starting with {prefix:?} in:\n{text}"));
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
        .unwrap_or(rest.len());
    rest[..end]
        .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}'])
        .to_string()
}
