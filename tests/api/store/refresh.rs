//! Refresh-token rotation (RFC 9700 §4.14.2): each use replaces the token
//! with a successor; of concurrent rotations of one token exactly one wins;
//! a token once rotated out reads as used for as long as it is kept, so
//! presenting it again is recognised as reuse.

use super::*;
use crate::helpers::{count, count_with};

/// Refresh tokens of `grant_id` in the database.
async fn tokens_of(url: &str, grant_id: &str) -> i64 {
    count_with(
        url,
        "SELECT COUNT(*) AS n FROM refresh_tokens WHERE grant_id = $1",
        &[grant_id],
    )
    .await
}

#[tokio::test]
async fn rotation_replaces_a_token_with_its_successor() {
    let (store, url, family) = store_with_family().await;
    let successor = hash();
    let rotated = store
        .rotate_refresh_token(
            &family.refresh_hash,
            &successor,
            &family.grant_id,
            NOW + 10,
            NOW + 2_000,
        )
        .await
        .unwrap();
    assert!(rotated);

    let old = store.refresh_token(&family.refresh_hash).await.unwrap();
    assert_eq!(old.expect("kept").used_at, Some(NOW + 10), "rotated out");
    let new = store
        .refresh_token(&successor)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(new.grant.id, family.grant_id);
    assert_eq!(new.issued_at, NOW + 10);
    assert_eq!(new.expires_at, NOW + 2_000);
    assert_eq!(new.used_at, None);
    assert_eq!(tokens_of(&url, &family.grant_id).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_of_one_token_have_exactly_one_winner() {
    let (store, url, family) = store_with_family().await;
    let other = replica(&url).await;
    let results = race((&store, &other), |store, _| {
        let old = family.refresh_hash.clone();
        let grant_id = family.grant_id.clone();
        async move {
            let successor = hash();
            let won = store
                .rotate_refresh_token(&old, &successor, &grant_id, NOW + 10, NOW + 2_000)
                .await;
            (successor, won)
        }
    })
    .await;
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for result in results {
        let (successor, won) = result;
        if won.expect("no rotation fails") {
            winners.push(successor);
        } else {
            losers.push(successor);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one winner");
    assert_eq!(losers.len(), RACERS - 1);

    // Each loser now sees the token as rotated out, which is reuse.
    let old = store.refresh_token(&family.refresh_hash).await.unwrap();
    assert_eq!(old.expect("kept").used_at, Some(NOW + 10));
    let winner = store.refresh_token(&winners[0]).await.unwrap();
    assert_eq!(winner.expect("the winner's successor").used_at, None);
    for successor in &losers {
        assert!(
            store.refresh_token(successor).await.unwrap().is_none(),
            "a loser's successor is not stored"
        );
    }
    assert_eq!(tokens_of(&url, &family.grant_id).await, 2);
}

#[tokio::test]
async fn a_rotated_out_token_presented_later_is_reuse() {
    let (store, url, family) = store_with_family().await;
    let second = hash();
    assert!(store
        .rotate_refresh_token(
            &family.refresh_hash,
            &second,
            &family.grant_id,
            NOW + 10,
            NOW + 2_000
        )
        .await
        .unwrap());

    // Ten minutes later the first token comes back.
    let third = hash();
    let again = store
        .rotate_refresh_token(
            &family.refresh_hash,
            &third,
            &family.grant_id,
            NOW + 600,
            NOW + 2_600,
        )
        .await
        .unwrap();
    assert!(!again, "a rotated-out token does not rotate again");
    let old = store.refresh_token(&family.refresh_hash).await.unwrap();
    assert_eq!(old.expect("kept").used_at, Some(NOW + 10), "read as reuse");
    assert!(store.refresh_token(&third).await.unwrap().is_none());

    // The successor still rotates, and then it too reads as used.
    let fourth = hash();
    assert!(store
        .rotate_refresh_token(&second, &fourth, &family.grant_id, NOW + 700, NOW + 2_700)
        .await
        .unwrap());
    let second = store.refresh_token(&second).await.unwrap().unwrap();
    assert_eq!(second.used_at, Some(NOW + 700));
    let fourth = store.refresh_token(&fourth).await.unwrap().unwrap();
    assert_eq!(fourth.used_at, None);
    assert_eq!(tokens_of(&url, &family.grant_id).await, 3);
}

#[tokio::test]
async fn an_expired_token_does_not_rotate_and_is_not_reuse() {
    let (store, url, family) = store_with_family().await;
    // The first token is idle for an hour: at NOW + 3600 it has expired.
    let successor = hash();
    let rotated = store
        .rotate_refresh_token(
            &family.refresh_hash,
            &successor,
            &family.grant_id,
            NOW + 3_600,
            NOW + 7_200,
        )
        .await
        .unwrap();
    assert!(!rotated);
    let old = store.refresh_token(&family.refresh_hash).await.unwrap();
    let old = old.expect("kept until pruned");
    assert_eq!(old.used_at, None, "expired, not rotated out");
    assert_eq!(old.expires_at, NOW + 3_600);
    assert!(store.refresh_token(&successor).await.unwrap().is_none());
    assert_eq!(tokens_of(&url, &family.grant_id).await, 1);
}

#[tokio::test]
async fn a_token_rotates_only_within_its_own_grant() {
    let (store, url, family) = store_with_family().await;
    let stranger = redeemed(&store, &family.client_id, &family.user_id).await;
    let successor = hash();
    let rotated = store
        .rotate_refresh_token(
            &family.refresh_hash,
            &successor,
            &stranger.grant_id,
            NOW + 10,
            NOW + 2_000,
        )
        .await
        .unwrap();
    assert!(!rotated);
    let old = store.refresh_token(&family.refresh_hash).await.unwrap();
    assert_eq!(old.expect("kept").used_at, None);
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM refresh_tokens").await,
        2,
        "the two first tokens, no successor"
    );
}

#[tokio::test]
async fn an_unknown_token_reads_as_none_and_does_not_rotate() {
    let (store, url, family) = store_with_family().await;
    let unknown = hash();
    assert!(store.refresh_token(&unknown).await.unwrap().is_none());
    let rotated = store
        .rotate_refresh_token(&unknown, &hash(), &family.grant_id, NOW + 10, NOW + 2_000)
        .await
        .unwrap();
    assert!(!rotated);
    assert_eq!(tokens_of(&url, &family.grant_id).await, 1);
}
