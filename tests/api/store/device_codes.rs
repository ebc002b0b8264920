//! Device codes (RFC 8628 §3.2–3.5): a code reads back by its device code
//! and by its user code; user codes are unique; the user decides once, on a
//! pending, live code; polling too fast grows the interval by five seconds;
//! an approved code redeems once, even when many replicas race for it; and
//! pruning keeps a code a day past its end.

use super::*;
use crate::helpers::count;
use gatehouse::model::{DeviceApproval, DeviceStatus, NewDeviceCode};
use gatehouse::store::PollPace;

const DAY: i64 = 86_400;

/// A device code for `client_id` issued at [`NOW`], for ten minutes.
fn new_device_code(client_id: &str) -> NewDeviceCode {
    NewDeviceCode {
        device_code_hash: hash(),
        user_code_hash: hash(),
        client_id: client_id.into(),
        scope: "openid offline_access".into(),
        resource: Some("https://api.example.test/".into()),
        interval: 5,
        expires_at: NOW + 600,
    }
}

fn approval(user_id: &str) -> DeviceApproval {
    DeviceApproval {
        user_id: user_id.into(),
        sid: id(),
        auth_time: NOW - 30,
        amr: "pwd otp".into(),
    }
}

/// A fresh store with a user, a client and a pending device code:
/// (store, database URL, client id, user id, the code).
async fn store_with_device_code() -> (Store, String, String, String, NewDeviceCode) {
    let (store, url) = fresh_store().await;
    let user_id = user(&store, "alice").await;
    let client_id = client(&store, "tv").await;
    let code = new_device_code(&client_id);
    assert!(store.create_device_code(&code, NOW).await.unwrap());
    (store, url, client_id, user_id, code)
}

#[tokio::test]
async fn a_device_code_reads_back_by_either_code_and_user_codes_are_unique() {
    let (store, _url, client_id, _user_id, code) = store_with_device_code().await;
    for stored in [
        store.device_code(&code.device_code_hash).await.unwrap(),
        store
            .device_code_by_user_code(&code.user_code_hash)
            .await
            .unwrap(),
    ] {
        let stored = stored.expect("stored");
        assert_eq!(stored.client_id, client_id);
        assert_eq!(stored.scope, "openid offline_access");
        assert_eq!(
            stored.resource.as_deref(),
            Some("https://api.example.test/")
        );
        assert_eq!(stored.status, DeviceStatus::Pending);
        assert_eq!(stored.interval, 5);
        assert_eq!(stored.last_polled_at, None);
        assert_eq!(stored.approval, None);
        assert_eq!(stored.grant_id, None);
        assert_eq!(stored.expires_at, NOW + 600);
    }
    assert!(store.device_code(&hash()).await.unwrap().is_none());
    assert!(store
        .device_code_by_user_code(&hash())
        .await
        .unwrap()
        .is_none());

    let same_user_code = NewDeviceCode {
        device_code_hash: hash(),
        ..code.clone()
    };
    assert!(
        !store
            .create_device_code(&same_user_code, NOW)
            .await
            .unwrap(),
        "a user code in use is refused, without an error"
    );
    assert!(store
        .device_code(&same_user_code.device_code_hash)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn the_user_decides_once_on_a_live_code() {
    let (store, _url, client_id, user_id, code) = store_with_device_code().await;
    let given = approval(&user_id);
    assert!(store
        .decide_device_code(&code.user_code_hash, Some(&given), NOW + 10)
        .await
        .unwrap());
    let stored = store
        .device_code(&code.device_code_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, DeviceStatus::Approved);
    assert_eq!(stored.approval, Some(given));
    assert!(
        !store
            .decide_device_code(&code.user_code_hash, None, NOW + 11)
            .await
            .unwrap(),
        "decided already"
    );
    assert_eq!(
        store
            .device_code(&code.device_code_hash)
            .await
            .unwrap()
            .unwrap()
            .status,
        DeviceStatus::Approved
    );

    let denied = new_device_code(&client_id);
    store.create_device_code(&denied, NOW).await.unwrap();
    assert!(store
        .decide_device_code(&denied.user_code_hash, None, NOW + 10)
        .await
        .unwrap());
    let stored = store
        .device_code(&denied.device_code_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, DeviceStatus::Denied);
    assert_eq!(stored.approval, None);

    let late = new_device_code(&client_id);
    store.create_device_code(&late, NOW).await.unwrap();
    assert!(
        !store
            .decide_device_code(&late.user_code_hash, Some(&approval(&user_id)), NOW + 600)
            .await
            .unwrap(),
        "expired"
    );
    assert!(!store
        .decide_device_code(&hash(), Some(&approval(&user_id)), NOW)
        .await
        .unwrap());
}

#[tokio::test]
async fn polling_too_fast_grows_the_interval_by_five_seconds() {
    let (store, _url, _client_id, _user_id, code) = store_with_device_code().await;
    let poll = |at| store.note_device_poll(&code.device_code_hash, at);
    assert_eq!(poll(NOW).await.unwrap(), PollPace::InTime, "the first poll");
    assert_eq!(
        poll(NOW + 4).await.unwrap(),
        PollPace::TooFast { interval: 10 }
    );
    // The grown interval counts from the poll that was too fast.
    assert_eq!(
        poll(NOW + 13).await.unwrap(),
        PollPace::TooFast { interval: 15 }
    );
    assert_eq!(poll(NOW + 28).await.unwrap(), PollPace::InTime);
    let stored = store
        .device_code(&code.device_code_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.interval, 15);
    assert_eq!(stored.last_polled_at, Some(NOW + 28));
    assert_eq!(
        store.note_device_poll(&hash(), NOW).await.unwrap(),
        PollPace::Unknown
    );
}

#[tokio::test]
async fn only_an_approved_live_code_redeems() {
    let (store, url, client_id, user_id, pending) = store_with_device_code().await;
    let redeem = |hash: String, at: i64| {
        let store = store.clone();
        let grant = new_grant(&client_id, &user_id, NOW + DAY);
        async move {
            store
                .redeem_device_code(&hash, &grant, None, at)
                .await
                .unwrap()
        }
    };
    assert!(matches!(
        redeem(pending.device_code_hash.clone(), NOW).await,
        Redemption::Unknown
    ));
    let denied = new_device_code(&client_id);
    store.create_device_code(&denied, NOW).await.unwrap();
    store
        .decide_device_code(&denied.user_code_hash, None, NOW)
        .await
        .unwrap();
    assert!(matches!(
        redeem(denied.device_code_hash.clone(), NOW).await,
        Redemption::Unknown
    ));
    store
        .decide_device_code(&pending.user_code_hash, Some(&approval(&user_id)), NOW)
        .await
        .unwrap();
    assert!(
        matches!(
            redeem(pending.device_code_hash.clone(), NOW + 600).await,
            Redemption::Unknown
        ),
        "expired"
    );
    assert_eq!(count(&url, "SELECT COUNT(*) AS n FROM grants").await, 0);
}

#[tokio::test]
async fn concurrent_redemptions_of_one_device_code_have_exactly_one_winner() {
    let (store, url, client_id, user_id, code) = store_with_device_code().await;
    let other = replica(&url).await;
    let given = approval(&user_id);
    store
        .decide_device_code(&code.user_code_hash, Some(&given), NOW)
        .await
        .unwrap();
    let results = race((&store, &other), |store, _| {
        let device_code_hash = code.device_code_hash.clone();
        let grant = NewGrant {
            sid: Some(given.sid.clone()),
            ..new_grant(&client_id, &user_id, NOW + DAY)
        };
        async move {
            let refresh = hash();
            let outcome = store
                .redeem_device_code(
                    &device_code_hash,
                    &grant,
                    Some((&refresh, NOW + 3_600)),
                    NOW,
                )
                .await;
            (grant.id, outcome)
        }
    })
    .await;
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for (grant_id, outcome) in results {
        match outcome.expect("no redemption fails") {
            Redemption::Redeemed => winners.push(grant_id),
            Redemption::AlreadyUsed { grant_id } => losers.push(grant_id),
            Redemption::Unknown => panic!("the code is approved and live"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one winner");
    assert_eq!(losers.len(), RACERS - 1);
    let winner = Some(winners[0].clone());
    assert!(losers.iter().all(|named| *named == winner));
    assert_eq!(count(&url, "SELECT COUNT(*) AS n FROM grants").await, 1);
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM refresh_tokens").await,
        1
    );
    let grant = store.grant(&winners[0]).await.unwrap().expect("the grant");
    assert_eq!(grant.sid.as_deref(), Some(given.sid.as_str()));
    let stored = store
        .device_code(&code.device_code_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, DeviceStatus::Redeemed);
    assert_eq!(stored.grant_id, winner);
}

#[tokio::test]
async fn a_device_code_is_pruned_a_day_past_its_end() {
    let (store, url, _client_id, _user_id, code) = store_with_device_code().await;
    let rows = || count(&url, "SELECT COUNT(*) AS n FROM device_codes");
    let pruned = store.prune(NOW + 600 + DAY, None).await.unwrap();
    assert_eq!(pruned.of("device_codes"), 0);
    assert_eq!(rows().await, 1, "kept for a day after its end");
    let pruned = store.prune(NOW + 601 + DAY, None).await.unwrap();
    assert_eq!(pruned.of("device_codes"), 1);
    assert_eq!(rows().await, 0);
    assert!(store
        .device_code(&code.device_code_hash)
        .await
        .unwrap()
        .is_none());
}
