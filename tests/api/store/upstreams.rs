//! Upstream providers in the store: settings kept whole (the secret too,
//! which Gatehouse must send) and replaced in place; an upstream account
//! links to one user and a user links one account per upstream, even when
//! twenty replicas race to link; a trip is taken once, never after it
//! expired; a user's links and trips go with them, an upstream's with it.

use super::*;
use gatehouse::admin::upstreams::{checked, UpstreamSettings};
use gatehouse::model::{Federation, TripPurpose, UpstreamLink, UpstreamRecord, UpstreamTrip};
use gatehouse::store::Unlinked;

fn upstream(id: &str) -> UpstreamRecord {
    let settings = UpstreamSettings {
        id: id.into(),
        kind: "oidc".into(),
        name: "Corp SSO".into(),
        issuer: Some("https://idp.example.com".into()),
        client_id: "gatehouse".into(),
        client_secret: Some("upstream-secret".into()),
        ..UpstreamSettings::default()
    };
    checked(&settings, None, NOW).unwrap()
}

fn link(upstream_id: &str, subject: &str, user_id: &str) -> UpstreamLink {
    UpstreamLink {
        upstream_id: upstream_id.into(),
        subject: subject.into(),
        user_id: user_id.into(),
        email: None,
        created_at: NOW,
        last_used_at: None,
    }
}

fn trip(upstream_id: &str, user_id: Option<&str>, expires_at: i64) -> UpstreamTrip {
    UpstreamTrip {
        upstream_id: upstream_id.into(),
        purpose: TripPurpose::SignIn,
        browser_hash: hash(),
        user_id: user_id.map(str::to_string),
        request_id: None,
        then_page: Some("account".into()),
        nonce: "nonce".into(),
        code_verifier: "verifier".into(),
        auth_after: None,
        auth_time_required: false,
        expires_at,
    }
}

#[tokio::test]
async fn an_upstream_is_kept_whole_and_replaced_in_place() {
    let (store, _) = fresh_store().await;
    let corp = upstream("corp");
    assert!(store.insert_upstream(&corp).await.unwrap());
    assert!(
        !store.insert_upstream(&corp).await.unwrap(),
        "the id is taken"
    );
    assert_eq!(store.upstream("corp").await.unwrap().unwrap(), corp);
    let renamed = UpstreamRecord {
        name: "Corp Login".into(),
        updated_at: NOW + 5,
        ..corp.clone()
    };
    assert!(store.update_upstream(&renamed).await.unwrap());
    assert_eq!(store.upstreams().await.unwrap(), vec![renamed]);
    assert!(!store.update_upstream(&upstream("nope")).await.unwrap());
}

#[tokio::test]
async fn an_account_links_to_one_user_and_a_user_to_one_account_per_upstream() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    store.insert_upstream(&upstream("corp")).await.unwrap();
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    // Twenty replicas race to link one upstream account to two users.
    let results = race((&store, &other), |store, i| {
        let owner = if i % 3 == 0 {
            alice.clone()
        } else {
            bob.clone()
        };
        async move {
            store
                .insert_upstream_link(&link("corp", "sub-1", &owner), None)
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(
        results.iter().filter(|won| **won).count(),
        1,
        "one link made"
    );
    let owner = store
        .upstream_link("corp", "sub-1")
        .await
        .unwrap()
        .unwrap()
        .user_id;
    // The owner cannot link a second account at the same upstream.
    assert!(!store
        .insert_upstream_link(&link("corp", "sub-2", &owner), None)
        .await
        .unwrap());
    assert_eq!(store.upstream_links_of(&owner).await.unwrap().len(), 1);
    assert!(store.delete_upstream_link(&owner, "corp").await.unwrap());
    assert!(!store.delete_upstream_link(&owner, "corp").await.unwrap());
}

#[tokio::test]
async fn a_trip_is_taken_once_by_one_of_many_replicas_and_never_late() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let state = hash();
    store
        .create_upstream_trip(&state, &trip("corp", None, NOW + 60))
        .await
        .unwrap();
    let results = race((&store, &other), |store, _| {
        let state = state.clone();
        async move { store.take_upstream_trip(&state, NOW).await.unwrap() }
    })
    .await;
    let taken: Vec<_> = results.into_iter().flatten().collect();
    assert_eq!(taken.len(), 1, "exactly one racer gets the trip");
    assert_eq!(taken[0].then_page.as_deref(), Some("account"));
    assert_eq!(taken[0].code_verifier, "verifier");
    let late = hash();
    store
        .create_upstream_trip(&late, &trip("corp", None, NOW + 60))
        .await
        .unwrap();
    assert!(store
        .take_upstream_trip(&late, NOW + 60)
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .take_upstream_trip(&late, NOW)
            .await
            .unwrap()
            .is_none(),
        "and it is gone"
    );
}

#[tokio::test]
async fn links_and_trips_go_with_their_user_and_their_upstream() {
    let (store, _) = fresh_store().await;
    store.insert_upstream(&upstream("corp")).await.unwrap();
    store.insert_upstream(&upstream("other")).await.unwrap();
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    store
        .insert_upstream_link(&link("corp", "a", &alice), None)
        .await
        .unwrap();
    store
        .insert_upstream_link(&link("other", "b", &bob), None)
        .await
        .unwrap();
    let (alices, others) = (hash(), hash());
    store
        .create_upstream_trip(&alices, &trip("corp", Some(&alice), NOW + 60))
        .await
        .unwrap();
    store
        .create_upstream_trip(&others, &trip("other", None, NOW + 60))
        .await
        .unwrap();
    assert!(store.delete_user(&alice, 1).await.unwrap());
    assert!(store.upstream_link("corp", "a").await.unwrap().is_none());
    assert!(store
        .take_upstream_trip(&alices, NOW)
        .await
        .unwrap()
        .is_none());
    assert!(store.delete_upstream("other").await.unwrap());
    assert!(store.upstream_link("other", "b").await.unwrap().is_none());
    assert!(store
        .take_upstream_trip(&others, NOW)
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.upstreams().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_session_and_a_challenge_remember_their_upstream() {
    let (store, _) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let session = gatehouse::model::SessionRecord {
        sid: id(),
        cookie_hash: String::new(),
        user_id: alice.clone(),
        auth_time: NOW,
        amr: "fed".into(),
        expires_at: NOW + 3600,
    };
    let cookie_hash = hash();
    store
        .create_session(&cookie_hash, &session, &Default::default(), None, NOW)
        .await
        .unwrap();
    assert_eq!(
        store.session_federation(&cookie_hash).await.unwrap(),
        Federation::default()
    );
    let federation = Federation {
        upstream_id: Some("corp".into()),
        id_token: Some("eyJ.hint".into()),
    };
    store
        .set_session_federation(&session.sid, &federation)
        .await
        .unwrap();
    assert_eq!(
        store.session_federation(&cookie_hash).await.unwrap(),
        federation
    );
    let challenge = hash();
    store
        .create_mfa_challenge(&challenge, &alice, NOW, NOW + 300)
        .await
        .unwrap();
    store
        .set_challenge_first_factor(&challenge, "fed", &federation)
        .await
        .unwrap();
    let open = store.mfa_challenge(&challenge, NOW).await.unwrap().unwrap();
    assert_eq!(open.first_amr.as_deref(), Some("fed"));
    assert_eq!(open.federation, federation);
}

#[tokio::test]
async fn unlinking_at_once_never_leaves_an_account_without_a_way_in() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    store.insert_upstream(&upstream("corp")).await.unwrap();
    store.insert_upstream(&upstream("other")).await.unwrap();
    // No password (made through an upstream), two links.
    let mut new = new_user("dora");
    new.password_hash = String::new();
    let dora = store.insert_user(&new, false, NOW).await.unwrap().unwrap();
    store
        .insert_upstream_link(&link("corp", "a", &dora), None)
        .await
        .unwrap();
    store
        .insert_upstream_link(&link("other", "b", &dora), None)
        .await
        .unwrap();
    let results = race((&store, &other), |store, i| {
        let dora = dora.clone();
        let id = if i % 2 == 0 { "corp" } else { "other" };
        async move { store.unlink_unless_last(&dora, id).await.unwrap() }
    })
    .await;
    assert_eq!(results.iter().filter(|r| **r == Unlinked::Done).count(), 1);
    assert_eq!(
        store.upstream_links_of(&dora).await.unwrap().len(),
        1,
        "one way in stays"
    );
}

#[tokio::test]
async fn a_link_to_a_disabled_upstream_is_no_way_in() {
    let (store, _) = fresh_store().await;
    store.insert_upstream(&upstream("corp")).await.unwrap();
    let off = UpstreamRecord {
        enabled: false,
        ..upstream("off")
    };
    store.insert_upstream(&off).await.unwrap();
    let mut new = new_user("dora");
    new.password_hash = String::new();
    let dora = store.insert_user(&new, false, NOW).await.unwrap().unwrap();
    store
        .insert_upstream_link(&link("corp", "a", &dora), None)
        .await
        .unwrap();
    store
        .insert_upstream_link(&link("off", "b", &dora), None)
        .await
        .unwrap();
    assert_eq!(store.usable_links_of(&dora).await.unwrap(), 1);
    assert_eq!(
        store.unlink_unless_last(&dora, "corp").await.unwrap(),
        Unlinked::LastWay
    );
    assert_eq!(
        store.unlink_unless_last(&dora, "off").await.unwrap(),
        Unlinked::Done
    );
    assert_eq!(
        store.unlink_unless_last(&dora, "off").await.unwrap(),
        Unlinked::NotLinked
    );
    assert_eq!(store.links_to_upstream("corp").await.unwrap(), 1);
}
