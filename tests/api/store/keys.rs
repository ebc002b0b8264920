//! Signing keys: a kid is stored once; at most one key is `current` and at
//! most one `next`, so replicas starting together cannot each make their
//! own; retiring stamps the time, and only keys retired long enough ago are
//! pruned.

use super::*;
use gatehouse::model::KeyRecord;

fn key(kid: &str, state: &str, created_at: i64) -> KeyRecord {
    KeyRecord {
        kid: kid.into(),
        alg: "RS256".into(),
        private_key: format!("private-{kid}"),
        public_jwk: format!(r#"{{"kid":"{kid}"}}"#),
        state: state.into(),
        created_at,
        retired_at: None,
    }
}

/// (kid, state, retired_at) of every stored key, newest first.
async fn stored(store: &Store) -> Vec<(String, String, Option<i64>)> {
    store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.state, k.retired_at))
        .collect()
}

fn entry(kid: &str, state: &str, retired_at: Option<i64>) -> (String, String, Option<i64>) {
    (kid.into(), state.into(), retired_at)
}

#[tokio::test]
async fn a_key_reads_back_as_stored() {
    let (store, _url) = fresh_store().await;
    assert!(store
        .insert_signing_key(&key("k1", "current", NOW))
        .await
        .unwrap());
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(k.kid, "k1");
    assert_eq!(k.alg, "RS256");
    assert_eq!(k.private_key, "private-k1");
    assert_eq!(k.public_jwk, r#"{"kid":"k1"}"#);
    assert_eq!(k.state, "current");
    assert_eq!(k.created_at, NOW);
    assert_eq!(k.retired_at, None);
}

#[tokio::test]
async fn one_key_per_kid_and_one_current_and_one_next() {
    let (store, _url) = fresh_store().await;
    assert!(store
        .insert_signing_key(&key("k1", "current", NOW))
        .await
        .unwrap());
    assert!(
        !store
            .insert_signing_key(&key("k1", "next", NOW))
            .await
            .unwrap(),
        "same kid"
    );
    assert!(!store
        .insert_signing_key(&key("k2", "current", NOW))
        .await
        .unwrap());
    assert!(store
        .insert_signing_key(&key("k3", "next", NOW + 1))
        .await
        .unwrap());
    assert!(!store
        .insert_signing_key(&key("k4", "next", NOW + 2))
        .await
        .unwrap());
    assert_eq!(
        stored(&store).await,
        vec![entry("k3", "next", None), entry("k1", "current", None)]
    );
}

#[tokio::test]
async fn rotation_retires_with_a_time_and_pruning_takes_only_old_retired_keys() {
    let (store, _url) = fresh_store().await;
    assert!(store
        .insert_signing_key(&key("k1", "current", NOW))
        .await
        .unwrap());
    assert!(store
        .insert_signing_key(&key("k2", "next", NOW + 1))
        .await
        .unwrap());
    // Rotate: the current key retires, the next one takes over.
    store
        .set_key_state("k1", "retired", NOW + 100)
        .await
        .unwrap();
    store
        .set_key_state("k2", "current", NOW + 100)
        .await
        .unwrap();
    assert!(store
        .insert_signing_key(&key("k3", "next", NOW + 2))
        .await
        .unwrap());
    assert_eq!(
        stored(&store).await,
        vec![
            entry("k3", "next", None),
            entry("k2", "current", None),
            entry("k1", "retired", Some(NOW + 100)),
        ]
    );

    assert_eq!(
        store.prune_retired_keys(NOW + 100).await.unwrap(),
        0,
        "not before"
    );
    assert_eq!(store.prune_retired_keys(NOW + 101).await.unwrap(), 1);
    assert_eq!(
        stored(&store).await,
        vec![entry("k3", "next", None), entry("k2", "current", None)]
    );
}
