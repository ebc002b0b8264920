//! SMTP over TLS against a real server with a certificate of a test
//! authority: STARTTLS (`?tls=starttls`) and SMTPS (`smtps://`) deliver
//! when the authority is trusted (the binary reads the system's roots,
//! here `SSL_CERT_FILE`), and deliver nothing when it is not: the message
//! waits in the outbox with the certificate error.

use crate::helpers::smtp::{link, Protection, SmtpSink};
use crate::helpers::*;
use reqwest::StatusCode;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A test authority and a certificate it signed for `localhost`.
struct Certificates {
    dir: PathBuf,
}

impl Certificates {
    fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    fn cert(&self) -> PathBuf {
        self.dir.join("server.pem")
    }
    fn key(&self) -> PathBuf {
        self.dir.join("server.key")
    }
}

async fn openssl(dir: &Path, args: &[&str]) {
    let output = tokio::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn certificates() -> Certificates {
    let dir = std::env::temp_dir().join(format!("gh_test_tls_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("ca.ext"),
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    for args in [
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.csr",
            "-subj",
            "/CN=Gatehouse test authority",
        ][..],
        &[
            "x509", "-req", "-in", "ca.csr", "-signkey", "ca.key", "-out", "ca.pem", "-days", "2",
            "-extfile", "ca.ext",
        ],
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    ] {
        openssl(&dir, args).await;
    }
    Certificates { dir }
}

/// `gatehouse serve` with self-registration on and email through
/// `smtp_url`, trusting `ca` (if any) besides nothing else.
struct Server {
    child: tokio::process::Child,
    base: String,
    database: String,
}

async fn serve(smtp_url: &str, ca: Option<&Path>) -> Server {
    let database = fresh_database().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    command
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", &database)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ISSUER", &base)
        .env("GATEHOUSE_SMTP_URL", smtp_url)
        .env("GATEHOUSE_SELF_REGISTRATION", "true")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    match ca {
        Some(ca) => command.env("SSL_CERT_FILE", ca),
        // A file with no certificate: nothing is trusted.
        None => command.env("SSL_CERT_FILE", "/dev/null"),
    };
    let child = command.spawn().unwrap();
    let client = client_builder().build().unwrap();
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status() == StatusCode::OK {
                return Server {
                    child,
                    base,
                    database,
                };
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not get ready");
}

async fn sign_up(server: &Server, email: &str) {
    let browser = new_browser();
    let page = browser
        .get(format!("{}/register", server.base))
        .send()
        .await
        .unwrap();
    let csrf = hidden_field(&page.text().await.unwrap(), "csrf").unwrap();
    let answer = browser
        .post(format!("{}/register", server.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", "a long enough pass"),
            ("password_again", "a long enough pass"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}

#[tokio::test]
async fn starttls_and_smtps_deliver_to_a_trusted_server_only() {
    // The test's own HTTP client needs rustls's provider (no server runs in
    // this process to install it).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let certs = certificates().await;
    for (name, protection, url) in [
        (
            "STARTTLS",
            Protection::StartTls(&certs.cert(), &certs.key()),
            "smtp://localhost:{port}?tls=starttls",
        ),
        (
            "SMTPS",
            Protection::Implicit(&certs.cert(), &certs.key()),
            "smtps://localhost:{port}",
        ),
    ] {
        let sink = SmtpSink::start_tls(protection).await;
        let url = url.replace("{port}", &sink.port.to_string());

        let trusting = serve(&url, Some(&certs.ca())).await;
        sign_up(&trusting, "new@example.net").await;
        let mail = sink.wait_for("new@example.net", 1).await.remove(0);
        assert!(mail.tls, "{name}: the message came over TLS");
        assert!(!link(
            &mail.text,
            &format!("{}/register/confirm?token=", trusting.base)
        )
        .is_empty());

        let doubting = serve(&url, None).await;
        sign_up(&doubting, "other@example.net").await;
        let mut error = None;
        for _ in 0..200 {
            let n = count_with(
                &doubting.database,
                "SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending' AND attempts >= 1
                   AND last_error LIKE '%certificate%'",
                &[],
            )
            .await;
            if n == 1 {
                error = Some(n);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            error,
            Some(1),
            "{name}: an untrusted certificate is refused"
        );
        assert!(sink.messages_to("other@example.net").is_empty(), "{name}");
        drop((trusting.child, doubting.child));
        sink.stop().await;
    }
    std::fs::remove_dir_all(&certs.dir).unwrap();
}
