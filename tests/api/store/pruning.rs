//! Pruning removes what expired and never revives a token: a used code is
//! kept a day past its end so that a late replay is still recognised; a
//! rotated-out refresh token keeps reading as used while it could be
//! presented; running it twice, or on two replicas at once, is safe.

use super::*;
use crate::helpers::count;

const DAY: i64 = 86_400;

/// Rows of `table`.
async fn rows_in(url: &str, table: &str) -> i64 {
    count(url, &format!("SELECT COUNT(*) AS n FROM {table}")).await
}

#[tokio::test]
async fn a_used_code_inside_its_grace_day_is_still_a_replay() {
    let (store, url, family) = store_with_family().await;
    // The code ended at NOW + 60; an hour later the first refresh token
    // (idle for an hour) is still there too, on the boundary.
    let removed = store.prune_expired(NOW + 3_600).await.unwrap();
    assert_eq!(removed, 0);
    let replay = new_grant(&family.client_id, &family.user_id, NOW + DAY);
    let outcome = store
        .redeem_code(&family.code_hash, &replay, None, NOW + 3_600)
        .await
        .unwrap();
    match outcome {
        Redemption::AlreadyUsed { grant_id } => assert_eq!(grant_id, Some(family.grant_id.clone())),
        other => panic!("a replay within the grace day, got {other:?}"),
    }

    // To the second, a day after its end the code is still kept...
    store.prune_expired(NOW + 60 + DAY).await.unwrap();
    assert_eq!(rows_in(&url, "authorization_codes").await, 1);
    // ...and then it goes.
    store.prune_expired(NOW + 61 + DAY).await.unwrap();
    assert_eq!(rows_in(&url, "authorization_codes").await, 0);
    assert!(store.code(&family.code_hash).await.unwrap().is_none());
}

#[tokio::test]
async fn a_rotated_out_token_stays_reuse_while_it_could_be_presented() {
    let (store, url, family) = store_with_family().await;
    // The first token is idle until NOW + 3600; its successor ends sooner,
    // as after the client's idle lifetime was shortened.
    let successor = hash();
    assert!(store
        .rotate_refresh_token(
            &family.refresh_hash,
            &successor,
            &family.grant_id,
            NOW + 10,
            NOW + 100
        )
        .await
        .unwrap());

    let removed = store.prune_expired(NOW + 500).await.unwrap();
    assert_eq!(
        removed, 0,
        "the expired successor stays while its predecessor lives"
    );
    let first = store.refresh_token(&family.refresh_hash).await.unwrap();
    assert_eq!(first.expect("kept").used_at, Some(NOW + 10), "still reuse");
    let again = store
        .rotate_refresh_token(
            &family.refresh_hash,
            &hash(),
            &family.grant_id,
            NOW + 500,
            NOW + 900,
        )
        .await
        .unwrap();
    assert!(!again, "pruning did not make it usable again");

    // Once the first token has expired too, both go.
    let removed = store.prune_expired(NOW + 3_601).await.unwrap();
    assert_eq!(removed, 2);
    assert_eq!(rows_in(&url, "refresh_tokens").await, 0);
    assert!(store
        .refresh_token(&family.refresh_hash)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_chain_of_rotations_keeps_every_presentable_token_reused() {
    let (store, _url, family) = store_with_family().await;
    // first (until NOW+3600) → second (until NOW+200) → third (until NOW+100)
    let second = hash();
    let third = hash();
    assert!(store
        .rotate_refresh_token(
            &family.refresh_hash,
            &second,
            &family.grant_id,
            NOW + 10,
            NOW + 200
        )
        .await
        .unwrap());
    assert!(store
        .rotate_refresh_token(&second, &third, &family.grant_id, NOW + 20, NOW + 100)
        .await
        .unwrap());
    store.prune_expired(NOW + 150).await.unwrap();
    let first = store.refresh_token(&family.refresh_hash).await.unwrap();
    assert_eq!(first.expect("kept").used_at, Some(NOW + 10));
    let second = store.refresh_token(&second).await.unwrap();
    assert_eq!(second.expect("kept").used_at, Some(NOW + 20));
}

/// One row of every kind that pruning removes, ending at `end`, plus the
/// refresh token and code that `redeemed` made (ending before `end` too).
async fn expiring_rows(store: &Store, end: i64, user_id: &str, client_id: &str) {
    let code = new_code(client_id, user_id, end);
    store.create_code(&hash(), &code, NOW).await.unwrap();
    store
        .save_auth_request(&hash(), client_id, "{}", NOW, end)
        .await
        .unwrap();
    store
        .create_mfa_challenge(&hash(), user_id, NOW, end)
        .await
        .unwrap();
    store
        .open_ceremony(
            &hash(),
            gatehouse::model::CeremonyPurpose::SignIn,
            None,
            "{}",
            end,
        )
        .await
        .unwrap();
    let session = gatehouse::model::SessionRecord {
        sid: id(),
        cookie_hash: String::new(),
        user_id: user_id.into(),
        auth_time: NOW,
        amr: "pwd".into(),
        expires_at: end,
    };
    store
        .create_session(&hash(), &session, &Default::default(), None, NOW)
        .await
        .unwrap();
    store.revoke_access_token(&id(), end).await.unwrap();
    let trip = gatehouse::model::UpstreamTrip {
        upstream_id: "corp".into(),
        purpose: gatehouse::model::TripPurpose::SignIn,
        browser_hash: hash(),
        user_id: None,
        request_id: None,
        then_page: None,
        nonce: "nonce".into(),
        code_verifier: "verifier".into(),
        auth_after: None,
        auth_time_required: false,
        expires_at: end,
    };
    store.create_upstream_trip(&hash(), &trip).await.unwrap();
}

#[tokio::test]
async fn expired_rows_go_away_and_live_ones_stay() {
    let (store, url, family) = store_with_family().await;
    let prune_at = NOW + 2 * DAY;
    // Gone: ended long ago (codes need a further day), or failures a day old.
    expiring_rows(&store, NOW + 60, &family.user_id, &family.client_id).await;
    store
        .add_sign_in_failure("acct-old", "*", NOW)
        .await
        .unwrap();
    // Kept: ending after the prune.
    expiring_rows(&store, prune_at + 60, &family.user_id, &family.client_id).await;
    let live_jti = id();
    store
        .revoke_access_token(&live_jti, prune_at + 60)
        .await
        .unwrap();
    store
        .add_sign_in_failure("acct-new", "*", prune_at - 10)
        .await
        .unwrap();
    let long_lived = hash();
    let grant = new_grant(&family.client_id, &family.user_id, prune_at + DAY);
    let code_hash = hash();
    let code = new_code(&family.client_id, &family.user_id, prune_at + 60);
    store.create_code(&code_hash, &code, NOW).await.unwrap();
    store
        .redeem_code(&code_hash, &grant, Some((&long_lived, prune_at + 600)), NOW)
        .await
        .unwrap();

    let removed = store.prune_expired(prune_at).await.unwrap();
    // 2 codes (the family's and one ended), and one each of request,
    // challenge, WebAuthn ceremony, upstream trip, session, revoked jti,
    // refresh token, failure counter, and the family's grant (ended a day
    // ago, its refresh token with it).
    assert_eq!(removed, 11);
    assert_eq!(rows_in(&url, "authorization_codes").await, 2);
    assert_eq!(rows_in(&url, "auth_requests").await, 1);
    assert_eq!(rows_in(&url, "mfa_challenges").await, 1);
    assert_eq!(rows_in(&url, "webauthn_ceremonies").await, 1);
    assert_eq!(rows_in(&url, "upstream_trips").await, 1);
    assert_eq!(rows_in(&url, "browser_sessions").await, 1);
    assert_eq!(rows_in(&url, "revoked_access_tokens").await, 2);
    assert_eq!(rows_in(&url, "refresh_tokens").await, 1);
    assert_eq!(rows_in(&url, "sign_in_failures").await, 1);
    // The grant whose refresh token lives on stays; the ended one went.
    assert_eq!(rows_in(&url, "grants").await, 1);
    assert!(store.grant(&grant.id).await.unwrap().is_some());
    assert!(store.grant(&family.grant_id).await.unwrap().is_none());
    assert!(store.refresh_token(&long_lived).await.unwrap().is_some());
    assert!(
        !store
            .access_token_usable(&live_jti, None, prune_at)
            .await
            .unwrap(),
        "a revoked token still inside its lifetime stays revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pruning_twice_or_on_two_replicas_at_once_is_safe() {
    let (store, url, family) = store_with_family().await;
    let other = replica(&url).await;
    for _ in 0..5 {
        expiring_rows(&store, NOW + 60, &family.user_id, &family.client_id).await;
    }
    let prune_at = NOW + 2 * DAY;
    let (a, b) = tokio::join!(store.prune_expired(prune_at), other.prune_expired(prune_at));
    let (a, b) = (a.expect("first prune"), b.expect("second prune"));
    // 5 of each of seven kinds, the family's code, its refresh token and
    // its grant: each removed by exactly one of the two.
    assert_eq!(a + b, 38);
    assert_eq!(store.prune_expired(prune_at).await.unwrap(), 0);
    for table in [
        "authorization_codes",
        "auth_requests",
        "mfa_challenges",
        "webauthn_ceremonies",
        "upstream_trips",
        "browser_sessions",
        "revoked_access_tokens",
        "refresh_tokens",
        "grants",
    ] {
        assert_eq!(rows_in(&url, table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn a_revoked_family_stays_while_its_refresh_token_could_be_presented() {
    let (store, url, family) = store_with_family().await;
    let successor = hash();
    assert!(store
        .rotate_refresh_token(
            &family.refresh_hash,
            &successor,
            &family.grant_id,
            NOW + 10,
            NOW + 1_000
        )
        .await
        .unwrap());
    store
        .revoke_grant(&family.grant_id, NOW + 20)
        .await
        .unwrap();

    // Revoked, but the successor could be presented until NOW + 1000 (and
    // the first token, rotated out, until NOW + 3600): presenting the first
    // is still reuse.
    let pruned = store.prune(NOW + 2_000, None).await.unwrap();
    assert_eq!(pruned.of("grants"), 0, "{pruned}");
    assert_eq!(pruned.of("refresh_tokens"), 0, "{pruned}");
    let first = store.refresh_token(&family.refresh_hash).await.unwrap();
    let first = first.expect("the rotated-out token is kept");
    assert_eq!(first.used_at, Some(NOW + 10), "still reads as reuse");
    assert_eq!(first.grant.revoked_at, Some(NOW + 20));

    // Once none of its tokens could be presented, the family goes, with
    // everything in it.
    let pruned = store.prune(NOW + 3_601, None).await.unwrap();
    assert_eq!(pruned.of("grants"), 1, "{pruned}");
    assert_eq!(pruned.of("refresh_tokens"), 2, "{pruned}");
    assert!(store.grant(&family.grant_id).await.unwrap().is_none());
    assert_eq!(rows_in(&url, "refresh_tokens").await, 0);
    // An access token of the family is refused as before.
    assert!(!store
        .access_token_usable(&id(), Some(&family.grant_id), NOW + 3_601)
        .await
        .unwrap());
}

#[tokio::test]
async fn a_live_family_stays_until_its_absolute_end() {
    let (store, _url, family) = store_with_family().await;
    // No refresh token left (the first ended at NOW + 3600), but the grant
    // itself lasts a day: its access tokens still pass until then.
    let pruned = store.prune(NOW + 4_000, None).await.unwrap();
    assert_eq!(pruned.of("refresh_tokens"), 1, "{pruned}");
    assert_eq!(pruned.of("grants"), 0, "{pruned}");
    let jti = id();
    assert!(store
        .access_token_usable(&jti, Some(&family.grant_id), NOW + 4_000)
        .await
        .unwrap());
    let pruned = store.prune(NOW + DAY + 1, None).await.unwrap();
    assert_eq!(pruned.of("grants"), 1, "{pruned}");
}

#[tokio::test]
async fn many_rows_go_in_batches_and_the_audit_log_by_retention() {
    let (store, url) = fresh_store().await;
    // More than two batches' worth of ended revoked-token ids, and audit
    // events either side of the retention's cut-off.
    let made = crate::helpers::execute(
        &url,
        "INSERT INTO revoked_access_tokens (jti, expires_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1234)
         SELECT 'jti-' || i, 1000 FROM n",
    )
    .await;
    assert_eq!(made, 1234);
    for (id, at) in [("old-1", NOW - 100), ("old-2", NOW - 1), ("new-1", NOW)] {
        crate::helpers::execute(
            &url,
            &format!(
                "INSERT INTO audit_events (id, at, event, actor, detail)
                 VALUES ('{id}', {at}, 'user.signed_in', 'system', '{{}}')"
            ),
        )
        .await;
    }
    let pruned = store.prune(NOW, Some(NOW)).await.unwrap();
    assert_eq!(pruned.of("revoked_access_tokens"), 1234, "{pruned}");
    assert_eq!(pruned.of("audit_events"), 2, "{pruned}");
    assert_eq!(pruned.total(), 1236, "{pruned}");
    assert_eq!(rows_in(&url, "revoked_access_tokens").await, 0);
    assert_eq!(
        count(
            &url,
            "SELECT COUNT(*) AS n FROM audit_events WHERE id = 'new-1'"
        )
        .await,
        1
    );
    assert_eq!(rows_in(&url, "audit_events").await, 1);
    // Without a retention the log is left alone.
    let pruned = store.prune(NOW + 10 * DAY, None).await.unwrap();
    assert_eq!(pruned.of("audit_events"), 0);
    assert_eq!(rows_in(&url, "audit_events").await, 1);
    // Every kind is reported, in one order.
    let kinds: Vec<&str> = pruned.counts.iter().map(|(k, _)| *k).collect();
    assert_eq!(kinds, gatehouse::metrics::PRUNED_KINDS);
}

#[tokio::test]
async fn consents_of_a_client_or_user_gone_go_and_others_stay() {
    let (store, url) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let kept = client(&store, "kept").await;
    let gone = client(&store, "gone").await;
    let scopes = vec!["openid".to_string()];
    for (user_id, client_id) in [(&alice, &kept), (&alice, &gone), (&bob, &kept)] {
        store
            .save_consent(user_id, client_id, &scopes, NOW)
            .await
            .unwrap();
    }
    // Removed behind the store's back, leaving their consents behind.
    let deleted =
        crate::helpers::execute_unchecked(&url, "DELETE FROM clients WHERE client_id = 'gone'")
            .await;
    assert_eq!(deleted, 1);
    let deleted =
        crate::helpers::execute_unchecked(&url, &format!("DELETE FROM users WHERE id = '{bob}'"))
            .await;
    assert_eq!(deleted, 1);
    assert_eq!(rows_in(&url, "consents").await, 3);

    let pruned = store.prune(NOW, None).await.unwrap();
    assert_eq!(pruned.of("consents"), 2, "{pruned}");
    assert_eq!(rows_in(&url, "consents").await, 1);
    assert_eq!(store.consented_scopes(&alice, &kept).await.unwrap(), scopes);
}
