//! Test mode's key cache, through the binary as a suite starts it: the
//! keys of one in-memory run are the next run's, the file is the user's
//! alone, a key in it that cannot sign is made again, and a test-mode
//! server on a database of its own neither reads nor writes it.

use crate::helpers::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A `gatehouse serve` in test mode, killed when dropped.
struct Server {
    _child: tokio::process::Child,
    issuer: String,
}

async fn start(cache_home: &Path, envs: &[(&str, &str)]) -> Server {
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["serve", "--test-mode"])
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ISSUER", &issuer)
        .env("XDG_CACHE_HOME", cache_home)
        .env("RUST_LOG", "warn")
        .envs(envs.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let server = Server {
        _child: child,
        issuer,
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = client
            .get(format!("{}/readyz", server.issuer))
            .send()
            .await
            .is_ok_and(|r| r.status() == reqwest::StatusCode::OK);
        if ready {
            return server;
        }
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn kids(server: &Server) -> BTreeSet<String> {
    let jwks: Value = reqwest::get(format!("{}/jwks", server.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

fn cache_file(home: &Path) -> PathBuf {
    home.join("gatehouse").join("test-mode-keys.json")
}

/// The cached keys once the file holds `n` of them.
async fn cached(home: &Path, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(cache_file(home)) {
            let keys: Vec<Value> = serde_json::from_str(&text).unwrap();
            if keys.len() == n {
                return keys;
            }
        }
        assert!(Instant::now() < deadline, "the cache never held {n} keys");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn fresh_home() -> PathBuf {
    let home =
        std::env::temp_dir().join(format!("gh_test_cache_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&home).unwrap();
    home
}

#[tokio::test]
async fn the_next_run_signs_with_the_keys_of_the_last() {
    use std::os::unix::fs::PermissionsExt;
    let home = fresh_home();
    let first = start(&home, &[]).await;
    // A current and a next key of each of the three algorithms.
    let saved = cached(&home, 6).await;
    let published = kids(&first).await;
    drop(first);
    let file_mode = std::fs::metadata(cache_file(&home))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(file_mode & 0o777, 0o600);
    let saved_kids: BTreeSet<String> = saved
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(saved_kids, published);

    let second = start(&home, &[]).await;
    assert_eq!(
        kids(&second).await,
        published,
        "the same keys, from the cache"
    );
    drop(second);

    // A key that cannot sign is left out and made again; the file is
    // written afresh without it.
    let mut broken = saved.clone();
    let lost = broken[0]["kid"].as_str().unwrap().to_string();
    broken[0]["private_key"] = Value::from("AAAA");
    std::fs::write(cache_file(&home), serde_json::to_vec(&broken).unwrap()).unwrap();
    let third = start(&home, &[]).await;
    // The next key, if it was the one lost, is made right after the start.
    let deadline = Instant::now() + Duration::from_secs(30);
    let now_published = loop {
        let now_published = kids(&third).await;
        if now_published.len() == 6 {
            break now_published;
        }
        assert!(Instant::now() < deadline, "{now_published:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!now_published.contains(&lost), "{now_published:?}");
    let rewritten = loop {
        let keys = cached(&home, 6).await;
        if keys.iter().all(|k| k["kid"] != lost.as_str()) {
            break keys;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(rewritten.len(), 6);
    drop(third);
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test]
async fn a_test_mode_server_on_its_own_database_leaves_the_cache_alone() {
    let home = fresh_home();
    let folder = std::env::temp_dir().join(format!("gh_test_{}", uuid::Uuid::new_v4().simple()));
    let database = format!("sqlite://{}/own.db", folder.display());
    let server = start(
        &home,
        &[
            ("GATEHOUSE_DATABASE_URL", database.as_str()),
            ("GATEHOUSE_TEST_MODE_ANY_DATABASE", "true"),
        ],
    )
    .await;
    // Past the moment a cache would have been written (right after the
    // next keys are published).
    let deadline = Instant::now() + Duration::from_secs(30);
    while kids(&server).await.len() < 6 {
        assert!(Instant::now() < deadline, "the next keys never came");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!cache_file(&home).exists(), "no keys left the database");
    drop(server);
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_dir_all(&folder);
}
