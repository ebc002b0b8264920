//! What guards a sign-in: failure counters count every failure, even
//! parallel ones, and a block only ever moves later; a device cookie is
//! trusted for its own accounts until it expires; a recovery code works
//! exactly once, for its own user.

use super::*;

#[tokio::test]
async fn failures_are_counted_per_account_and_source() {
    let (store, _url) = fresh_store().await;
    for expected in 1..=3 {
        let n = store.add_sign_in_failure("acct", "*", NOW).await.unwrap();
        assert_eq!(n, expected);
    }
    assert_eq!(
        store
            .add_sign_in_failure("acct", "192.0.2.1", NOW)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.add_sign_in_failure("other", "*", NOW).await.unwrap(),
        1
    );

    store.clear_sign_in_failures("acct").await.unwrap();
    assert_eq!(
        store.add_sign_in_failure("acct", "*", NOW).await.unwrap(),
        1
    );
    assert_eq!(
        store.add_sign_in_failure("other", "*", NOW).await.unwrap(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_failures_are_each_counted() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let results = race((&store, &other), |store, _| async move {
        store.add_sign_in_failure("acct", "*", NOW).await
    })
    .await;
    let mut counts = Vec::new();
    for result in results {
        counts.push(result.expect("no failure is lost to an error"));
    }
    counts.sort();
    let expected: Vec<i64> = (1..=RACERS as i64).collect();
    assert_eq!(counts, expected);
}

#[tokio::test]
async fn a_block_only_moves_later_and_the_latest_source_counts() {
    let (store, _url) = fresh_store().await;
    assert_eq!(
        store
            .sign_in_blocked_until("acct", &["*", "ip"])
            .await
            .unwrap(),
        0
    );
    store.add_sign_in_failure("acct", "*", NOW).await.unwrap();
    store.add_sign_in_failure("acct", "ip", NOW).await.unwrap();
    store.block_sign_in("acct", "*", NOW + 60).await.unwrap();
    store.block_sign_in("acct", "*", NOW + 30).await.unwrap();
    store.block_sign_in("acct", "ip", NOW + 90).await.unwrap();
    assert_eq!(
        store.sign_in_blocked_until("acct", &["*"]).await.unwrap(),
        NOW + 60
    );
    assert_eq!(
        store
            .sign_in_blocked_until("acct", &["*", "ip"])
            .await
            .unwrap(),
        NOW + 90
    );
    assert_eq!(
        store
            .sign_in_blocked_until("acct", &["elsewhere"])
            .await
            .unwrap(),
        0
    );
    store.clear_sign_in_failures("acct").await.unwrap();
    assert_eq!(
        store
            .sign_in_blocked_until("acct", &["*", "ip"])
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_recovery_code_works_once_and_for_its_own_user() {
    let (store, _url) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let codes = vec![hash(), hash(), hash()];
    store
        .replace_recovery_codes(&alice, &codes, NOW)
        .await
        .unwrap();
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 3);

    assert!(
        !store.use_recovery_code(&bob, &codes[0], NOW).await.unwrap(),
        "not bob's"
    );
    assert!(store
        .use_recovery_code(&alice, &codes[0], NOW)
        .await
        .unwrap());
    assert!(
        !store
            .use_recovery_code(&alice, &codes[0], NOW + 1)
            .await
            .unwrap(),
        "used"
    );
    assert!(
        !store.use_recovery_code(&alice, &hash(), NOW).await.unwrap(),
        "unknown"
    );
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 2);

    // A new set replaces the old one, used or not.
    let fresh = vec![hash()];
    store
        .replace_recovery_codes(&alice, &fresh, NOW)
        .await
        .unwrap();
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 1);
    assert!(!store
        .use_recovery_code(&alice, &codes[1], NOW)
        .await
        .unwrap());
    assert!(store
        .use_recovery_code(&alice, &fresh[0], NOW)
        .await
        .unwrap());
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_parallel_uses_of_one_recovery_code_exactly_one_succeeds() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let alice = user(&store, "alice").await;
    let code = hash();
    store
        .replace_recovery_codes(&alice, &[code.clone(), hash()], NOW)
        .await
        .unwrap();
    let results = race((&store, &other), |store, _| {
        let (alice, code) = (alice.clone(), code.clone());
        async move { store.use_recovery_code(&alice, &code, NOW).await }
    })
    .await;
    let mut accepted = 0;
    for result in results {
        if result.expect("no use fails") {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1);
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 1);
}

#[tokio::test]
async fn some_sources_clear_alone_and_the_latest_block_counts() {
    let (store, _url) = fresh_store().await;
    assert_eq!(store.latest_sign_in_block("acct").await.unwrap(), 0);
    for source in ["*", "ip", "device:x"] {
        store
            .add_sign_in_failure("acct", source, NOW)
            .await
            .unwrap();
    }
    store.block_sign_in("acct", "*", NOW + 60).await.unwrap();
    store
        .block_sign_in("acct", "device:x", NOW + 90)
        .await
        .unwrap();
    assert_eq!(store.latest_sign_in_block("acct").await.unwrap(), NOW + 90);
    assert_eq!(store.latest_sign_in_block("other").await.unwrap(), 0);

    store
        .clear_sign_in_sources("acct", &["ip", "*"])
        .await
        .unwrap();
    assert_eq!(
        store.sign_in_blocked_until("acct", &["*"]).await.unwrap(),
        0
    );
    assert_eq!(
        store.add_sign_in_failure("acct", "ip", NOW).await.unwrap(),
        1,
        "cleared"
    );
    assert_eq!(
        store
            .add_sign_in_failure("acct", "device:x", NOW)
            .await
            .unwrap(),
        2,
        "kept"
    );
}

#[tokio::test]
async fn a_device_is_trusted_for_its_accounts_until_it_expires() {
    let (store, url) = fresh_store().await;
    let first = hash();
    store
        .trust_device(&first, "alice", None, NOW, NOW + 100)
        .await
        .unwrap();
    assert!(store.device_trusted(&first, "alice", NOW).await.unwrap());
    assert!(!store.device_trusted(&first, "bob", NOW).await.unwrap());
    assert!(!store.device_trusted(&hash(), "alice", NOW).await.unwrap());
    assert!(
        !store
            .device_trusted(&first, "alice", NOW + 100)
            .await
            .unwrap(),
        "expired"
    );

    // A new value for the same browser takes over the accounts of the old
    // one that are still live, and adds its own.
    let second = hash();
    store
        .trust_device(&second, "bob", Some(&first), NOW + 10, NOW + 200)
        .await
        .unwrap();
    assert!(!store
        .device_trusted(&first, "alice", NOW + 10)
        .await
        .unwrap());
    assert!(store
        .device_trusted(&second, "alice", NOW + 10)
        .await
        .unwrap());
    assert!(store
        .device_trusted(&second, "bob", NOW + 10)
        .await
        .unwrap());
    assert!(
        !store
            .device_trusted(&second, "alice", NOW + 150)
            .await
            .unwrap(),
        "alice's trust kept its own end"
    );
    // Signing in again renews the account's trust.
    let third = hash();
    store
        .trust_device(&third, "alice", Some(&second), NOW + 20, NOW + 300)
        .await
        .unwrap();
    assert!(store
        .device_trusted(&third, "alice", NOW + 250)
        .await
        .unwrap());
    assert!(store
        .device_trusted(&third, "bob", NOW + 150)
        .await
        .unwrap());
    // An unknown previous value carries nothing over.
    let elsewhere = hash();
    store
        .trust_device(&elsewhere, "carol", Some(&hash()), NOW, NOW + 100)
        .await
        .unwrap();
    assert!(!store
        .device_trusted(&elsewhere, "alice", NOW)
        .await
        .unwrap());

    assert_eq!(store.forget_devices("alice").await.unwrap(), 1);
    assert!(!store
        .device_trusted(&third, "alice", NOW + 30)
        .await
        .unwrap());
    assert!(store.device_trusted(&third, "bob", NOW + 30).await.unwrap());

    // Pruning removes what expired.
    store.prune_expired(NOW + 201).await.unwrap();
    assert_eq!(
        crate::helpers::count(&url, "SELECT COUNT(*) AS n FROM device_cookies").await,
        0
    );
}
