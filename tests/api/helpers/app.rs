//! Spawning the app: a real Gatehouse on port 0 with a fresh database, and
//! the `gatehouse` command run against a test database.

use super::http::client_builder;
use super::seed::write_seed;
use gatehouse::clock::ManualClock;
use gatehouse::config::Config;
use gatehouse::startup::Application;
use reqwest::Client;
use std::sync::Arc;

/// A running server and a browser-like client for it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// Follows no redirects and keeps cookies, like a browser tab we drive.
    pub browser: Client,
    /// A plain client for back-channel calls (token, userinfo).
    pub api: Client,
    pub clock: ManualClock,
    pub provider: Arc<gatehouse::state::Provider>,
    pub metrics_port: Option<u16>,
    pub database_url: String,
    pub seed_path: std::path::PathBuf,
}

/// Which engine this run uses.
pub fn postgres_server() -> Option<String> {
    std::env::var("GATEHOUSE_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A fresh, empty database URL: a new Postgres database, or a SQLite file
/// in a new temporary folder.
pub async fn fresh_database() -> String {
    let name = format!("gh_test_{}", uuid::Uuid::new_v4().simple());
    match postgres_server() {
        Some(server) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&server)
                .await
                .expect("GATEHOUSE_TEST_POSTGRES is set but Postgres is unreachable");
            sqlx::Executor::execute(&mut conn, format!(r#"CREATE DATABASE "{name}""#).as_str())
                .await
                .expect("cannot create a test database");
            let mut url = url::Url::parse(&server).expect("GATEHOUSE_TEST_POSTGRES must be a URL");
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
        None => {
            let dir = std::env::temp_dir().join(&name);
            format!("sqlite://{}/gatehouse.db", dir.display())
        }
    }
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// An app whose issuer is `http://localhost:PORT`: a domain name, so that
/// it is a WebAuthn relying party (passkeys are off on an IP address).
pub async fn spawn_app_on_localhost() -> TestApp {
    spawn_app_with(|config| config.issuer = "http://localhost:8080".into()).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    start_app(adjust, true).await
}

/// An app met the moment it starts serving, on a fresh database: its
/// signing keys may still be in the making.
pub async fn spawn_cold_app() -> TestApp {
    start_app(|_| {}, false).await
}

async fn start_app(adjust: impl FnOnce(&mut Config), warm: bool) -> TestApp {
    gatehouse::telemetry::init_for_tests();
    let database_url = fresh_database().await;
    let seed_path = write_seed();
    let mut config = Config {
        database_url: database_url.clone(),
        listen: "127.0.0.1:0".into(),
        // The default issuer's host is `localhost`; tests name the address
        // they connect to unless they ask for a domain (passkeys need one).
        issuer: "http://127.0.0.1:8080".into(),
        seed: Some(seed_path.clone()),
        ..Config::default()
    };
    adjust(&mut config);
    let named_issuer = config.issuer.clone();
    let clock = ManualClock::default();
    // The issuer needs the port, which is known only after binding: pick a
    // free port, then build with the issuer that names it. Another test may
    // take the port in between; then pick again.
    let mut attempts = 0;
    let (app, port) = loop {
        let port = free_port();
        config.listen = format!("127.0.0.1:{port}");
        // A test that names its own issuer host (an https one behind a
        // proxy, say) keeps it; the default host, or `localhost` for a
        // domain name (which WebAuthn needs), gets the real port.
        for host in ["127.0.0.1", "localhost"] {
            if let Some(prefix) = named_issuer.strip_prefix(&format!("http://{host}:8080")) {
                config.issuer = format!("http://{host}:{port}{prefix}");
            }
        }
        match Application::build_with_clock(config.clone(), Arc::new(clock.clone())).await {
            Ok(app) => break (app, port),
            Err(e) if attempts < 3 && format!("{e:#}").contains("cannot listen") => {
                attempts += 1;
            }
            Err(e) => panic!("the application builds: {e:#}"),
        }
    };
    let provider = app.provider();
    let metrics_port = app.metrics_port();
    tokio::spawn(app.run_until_stopped());
    // Tests meet the server as it runs once warm: with the next signing key
    // published (a first start makes it in the background) and its read
    // cache in use.
    let started = std::time::Instant::now();
    while warm && provider.keys().await.jwks_json.matches(r#""kid""#).count() < 2 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the next signing key was never published"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    if warm && config.cache_sync_ms > 0 {
        let started = std::time::Instant::now();
        while !provider.store.read_cache_stats().active {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "the read cache never came into use"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    let browser = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let api = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address: config.issuer.clone(),
        port,
        browser,
        api,
        clock,
        provider,
        metrics_port,
        database_url,
        seed_path,
    }
}

/// Runs the `gatehouse` command on `database` and waits for it without
/// blocking the test's runtime: a server spawned in this test keeps serving
/// (and finishing its database transactions) meanwhile.
pub async fn gatehouse_cli(
    database: &str,
    args: &[&str],
    envs: &[(&str, &str)],
    stdin: Option<&str>,
) -> std::process::Output {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATABASE_URL", database)
        .env("RUST_LOG", "warn")
        .envs(envs.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    child.wait_with_output().await.unwrap()
}
