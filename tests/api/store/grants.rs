//! Grants are token families (RFC 9700 §4.14): revoking one ends every
//! refresh token of it and fails its access tokens, by grant and by `jti`
//! (RFC 7009 §2); revoking is idempotent and leaves other families alone.

use super::*;
use crate::helpers::{count, count_with};

/// Rotates `old` into a new token at `at`; returns the new token's hash.
async fn rotate(store: &Store, family: &Family, old: &str, at: i64) -> String {
    let successor = hash();
    let rotated = store
        .rotate_refresh_token(old, &successor, &family.grant_id, at, at + 3_600)
        .await
        .unwrap();
    assert!(rotated, "rotates at {at}");
    successor
}

#[tokio::test]
async fn revoking_a_grant_ends_every_refresh_token_of_its_family() {
    let (store, _url, family) = store_with_family().await;
    let second = rotate(&store, &family, &family.refresh_hash, NOW + 10).await;
    let current = rotate(&store, &family, &second, NOW + 20).await;
    let bystander = redeemed(&store, &family.client_id, &family.user_id).await;

    store
        .revoke_grant(&family.grant_id, NOW + 30)
        .await
        .unwrap();

    for token in [&family.refresh_hash, &second, &current] {
        let record = store.refresh_token(token).await.unwrap().expect("kept");
        assert_eq!(record.grant.id, family.grant_id);
        assert_eq!(record.grant.revoked_at, Some(NOW + 30));
        assert!(!record.grant.is_active(NOW + 30), "unusable once revoked");
    }
    let other = store.refresh_token(&bystander.refresh_hash).await.unwrap();
    let other = other.expect("the other family's token");
    assert_eq!(other.grant.revoked_at, None);
    assert!(other.grant.is_active(NOW + 30), "another family goes on");
}

#[tokio::test]
async fn a_revoked_family_rotates_no_more() {
    let (store, url, family) = store_with_family().await;
    store
        .revoke_grant(&family.grant_id, NOW + 30)
        .await
        .unwrap();
    let successor = hash();
    let rotated = store
        .rotate_refresh_token(
            &family.refresh_hash,
            &successor,
            &family.grant_id,
            NOW + 40,
            NOW + 3_600,
        )
        .await
        .unwrap();
    assert!(!rotated);
    assert!(store.refresh_token(&successor).await.unwrap().is_none());
    let tokens = count_with(
        &url,
        "SELECT COUNT(*) AS n FROM refresh_tokens WHERE grant_id = $1",
        &[&family.grant_id],
    )
    .await;
    assert_eq!(tokens, 1);
}

#[tokio::test]
async fn revoking_a_grant_fails_its_access_tokens() {
    let (store, _url, family) = store_with_family().await;
    let bystander = redeemed(&store, &family.client_id, &family.user_id).await;
    let grant = Some(family.grant_id.as_str());
    let jti = id();
    assert!(store.access_token_usable(&jti, grant, NOW).await.unwrap());

    store
        .revoke_grant(&family.grant_id, NOW + 30)
        .await
        .unwrap();

    assert!(!store
        .access_token_usable(&jti, grant, NOW + 30)
        .await
        .unwrap());
    // Every access token of the family, whatever its jti.
    assert!(!store
        .access_token_usable(&id(), grant, NOW + 30)
        .await
        .unwrap());
    let other = Some(bystander.grant_id.as_str());
    assert!(store
        .access_token_usable(&id(), other, NOW + 30)
        .await
        .unwrap());
}

#[tokio::test]
async fn a_revoked_jti_fails_the_access_token_check() {
    let (store, url, family) = store_with_family().await;
    let grant = Some(family.grant_id.as_str());
    let (revoked, kept) = (id(), id());
    assert!(store
        .access_token_usable(&revoked, None, NOW)
        .await
        .unwrap());

    store
        .revoke_access_token(&revoked, NOW + 300)
        .await
        .unwrap();

    assert!(!store
        .access_token_usable(&revoked, None, NOW)
        .await
        .unwrap());
    assert!(!store
        .access_token_usable(&revoked, grant, NOW)
        .await
        .unwrap());
    assert!(store.access_token_usable(&kept, grant, NOW).await.unwrap());
    assert!(store.access_token_usable(&kept, None, NOW).await.unwrap());
    // Only the token: its grant lives on.
    let record = store.grant(&family.grant_id).await.unwrap().unwrap();
    assert_eq!(record.revoked_at, None);
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM revoked_access_tokens").await,
        1
    );
}

#[tokio::test]
async fn revoking_twice_changes_nothing_more() {
    let (store, url, family) = store_with_family().await;
    store
        .revoke_grant(&family.grant_id, NOW + 30)
        .await
        .unwrap();
    store
        .revoke_grant(&family.grant_id, NOW + 90)
        .await
        .unwrap();
    let grant = store.grant(&family.grant_id).await.unwrap().unwrap();
    assert_eq!(
        grant.revoked_at,
        Some(NOW + 30),
        "the first revocation stands"
    );
    assert!(!grant.is_active(NOW + 90));

    let jti = id();
    store.revoke_access_token(&jti, NOW + 300).await.unwrap();
    store.revoke_access_token(&jti, NOW + 900).await.unwrap();
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM revoked_access_tokens").await,
        1
    );
    assert_eq!(
        count(
            &url,
            "SELECT COUNT(*) AS n FROM revoked_access_tokens WHERE expires_at = 1700000300"
        )
        .await,
        1,
        "the first entry stands"
    );
    assert!(!store.access_token_usable(&jti, None, NOW).await.unwrap());
}

#[tokio::test]
async fn a_grant_past_its_end_or_unknown_fails_the_access_token_check() {
    let (store, _url, family) = store_with_family().await;
    // The grant lasts a day from NOW.
    let grant = Some(family.grant_id.as_str());
    let jti = id();
    assert!(store
        .access_token_usable(&jti, grant, NOW + 86_399)
        .await
        .unwrap());
    assert!(!store
        .access_token_usable(&jti, grant, NOW + 86_400)
        .await
        .unwrap());
    let record = store.grant(&family.grant_id).await.unwrap().unwrap();
    assert!(!record.is_active(NOW + 86_400));
    assert!(!store
        .access_token_usable(&jti, Some("no-such-grant"), NOW)
        .await
        .unwrap());
    assert!(store.grant("no-such-grant").await.unwrap().is_none());
}

#[tokio::test]
async fn revoking_a_users_grants_ends_only_their_live_ones() {
    let (store, _url, family) = store_with_family().await;
    let second = redeemed(&store, &family.client_id, &family.user_id).await;
    let bob = user(&store, "bob").await;
    let bobs = redeemed(&store, &family.client_id, &bob).await;
    store.revoke_grant(&second.grant_id, NOW + 5).await.unwrap();

    let live = store
        .live_grants(Some(&family.user_id), None, NOW + 10)
        .await
        .unwrap();
    let ids: Vec<&str> = live.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, vec![family.grant_id.as_str()]);
    assert_eq!(live[0].username.as_deref(), Some("alice"));
    assert_eq!(live[0].client_name, "webapp app");

    let ended = store
        .revoke_user_grants(&family.user_id, NOW + 10)
        .await
        .unwrap();
    assert_eq!(
        ended, 1,
        "the one live grant; the revoked one is left as it was"
    );
    let again = store
        .revoke_user_grants(&family.user_id, NOW + 20)
        .await
        .unwrap();
    assert_eq!(again, 0);
    let first = store.grant(&family.grant_id).await.unwrap().unwrap();
    assert_eq!(first.revoked_at, Some(NOW + 10));
    let second = store.grant(&second.grant_id).await.unwrap().unwrap();
    assert_eq!(second.revoked_at, Some(NOW + 5));
    let bobs = store.grant(&bobs.grant_id).await.unwrap().unwrap();
    assert_eq!(bobs.revoked_at, None, "another user's grant is untouched");
    let by_client = store
        .live_grants(None, Some(&family.client_id), NOW + 30)
        .await
        .unwrap();
    assert_eq!(by_client.len(), 1);
    assert_eq!(by_client[0].user_id.as_deref(), Some(bob.as_str()));
}
