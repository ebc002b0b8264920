//! Authorization codes (RFC 6749 §4.1.2, RFC 9700 §4.2.4): a code redeems
//! once; every later redemption is a replay that names the grant the first
//! one created, so the caller can revoke it; of concurrent redemptions
//! exactly one wins; an expired code does not redeem.

use super::*;
use crate::helpers::count;

/// How many grants the database holds.
async fn grants(url: &str) -> i64 {
    count(url, "SELECT COUNT(*) AS n FROM grants").await
}

#[tokio::test]
async fn a_code_reads_back_as_it_was_issued() {
    let (store, _url) = fresh_store().await;
    let user_id = user(&store, "alice").await;
    let client_id = client(&store, "webapp").await;
    let code_hash = hash();
    let issued = new_code(&client_id, &user_id, NOW + 60);
    store.create_code(&code_hash, &issued, NOW).await.unwrap();

    let stored = store.code(&code_hash).await.unwrap().expect("stored");
    assert_eq!(stored.client_id, client_id);
    assert_eq!(stored.user_id, user_id);
    assert_eq!(stored.sid, issued.sid);
    assert_eq!(stored.redirect_uri, issued.redirect_uri);
    assert_eq!(stored.scope, "openid offline_access");
    assert_eq!(stored.nonce, issued.nonce);
    assert_eq!(stored.code_challenge, issued.code_challenge);
    assert_eq!(stored.auth_time, NOW - 5);
    assert_eq!(stored.amr, "pwd");
    assert_eq!(stored.expires_at, NOW + 60);
    assert_eq!(stored.grant_id, None, "not redeemed yet");
    assert!(store.code(&hash()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_code_redeems_once_and_a_replay_names_the_grant_it_created() {
    let (store, url, client_id, user_id, code_hash) = store_with_code().await;

    let first = new_grant(&client_id, &user_id, NOW + 86_400);
    let first_refresh = hash();
    let redeemed = store
        .redeem_code(&code_hash, &first, Some((&first_refresh, NOW + 3_600)), NOW)
        .await
        .unwrap();
    assert!(matches!(redeemed, Redemption::Redeemed), "{redeemed:?}");
    // The grant and its first refresh token exist from that instant.
    let grant = store.grant(&first.id).await.unwrap().expect("grant stored");
    assert_eq!(grant.user_id.as_deref(), Some(user_id.as_str()));
    assert_eq!(grant.client_id, client_id);
    assert_eq!(grant.created_at, NOW);
    assert_eq!(grant.expires_at, NOW + 86_400);
    assert_eq!(grant.revoked_at, None);
    let refresh = store.refresh_token(&first_refresh).await.unwrap();
    let refresh = refresh.expect("first refresh token stored");
    assert_eq!(refresh.grant.id, first.id);
    assert_eq!(refresh.expires_at, NOW + 3_600);
    assert_eq!(refresh.used_at, None);
    let code = store.code(&code_hash).await.unwrap().unwrap();
    assert_eq!(code.grant_id.as_deref(), Some(first.id.as_str()));

    // A replay, even one second later, creates nothing and names the grant.
    let second = new_grant(&client_id, &user_id, NOW + 86_400);
    let second_refresh = hash();
    let replayed = store
        .redeem_code(
            &code_hash,
            &second,
            Some((&second_refresh, NOW + 3_600)),
            NOW + 1,
        )
        .await
        .unwrap();
    match replayed {
        Redemption::AlreadyUsed { grant_id } => assert_eq!(grant_id, Some(first.id.clone())),
        other => panic!("a second redemption is a replay, got {other:?}"),
    }
    assert!(store.grant(&second.id).await.unwrap().is_none());
    assert!(store
        .refresh_token(&second_refresh)
        .await
        .unwrap()
        .is_none());
    assert_eq!(grants(&url).await, 1);
}

#[tokio::test]
async fn a_code_without_refresh_token_still_records_its_grant() {
    let (store, url, client_id, user_id, code_hash) = store_with_code().await;
    let grant = new_grant(&client_id, &user_id, NOW + 86_400);
    let redeemed = store
        .redeem_code(&code_hash, &grant, None, NOW)
        .await
        .unwrap();
    assert!(matches!(redeemed, Redemption::Redeemed), "{redeemed:?}");
    let replayed = store
        .redeem_code(&code_hash, &grant, None, NOW)
        .await
        .unwrap();
    match replayed {
        Redemption::AlreadyUsed { grant_id } => assert_eq!(grant_id, Some(grant.id.clone())),
        other => panic!("a second redemption is a replay, got {other:?}"),
    }
    assert_eq!(grants(&url).await, 1);
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM refresh_tokens").await,
        0
    );
}

#[tokio::test]
async fn an_unknown_code_is_reported_as_unknown() {
    let (store, url) = fresh_store().await;
    let user_id = user(&store, "alice").await;
    let client_id = client(&store, "webapp").await;
    let grant = new_grant(&client_id, &user_id, NOW + 86_400);
    let refresh = hash();
    let outcome = store
        .redeem_code(&hash(), &grant, Some((&refresh, NOW + 3_600)), NOW)
        .await
        .unwrap();
    assert!(matches!(outcome, Redemption::Unknown), "{outcome:?}");
    assert_eq!(grants(&url).await, 0);
    assert!(store.refresh_token(&refresh).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_of_one_code_have_exactly_one_winner() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let user_id = user(&store, "alice").await;
    let client_id = client(&store, "webapp").await;
    let code_hash = hash();
    store
        .create_code(&code_hash, &new_code(&client_id, &user_id, NOW + 60), NOW)
        .await
        .unwrap();

    let results = race((&store, &other), |store, _| {
        let code_hash = code_hash.clone();
        let grant = new_grant(&client_id, &user_id, NOW + 86_400);
        async move {
            let refresh = hash();
            let outcome = store
                .redeem_code(&code_hash, &grant, Some((&refresh, NOW + 3_600)), NOW)
                .await;
            (grant.id, outcome)
        }
    })
    .await;
    let mut winners = Vec::new();
    let mut replays = Vec::new();
    for result in results {
        let (grant_id, outcome) = result;
        match outcome.expect("no redemption fails") {
            Redemption::Redeemed => winners.push(grant_id),
            Redemption::AlreadyUsed { grant_id } => replays.push(grant_id),
            Redemption::Unknown => panic!("the code exists"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one winner");
    assert_eq!(replays.len(), RACERS - 1);
    let winner = Some(winners[0].clone());
    assert!(
        replays.iter().all(|named| *named == winner),
        "every loser is told the winner's grant: {replays:?} vs {winner:?}"
    );
    assert_eq!(grants(&url).await, 1);
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM refresh_tokens").await,
        1
    );
    let code = store.code(&code_hash).await.unwrap().unwrap();
    assert_eq!(code.grant_id, winner);
}

#[tokio::test]
async fn an_expired_code_does_not_redeem() {
    let (store, url, client_id, user_id, code_hash) = store_with_code().await;
    let grant = new_grant(&client_id, &user_id, NOW + 86_400);
    let refresh = hash();
    let outcome = store
        .redeem_code(&code_hash, &grant, Some((&refresh, NOW + 3_600)), NOW + 60)
        .await
        .unwrap();
    // Expired is no code at all to whoever presents it, as for sessions and
    // pending requests; not a replay, which would revoke a grant.
    assert!(matches!(outcome, Redemption::Unknown), "{outcome:?}");
    assert_eq!(grants(&url).await, 0);
    assert!(store.refresh_token(&refresh).await.unwrap().is_none());
    let code = store.code(&code_hash).await.unwrap().unwrap();
    assert_eq!(code.grant_id, None, "the code was not used up");
}

#[tokio::test]
async fn a_used_code_presented_after_it_expired_is_still_a_replay() {
    let (store, url, family) = store_with_family().await;
    let late = new_grant(&family.client_id, &family.user_id, NOW + 90_000);
    let outcome = store
        .redeem_code(&family.code_hash, &late, None, NOW + 3_600)
        .await
        .unwrap();
    match outcome {
        Redemption::AlreadyUsed { grant_id } => assert_eq!(grant_id, Some(family.grant_id)),
        other => panic!("a late replay is a replay, got {other:?}"),
    }
    assert_eq!(grants(&url).await, 1);
}
