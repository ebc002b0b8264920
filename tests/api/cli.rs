//! The command line: `seed` and `migrate` work on the database without
//! serving; `serve` takes its seed file from GATEHOUSE_SEED too.

use crate::helpers::*;
use reqwest::StatusCode;

fn gatehouse(database: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATABASE_URL", database)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test]
async fn seed_and_migrate_without_serving() {
    let database = fresh_database().await;
    let seed = write_seed();
    let migrated = gatehouse(&database, &["migrate"]);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    for _ in 0..2 {
        let seeded = gatehouse(&database, &["seed", seed.to_str().unwrap()]);
        assert!(
            seeded.status.success(),
            "{}",
            String::from_utf8_lossy(&seeded.stderr)
        );
        assert!(String::from_utf8_lossy(&seeded.stdout).contains("2 user(s)"));
    }
    assert_eq!(
        count(&database, "SELECT COUNT(*) AS n FROM users").await,
        2,
        "seeding twice never duplicates"
    );

    let missing = gatehouse(&database, &["seed", "/nonexistent/seed.toml"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read seed file"));
    let bad = std::env::temp_dir().join(format!(
        "gh-bad-seed-{}.toml",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(
        &bad,
        "[[clients]]\nclient_id = \"x\"\nredirect_uris = [\"http://evil.example/cb\"]\n",
    )
    .unwrap();
    let refused = gatehouse(&database, &["seed", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("https"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[tokio::test]
async fn serve_reads_the_seed_from_the_environment() {
    let database = fresh_database().await;
    let seed = write_seed();
    let port = free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", &database)
        .env("GATEHOUSE_SEED", &seed)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ISSUER", format!("http://127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = client_builder().build().unwrap();
    let mut ready = false;
    for _ in 0..300 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            ready = r.status() == StatusCode::OK;
            if ready {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(ready);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains(&format!("open http://127.0.0.1:{port}/ in a browser")),
        "{printed}"
    );
    // No admin in the seed: the first run created one and said so once.
    assert!(
        printed.contains("the user \"admin\" was created with the password"),
        "{printed}"
    );
    assert_eq!(count(&database, "SELECT COUNT(*) AS n FROM users").await, 3);
    assert_eq!(
        count(
            &database,
            "SELECT COUNT(*) AS n FROM users WHERE username = 'admin' AND is_admin = 1
             AND must_change_password = 1"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_server_that_stops_leaves_no_cache_row_to_wait_for() {
    let database = fresh_database().await;
    let port = free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", &database)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ISSUER", format!("http://127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Running, it holds a row that writers elsewhere (the CLI, replicas)
    // wait on until it has acted on their changes.
    let client = client_builder().build().unwrap();
    let readyz = format!("http://127.0.0.1:{port}/readyz");
    let rows = "SELECT COUNT(*) AS n FROM cache_replicas";
    let mut registered = false;
    for _ in 0..200 {
        let ready = client
            .get(&readyz)
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK);
        if ready && count(&database, rows).await == 1 {
            registered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(registered, "the server never registered for cache sync");
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(child.wait().unwrap().success());
    assert_eq!(
        count(&database, rows).await,
        0,
        "a graceful stop removes the row, so a restart's writes do not wait for it"
    );
}
