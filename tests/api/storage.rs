//! What lives in the database: keys persist across restarts, the seed is
//! idempotent, secrets are stored hashed, `sqlite::memory:` works.

use crate::helpers::*;
use gatehouse::config::Config;
use gatehouse::startup::Application;
use sqlx::Row;

#[tokio::test]
async fn keys_persist_and_the_seed_is_idempotent_across_restarts() {
    let app = spawn_app().await;
    let signing_before = app.provider.keys().await.signing.kid.clone();
    let config = Config {
        database_url: app.database_url.clone(),
        listen: "127.0.0.1:0".into(),
        seed: Some(app.seed_path.clone()),
        ..Config::default()
    };
    let second = Application::build(config)
        .await
        .expect("restarts on the same database");
    let keys = second.provider().keys().await;
    assert_eq!(keys.signing.kid, signing_before);
    let users = count(&app.database_url, "SELECT COUNT(*) AS n FROM users").await;
    assert_eq!(users, 2);
    let clients = count(&app.database_url, "SELECT COUNT(*) AS n FROM clients").await;
    assert_eq!(clients, 7);
}

#[tokio::test]
async fn secrets_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    let mut request = AuthRequest::confidential();
    request.scope = "openid offline_access".into();
    let params = app
        .authorize_through(&request, "alice", ALICE_PASSWORD)
        .await;
    let code = param(&params, "code").unwrap();
    let tokens: serde_json::Value = app.redeem(&request, &code).await.json().await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let secret = rows(
        &app.database_url,
        "SELECT secret_hash FROM clients WHERE client_id = 'webapp'",
    )
    .await;
    let stored: String = secret[0].try_get("secret_hash").unwrap();
    assert_eq!(stored, gatehouse::crypto::token_hash(CONFIDENTIAL_SECRET));
    let codes = rows(
        &app.database_url,
        "SELECT code_hash FROM authorization_codes",
    )
    .await;
    let stored: String = codes[0].try_get("code_hash").unwrap();
    assert_eq!(stored, gatehouse::crypto::token_hash(&code));
    let refresh_rows = rows(&app.database_url, "SELECT token_hash FROM refresh_tokens").await;
    let stored: String = refresh_rows[0].try_get("token_hash").unwrap();
    assert_eq!(stored, gatehouse::crypto::token_hash(refresh));
    let users = rows(
        &app.database_url,
        "SELECT password_hash FROM users WHERE username = 'alice'",
    )
    .await;
    let stored: String = users[0].try_get("password_hash").unwrap();
    assert!(stored.starts_with("$argon2id$"));
}

#[tokio::test]
async fn in_memory_sqlite_serves_a_whole_flow() {
    if postgres_server().is_some() {
        return; // This case is about the embedded engine only.
    }
    let app = spawn_app_with(|c| c.database_url = "sqlite::memory:".into()).await;
    let tokens = app
        .tokens_for(&AuthRequest::confidential(), "alice", ALICE_PASSWORD)
        .await;
    assert!(tokens["id_token"].is_string());
}

#[tokio::test]
async fn pruning_never_makes_a_rotated_out_refresh_token_usable_again() {
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let rotated = app.refresh(first, WEBAPP).await;
    assert_eq!(rotated.status(), reqwest::StatusCode::OK);
    // The successor ends before the token it replaced, as after a client's
    // idle lifetime was shortened; pruning runs past its end.
    let now = app.provider.now();
    let shortened = execute(
        &app.database_url,
        &format!(
            "UPDATE refresh_tokens SET expires_at = {} WHERE rotated_from IS NOT NULL",
            now - 10
        ),
    )
    .await;
    assert_eq!(shortened, 1, "one successor");
    app.provider.store.prune_expired(now).await.unwrap();
    let replayed = app.refresh(first, WEBAPP).await;
    assert_eq!(
        replayed.status(),
        reqwest::StatusCode::BAD_REQUEST,
        "the first token was rotated out and stays so"
    );
}
