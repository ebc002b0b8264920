//! Browser sessions and the state of a sign-in in progress: a session is
//! found by the hash of its cookie until it ends or is closed; a pending
//! authorization request and a second-factor challenge live until they
//! expire; a challenge gives out no more attempts than allowed, even to
//! parallel guesses.

use super::*;
use crate::helpers::count;
use gatehouse::model::{Device, SessionRecord};

fn session_of(user_id: &str, expires_at: i64) -> SessionRecord {
    SessionRecord {
        sid: id(),
        cookie_hash: String::new(),
        user_id: user_id.into(),
        auth_time: NOW - 5,
        amr: "pwd".into(),
        expires_at,
    }
}

fn device(agent: &str) -> Device {
    Device {
        user_agent: Some(agent.into()),
        ip: Some("192.0.2.7".into()),
    }
}

#[tokio::test]
async fn a_session_is_found_until_it_ends_or_is_closed() {
    let (store, url) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let cookie = hash();
    let opened = session_of(&alice, NOW + 600);
    store
        .create_session(&cookie, &opened, &device("Firefox"), None, NOW)
        .await
        .unwrap();

    let found = store
        .session(&cookie, NOW + 599)
        .await
        .unwrap()
        .expect("live");
    assert_eq!(found.sid, opened.sid);
    assert_eq!(found.user_id, alice);
    assert_eq!(found.auth_time, NOW - 5);
    assert_eq!(found.amr, "pwd");
    assert_eq!(found.expires_at, NOW + 600);
    assert!(
        store.session(&cookie, NOW + 600).await.unwrap().is_none(),
        "ended"
    );
    assert!(
        store.session(&hash(), NOW).await.unwrap().is_none(),
        "unknown"
    );

    store.set_session_amr(&opened.sid, "pwd otp").await.unwrap();
    let stepped_up = store.session(&cookie, NOW).await.unwrap().unwrap();
    assert_eq!(stepped_up.amr, "pwd otp");

    store.delete_session(&cookie, 1).await.unwrap();
    assert!(
        store.session(&cookie, NOW).await.unwrap().is_none(),
        "closed"
    );
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM browser_sessions").await,
        0
    );
}

#[tokio::test]
async fn a_users_sessions_are_listed_newest_first_and_end_one_by_one() {
    let (store, _url) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let mut sids = Vec::new();
    for (at, agent) in [(NOW, "Firefox"), (NOW + 1, "Safari"), (NOW + 2, "Chrome")] {
        let session = session_of(&alice, NOW + 600);
        sids.push(session.sid.clone());
        store
            .create_session(&hash(), &session, &device(agent), None, at)
            .await
            .unwrap();
    }
    let ended = session_of(&alice, NOW + 3);
    store
        .create_session(&hash(), &ended, &Device::default(), None, NOW)
        .await
        .unwrap();
    let bobs = session_of(&bob, NOW + 600);
    store
        .create_session(&hash(), &bobs, &Device::default(), None, NOW)
        .await
        .unwrap();

    let listed = store.sessions_of_user(&alice, NOW + 3).await.unwrap();
    let listed_sids: Vec<&str> = listed.iter().map(|s| s.sid.as_str()).collect();
    assert_eq!(listed_sids, vec![&*sids[2], &*sids[1], &*sids[0]]);
    assert_eq!(listed[0].device.user_agent.as_deref(), Some("Chrome"));
    assert_eq!(listed[0].device.ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(listed[0].created_at, NOW + 2);

    assert!(
        !store
            .delete_session_of_user(&bob, &sids[0], 1)
            .await
            .unwrap(),
        "one user cannot end another's session"
    );
    assert!(store
        .delete_session_of_user(&alice, &sids[0], 1)
        .await
        .unwrap());
    assert!(!store
        .delete_session_of_user(&alice, &sids[0], 1)
        .await
        .unwrap());
    // The other live one and the ended one.
    assert_eq!(
        store
            .delete_other_sessions(&alice, &sids[2], 1)
            .await
            .unwrap(),
        2
    );
    let left = store.sessions_of_user(&alice, NOW + 3).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].sid, sids[2]);
    assert_eq!(store.delete_user_sessions(&alice, 1).await.unwrap(), 1);
    assert_eq!(store.sessions_of_user(&bob, NOW).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_pending_request_lives_until_it_expires_or_is_answered() {
    let (store, _url) = fresh_store().await;
    let webapp = client(&store, "webapp").await;
    let key = hash();
    let json = r#"{"client_id":"webapp","state":"xyz"}"#;
    store
        .save_auth_request(&key, &webapp, json, NOW, NOW + 600)
        .await
        .unwrap();
    let found = store.auth_request(&key, NOW + 599).await.unwrap();
    assert_eq!(found, Some((json.to_string(), NOW)));
    assert_eq!(store.auth_request(&key, NOW + 600).await.unwrap(), None);
    assert_eq!(store.auth_request(&hash(), NOW).await.unwrap(), None);
    store.delete_auth_request(&key).await.unwrap();
    assert_eq!(store.auth_request(&key, NOW).await.unwrap(), None);
}

#[tokio::test]
async fn a_challenge_counts_attempts_and_expires() {
    let (store, _url) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let key = hash();
    store
        .create_mfa_challenge(&key, &alice, NOW, NOW + 300)
        .await
        .unwrap();
    let challenge = store.mfa_challenge(&key, NOW).await.unwrap().expect("live");
    assert_eq!(challenge.user_id, alice);
    assert_eq!(challenge.failures, 0);
    assert_eq!(challenge.created_at, NOW);

    assert_eq!(store.take_mfa_attempt(&key, 2, NOW).await.unwrap(), Some(1));
    assert_eq!(store.take_mfa_attempt(&key, 2, NOW).await.unwrap(), Some(2));
    assert_eq!(store.take_mfa_attempt(&key, 2, NOW).await.unwrap(), None);
    let challenge = store.mfa_challenge(&key, NOW).await.unwrap().unwrap();
    assert_eq!(challenge.failures, 2, "a refused attempt is not counted");

    assert!(store
        .mfa_challenge(&key, NOW + 300)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.take_mfa_attempt(&key, 5, NOW + 300).await.unwrap(),
        None
    );
    store.delete_mfa_challenge(&key).await.unwrap();
    assert!(store.mfa_challenge(&key, NOW).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_get_no_more_attempts_than_allowed() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let alice = user(&store, "alice").await;
    let key = hash();
    store
        .create_mfa_challenge(&key, &alice, NOW, NOW + 300)
        .await
        .unwrap();
    let results = race((&store, &other), |store, _| {
        let key = key.clone();
        async move { store.take_mfa_attempt(&key, 3, NOW).await }
    })
    .await;
    let mut granted = Vec::new();
    for result in results {
        if let Some(n) = result.expect("no attempt fails") {
            granted.push(n);
        }
    }
    granted.sort();
    assert_eq!(granted, vec![1, 2, 3]);
    let challenge = store.mfa_challenge(&key, NOW).await.unwrap().unwrap();
    assert_eq!(challenge.failures, 3);
}
