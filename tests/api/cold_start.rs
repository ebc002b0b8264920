//! A first start: the server answers before its signing keys are made (an
//! RSA key takes a while), /readyz says so until they are in, requests that
//! sign wait for them, and a restart loads the stored keys.

use crate::helpers::*;
use gatehouse::config::Config;
use gatehouse::startup::Application;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The kids the server publishes.
async fn published_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = app.get("/jwks").await.json().await.unwrap();
    jwks["keys"]
        .as_array()
        .expect("a key list")
        .iter()
        .map(|key| key["kid"].as_str().expect("a kid").to_string())
        .collect()
}

#[tokio::test]
async fn readiness_waits_for_the_signing_keys() {
    let app = spawn_cold_app().await;
    let started = Instant::now();
    let body = loop {
        let answer = app.get("/readyz").await;
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        if status == StatusCode::OK {
            break body;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["status"], "starting", "{body}");
        assert_eq!(body["database"], "ok", "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never ready: {body}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let loaded = app
        .provider
        .loaded_keys()
        .expect("ready only once the keys are in");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["signing_key"], loaded.signing.kid.as_str());
    assert!(published_kids(&app)
        .await
        .contains(&loaded.signing.kid.to_string()));
}

#[tokio::test]
async fn the_first_tokens_after_a_start_verify_against_the_jwks() {
    let app = spawn_cold_app().await;
    let request = AuthRequest::confidential();
    let tokens = app.tokens_for(&request, "alice", ALICE_PASSWORD).await;
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let claims = verify_with_jwks(&app, id_token, CONFIDENTIAL).await;
    assert_eq!(claims["nonce"], request.nonce.as_str());
    let kid = jsonwebtoken::decode_header(id_token).unwrap().kid.unwrap();
    assert_eq!(kid, app.provider.keys().await.signing.kid);
}

#[tokio::test]
async fn a_restart_signs_with_the_stored_key() {
    let app = spawn_cold_app().await;
    let first = app.provider.keys().await.signing.kid.clone();
    let config = Config {
        database_url: app.database_url.clone(),
        listen: "127.0.0.1:0".into(),
        seed: Some(app.seed_path.clone()),
        ..Config::default()
    };
    let second = Application::build(config).await.expect("restarts");
    let address = format!("http://127.0.0.1:{}", second.port());
    let provider = second.provider();
    tokio::spawn(second.run_until_stopped());
    assert_eq!(provider.keys().await.signing.kid, first);
    let ready = json_at(&app, &format!("{address}/readyz")).await;
    assert_eq!(ready["signing_key"], first.as_str());
    let jwks = json_at(&app, &format!("{address}/jwks")).await;
    assert!(jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|key| key["kid"] == first.as_str()));
}

#[tokio::test]
async fn a_server_that_cannot_store_its_keys_stops_with_the_error() {
    let database_url = fresh_database().await;
    let store = gatehouse::store::Store::connect(&database_url)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    execute(&database_url, "DROP TABLE signing_keys").await;
    let config = Config {
        database_url,
        listen: "127.0.0.1:0".into(),
        ..Config::default()
    };
    let app = Application::build(config)
        .await
        .expect("the server starts answering before its keys are made");
    let provider = app.provider();
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.run_until_stopped())
        .await
        .expect("the server stops rather than serve without keys");
    let error = stopped.expect_err("the failure is reported");
    assert!(
        error.to_string().contains("cannot load the signing keys"),
        "{error}"
    );
    assert!(provider.loaded_keys().is_none());
}

/// The JSON answer of a GET to `url` (a server other than `app`'s own).
async fn json_at(app: &TestApp, url: &str) -> Value {
    app.api.get(url).send().await.unwrap().json().await.unwrap()
}
