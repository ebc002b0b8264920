//! Signing key rotation: the next key is published before it signs, retired
//! keys stay in the JWKS until their tokens have expired.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = app.get("/jwks").await.json().await.unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

async fn cli(app: &TestApp, args: &[&str]) -> String {
    let output = gatehouse_cli(&app.database_url, args, &[], None).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn rotate_with_the_cli_then_prune_retired_keys() {
    let app = spawn_app().await;
    let old_kid = app.provider.keys().signing.kid.clone();
    let before = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;

    let rotated_at = gatehouse::clock::unix_now();
    let printed = cli(&app, &["keys", "rotate"]).await;
    assert!(printed.contains(&format!("Retired {old_kid}")), "{printed}");
    gatehouse::key_lifecycle::reload_keys(&app.provider).await;

    let kids = jwks_kids(&app).await;
    assert_eq!(
        kids.len(),
        3,
        "current, next and the retired key are published"
    );
    assert!(kids.contains(&old_kid));
    let listing = cli(&app, &["keys", "list"]).await;
    assert!(
        listing.contains("current") && listing.contains("next") && listing.contains("retired"),
        "{listing}"
    );

    // Old tokens still verify; new ones are signed with the new key.
    assert_eq!(
        app.userinfo(before["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    let after: Value = app
        .refresh(before["refresh_token"].as_str().unwrap(), WEBAPP)
        .await
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(after["id_token"].as_str().unwrap()).unwrap();
    assert_ne!(header.kid.as_deref(), Some(old_kid.as_str()));
    verify_with_jwks(&app, after["id_token"].as_str().unwrap(), CONFIDENTIAL).await;

    // A second rotation promotes the key that was already published.
    let next_kid = kids
        .iter()
        .find(|k| **k != old_kid && **k != header.kid.clone().unwrap())
        .unwrap()
        .clone();
    let printed = cli(&app, &["keys", "rotate"]).await;
    assert!(
        printed.contains(&format!("Signing with {next_kid}")),
        "{printed}"
    );

    // Once every token the old key signed has expired, it leaves the JWKS.
    // Retired keys stay for the token lifetime plus the replicas' reload
    // margin (120 s) after they were retired...
    let kept = gatehouse::key_lifecycle::prune(&app.provider.store, 3600, rotated_at + 3600 + 119)
        .await
        .unwrap();
    assert_eq!(kept, 0);
    // ...and then leave.
    let later = gatehouse::clock::unix_now() + 3600 + 121;
    gatehouse::key_lifecycle::prune(&app.provider.store, 3600, later)
        .await
        .unwrap();
    gatehouse::key_lifecycle::reload_keys(&app.provider).await;
    let kids = jwks_kids(&app).await;
    assert!(!kids.contains(&old_kid), "{kids:?}");
}

#[tokio::test]
async fn es256_deployments_sign_with_p256_and_say_so() {
    let app = spawn_app_with(|c| c.signing_alg = "ES256".into()).await;
    let meta: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
    let jwks: Value = app.get("/jwks").await.json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    assert_eq!(jwks["keys"][0]["crv"], "P-256");

    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(id_token).unwrap().alg,
        jsonwebtoken::Algorithm::ES256
    );
    verify_with_jwks(&app, id_token, CONFIDENTIAL).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.userinfo(access).await.status(), StatusCode::OK);
    assert_eq!(app.introspect(access, WEBAPP).await["active"], true);
}

#[tokio::test]
async fn switching_algorithm_rotates_and_keeps_the_old_key_published() {
    let app = spawn_app().await;
    let rsa_kid = app.provider.keys().signing.kid.clone();
    let before = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let output = gatehouse_cli(
        &app.database_url,
        &["keys", "list"],
        &[("GATEHOUSE_SIGNING_ALG", "ES256")],
        None,
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    gatehouse::key_lifecycle::reload_keys(&app.provider).await;
    let jwks: Value = app.get("/jwks").await.json().await.unwrap();
    let types: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"EC") && types.contains(&"RSA"), "{types:?}");
    assert!(jwks_kids(&app).await.contains(&rsa_kid));
    assert_eq!(
        app.userinfo(before["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
}
