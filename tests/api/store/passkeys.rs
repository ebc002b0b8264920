//! Passkeys in the store: a user keeps one random user handle; a
//! credential id is registered once across all users; a user's passkeys
//! are theirs alone to rename and remove; a ceremony is taken once (of
//! twenty replicas racing for it, one gets it), never after it expired, and
//! goes with its user.

use super::*;
use gatehouse::model::CeremonyPurpose;
use gatehouse::store::NewPasskey;

fn new_passkey<'a>(id: &'a str, user_id: &'a str, credential_id: &'a str) -> NewPasskey<'a> {
    NewPasskey {
        id,
        user_id,
        credential_id,
        name: "Laptop",
        credential: r#"{"counter":1}"#,
        sign_count: 1,
        created_at: NOW,
    }
}

#[tokio::test]
async fn a_user_keeps_the_first_handle_given() {
    let (store, _) = fresh_store().await;
    let alice = user(&store, "alice").await;
    assert_eq!(store.passkey_handle(&alice).await.unwrap(), None);
    let first = store
        .ensure_passkey_handle(&alice, "handle-1")
        .await
        .unwrap();
    let again = store
        .ensure_passkey_handle(&alice, "handle-2")
        .await
        .unwrap();
    assert_eq!(first, "handle-1");
    assert_eq!(again, "handle-1", "a second registration keeps the handle");
    assert_eq!(
        store.passkey_handle(&alice).await.unwrap().as_deref(),
        Some("handle-1")
    );
}

#[tokio::test]
async fn a_credential_id_is_registered_once_across_users() {
    let (store, _) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    store.ensure_passkey_handle(&alice, "ha").await.unwrap();
    store.ensure_passkey_handle(&bob, "hb").await.unwrap();
    let (first, second) = (id(), id());
    assert!(store
        .add_passkey(&new_passkey(&first, &alice, "cred-1"), None)
        .await
        .unwrap());
    assert!(
        !store
            .add_passkey(&new_passkey(&second, &bob, "cred-1"), None)
            .await
            .unwrap(),
        "the same credential id for another user is refused"
    );
    assert!(store.passkeys_of(&bob).await.unwrap().is_empty());
    let (found, handle) = store
        .passkey_by_credential_id("cred-1")
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(found.record.id, first);
    assert_eq!(found.record.user_id, alice);
    assert_eq!(handle, "ha");
    assert_eq!(found.credential, r#"{"counter":1}"#);
    let owner = store.user_by_id(&alice).await.unwrap().unwrap();
    assert_eq!(owner.passkeys, 1, "the user record counts the passkey");
}

#[tokio::test]
async fn only_the_owner_renames_or_removes_a_passkey() {
    let (store, _) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let mallory = user(&store, "mallory").await;
    let key = id();
    store.ensure_passkey_handle(&alice, "ha").await.unwrap();
    store
        .add_passkey(&new_passkey(&key, &alice, "cred-1"), None)
        .await
        .unwrap();

    assert!(!store.rename_passkey(&mallory, &key, "Mine").await.unwrap());
    assert!(store
        .remove_passkey(&mallory, &key)
        .await
        .unwrap()
        .is_none());
    assert!(store.rename_passkey(&alice, &key, "Phone").await.unwrap());
    assert!(store
        .passkey_used(&key, Some(r#"{"counter":2}"#), 2, NOW + 5)
        .await
        .unwrap());
    assert!(store.passkey_used(&key, None, 3, NOW + 9).await.unwrap());
    let listed = store.passkeys_of(&alice).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].record.name, "Phone");
    assert_eq!(listed[0].record.last_used_at, Some(NOW + 9));
    assert_eq!(listed[0].sign_count, 3);
    assert_eq!(
        listed[0].credential, r#"{"counter":2}"#,
        "a use without a new counter keeps the stored credential"
    );

    let removed = store.remove_passkey(&alice, &key).await.unwrap();
    assert_eq!(removed.map(|r| r.name).as_deref(), Some("Phone"));
    assert!(store.passkeys_of(&alice).await.unwrap().is_empty());
    assert!(store
        .passkey_by_credential_id("cred-1")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_ceremony_is_taken_once_by_one_of_many_replicas() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let ceremony = hash();
    store
        .open_ceremony(&ceremony, CeremonyPurpose::SignIn, None, "{}", NOW + 300)
        .await
        .unwrap();
    let results = race((&store, &other), |store, _| {
        let ceremony = ceremony.clone();
        async move { store.take_ceremony(&ceremony, NOW).await.unwrap() }
    })
    .await;
    let taken: Vec<_> = results.into_iter().flatten().collect();
    assert_eq!(taken.len(), 1, "exactly one racer gets the ceremony");
    assert_eq!(taken[0].purpose, "sign_in");
    assert_eq!(taken[0].user_id, None);
    assert_eq!(taken[0].state, "{}");
}

#[tokio::test]
async fn an_expired_ceremony_is_not_given_out() {
    let (store, _) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let ceremony = hash();
    store
        .open_ceremony(
            &ceremony,
            CeremonyPurpose::Register,
            Some(&alice),
            "{}",
            NOW + 300,
        )
        .await
        .unwrap();
    assert!(store
        .take_ceremony(&ceremony, NOW + 300)
        .await
        .unwrap()
        .is_none());
    assert!(
        store.take_ceremony(&ceremony, NOW).await.unwrap().is_none(),
        "an expired ceremony is gone after the attempt"
    );
}

#[tokio::test]
async fn a_deleted_user_takes_their_passkeys_and_ceremonies_along() {
    let (store, _) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let key = id();
    let ceremony = hash();
    store.ensure_passkey_handle(&alice, "ha").await.unwrap();
    store
        .add_passkey(&new_passkey(&key, &alice, "cred-1"), None)
        .await
        .unwrap();
    store
        .open_ceremony(
            &ceremony,
            CeremonyPurpose::Register,
            Some(&alice),
            "{}",
            NOW + 300,
        )
        .await
        .unwrap();
    assert!(store.delete_user(&alice, 1).await.unwrap());
    assert!(store
        .passkey_by_credential_id("cred-1")
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.passkey_handle(&alice).await.unwrap(), None);
    assert!(store.take_ceremony(&ceremony, NOW).await.unwrap().is_none());
}

#[tokio::test]
async fn a_use_is_recorded_only_when_the_counter_grows_and_once_per_value() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let alice = user(&store, "alice").await;
    let key = id();
    store.ensure_passkey_handle(&alice, "ha").await.unwrap();
    store
        .add_passkey(&new_passkey(&key, &alice, "cred-1"), None)
        .await
        .unwrap();
    assert!(
        !store.passkey_used(&key, None, 1, NOW).await.unwrap(),
        "the counter it registered with"
    );
    assert!(!store.passkey_used(&key, None, 0, NOW).await.unwrap());
    let results = race((&store, &other), |store, _| {
        let key = key.clone();
        async move { store.passkey_used(&key, None, 7, NOW + 1).await.unwrap() }
    })
    .await;
    assert_eq!(
        results.iter().filter(|recorded| **recorded).count(),
        1,
        "one of the answers with counter 7 is recorded"
    );
    assert_eq!(store.passkeys_of(&alice).await.unwrap()[0].sign_count, 7);

    // An authenticator that keeps no counter: 0 stays 0, every time.
    let bob = user(&store, "bob").await;
    let none = id();
    store.ensure_passkey_handle(&bob, "hb").await.unwrap();
    store
        .add_passkey(
            &NewPasskey {
                sign_count: 0,
                ..new_passkey(&none, &bob, "cred-2")
            },
            None,
        )
        .await
        .unwrap();
    assert!(store.passkey_used(&none, None, 0, NOW).await.unwrap());
    assert!(store.passkey_used(&none, None, 0, NOW + 1).await.unwrap());
}
