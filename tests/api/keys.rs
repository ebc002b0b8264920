//! Signing key rotation: the next key is published before it signs, retired
//! keys stay in the JWKS until their tokens have expired. Each algorithm
//! (RS256, ES256, EdDSA) has a lifecycle of its own.

use crate::helpers::*;
use gatehouse::key_lifecycle::{self, Rotation};
use gatehouse::model::KeyRecord;
use reqwest::StatusCode;
use serde_json::{json, Value};

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
    let old_kid = app.provider.keys().await.signing.kid.clone();
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
    let rsa_kid = app.provider.keys().await.signing.kid.clone();
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

/// RS256 (the primary, `signing_alg`), then ES256 and EdDSA beside it.
fn three_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into(), "EdDSA".into()]
}

/// A server whose keys are kept for all three algorithms, as the server
/// does once something asks for them: current keys made, next keys
/// published, the server reloaded.
async fn spawn_app_with_three_algorithms() -> TestApp {
    let app = spawn_app().await;
    let store = &app.provider.store;
    let now = gatehouse::clock::unix_now();
    key_lifecycle::load_or_create(store, &three_algorithms(), now)
        .await
        .unwrap();
    assert!(key_lifecycle::publish_next(store, &three_algorithms(), now)
        .await
        .unwrap());
    key_lifecycle::reload_keys(&app.provider).await;
    app
}

/// The stored key of `alg` in `state` (`current` or `next`).
async fn stored_key(app: &TestApp, alg: &str, state: &str) -> KeyRecord {
    let keys = app.provider.store.signing_keys().await.unwrap();
    let mut found = keys
        .into_iter()
        .filter(|k| k.alg == alg && k.state == state);
    let key = found
        .next()
        .unwrap_or_else(|| panic!("no {state} {alg} key"));
    assert!(found.next().is_none(), "one {state} {alg} key");
    key
}

async fn jwks(app: &TestApp) -> Vec<Value> {
    let jwks: Value = app.get("/jwks").await.json().await.unwrap();
    jwks["keys"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_algorithm_publishes_its_own_kind_of_key_and_signs_with_it() {
    let app = spawn_app_with_three_algorithms().await;
    let published = jwks(&app).await;
    assert_eq!(published.len(), 6, "a current and a next key each");
    let mut kids: Vec<&str> = published
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    kids.sort_unstable();
    kids.dedup();
    assert_eq!(kids.len(), 6, "distinct kids: {published:?}");
    for jwk in &published {
        assert_eq!(jwk["use"], "sig");
        assert!(jwk.get("d").is_none(), "no private half: {jwk}");
    }
    let kinds = |kty: &str, crv: Option<&str>, alg: &str| {
        published
            .iter()
            .filter(|k| k["kty"] == kty && k["alg"] == alg)
            .filter(|k| crv.is_none_or(|crv| k["crv"] == crv))
            .count()
    };
    assert_eq!(kinds("RSA", None, "RS256"), 2, "{published:?}");
    assert_eq!(kinds("EC", Some("P-256"), "ES256"), 2, "{published:?}");
    assert_eq!(kinds("OKP", Some("Ed25519"), "EdDSA"), 2, "{published:?}");

    // Each algorithm's current key signs for it; ID tokens keep the primary.
    let keys = app.provider.keys().await;
    for alg in three_algorithms() {
        let current = stored_key(&app, &alg, "current").await;
        let signer = keys.signer(&alg).unwrap();
        assert_eq!(signer.kid, current.kid);
        assert_eq!(signer.alg, alg);
    }
    assert_eq!(
        keys.signing.kid,
        stored_key(&app, "RS256", "current").await.kid
    );
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some(keys.signing.kid.as_str()));

    // A token each signer makes verifies through the JWKS, as a resource
    // server would check it, and through the server's own keys.
    let now = gatehouse::clock::unix_now();
    let claims = json!({
        "iss": app.address, "sub": "u1", "aud": "https://api.example",
        "exp": now + 600, "iat": now,
    });
    for (alg, expected) in [
        ("RS256", jsonwebtoken::Algorithm::RS256),
        ("ES256", jsonwebtoken::Algorithm::ES256),
        ("EdDSA", jsonwebtoken::Algorithm::EdDSA),
    ] {
        let signer = keys.signer(alg).unwrap();
        let token = gatehouse::crypto::jwt::sign(&signer, "at+jwt", &claims).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&token).unwrap().alg, expected);
        let checked = verify_with_jwks(&app, &token, "https://api.example").await;
        assert_eq!(checked["sub"], "u1");
        let expect = gatehouse::crypto::jwt::Expect {
            typ: "at+jwt",
            issuer: &app.address,
            audience: Some("https://api.example"),
            allow_expired: false,
            now,
        };
        let checked: Value = gatehouse::crypto::jwt::verify(&keys, &token, &expect).unwrap();
        assert_eq!(checked["sub"], "u1");
    }
}

#[tokio::test]
async fn a_rotation_rotates_every_algorithm_and_retires_those_dropped() {
    let app = spawn_app_with_three_algorithms().await;
    let store = &app.provider.store;
    let mut before = Vec::new();
    for alg in three_algorithms() {
        let current = stored_key(&app, &alg, "current").await.kid;
        let next = stored_key(&app, &alg, "next").await.kid;
        before.push((alg, current, next));
    }

    let now = gatehouse::clock::unix_now();
    let rotation: Rotation = key_lifecycle::rotate(store, &three_algorithms(), now)
        .await
        .unwrap();
    let algs: Vec<&str> = rotation.algorithms.iter().map(|r| r.alg.as_str()).collect();
    assert_eq!(algs, ["RS256", "ES256", "EdDSA"]);
    for ((alg, old_current, old_next), rotated) in before.iter().zip(&rotation.algorithms) {
        assert_eq!(
            &rotated.current, old_next,
            "{alg}: the published next key signs"
        );
        assert!(rotation.retired.contains(old_current), "{alg}");
        assert_eq!(stored_key(&app, alg, "current").await.kid, rotated.current);
        assert_eq!(stored_key(&app, alg, "next").await.kid, rotated.next);
        assert!(!before
            .iter()
            .any(|(_, c, n)| *c == rotated.next || *n == rotated.next));
    }
    assert_eq!(rotation.retired.len(), 3);
    // The primary's keys are reported as before.
    assert_eq!(rotation.current, rotation.algorithms[0].current);
    assert_eq!(rotation.next, rotation.algorithms[0].next);

    key_lifecycle::reload_keys(&app.provider).await;
    let keys = app.provider.keys().await;
    for rotated in &rotation.algorithms {
        assert_eq!(keys.signer(&rotated.alg).unwrap().kid, rotated.current);
    }
    assert_eq!(keys.signing.kid, rotation.current);
    let kids = jwks_kids(&app).await;
    assert_eq!(kids.len(), 9, "current, next and retired of each");
    for (_, old_current, _) in &before {
        assert!(kids.contains(old_current), "retired keys stay published");
    }

    // Rotating without EdDSA retires its keys: published, never signing.
    let eddsa_current = stored_key(&app, "EdDSA", "current").await.kid;
    let eddsa_next = stored_key(&app, "EdDSA", "next").await.kid;
    let two = vec!["RS256".to_string(), "ES256".to_string()];
    let rotation = key_lifecycle::rotate(store, &two, now + 10).await.unwrap();
    assert_eq!(rotation.algorithms.len(), 2);
    assert!(rotation.retired.contains(&eddsa_current));
    assert!(rotation.retired.contains(&eddsa_next));
    key_lifecycle::reload_keys(&app.provider).await;
    assert!(app.provider.keys().await.signer("EdDSA").is_none());
    let kids = jwks_kids(&app).await;
    assert!(kids.contains(&eddsa_current) && kids.contains(&eddsa_next));
}

#[tokio::test]
async fn keys_list_prints_every_algorithm_and_retires_those_not_in_use() {
    let app = spawn_app_with_three_algorithms().await;
    let keys = app.provider.store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 6);

    // The command line keeps keys for the algorithms in use, here the
    // primary alone: the others' keys retire, listed and still published.
    let listing = cli(&app, &["keys", "list"]).await;
    for key in &keys {
        let line = listing
            .lines()
            .find(|line| line.starts_with(&key.kid))
            .unwrap_or_else(|| panic!("{} is listed: {listing}", key.kid));
        assert!(line.contains(&key.alg), "{line}");
        let state = if key.alg == "RS256" {
            &key.state
        } else {
            "retired"
        };
        assert!(line.contains(state), "{line}");
    }
    key_lifecycle::reload_keys(&app.provider).await;
    let held = app.provider.keys().await;
    assert!(held.signer("ES256").is_none() && held.signer("EdDSA").is_none());
    assert_eq!(held.signers().len(), 1);
    assert_eq!(jwks_kids(&app).await.len(), 6);
}
