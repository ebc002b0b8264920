//! Clients and consents: a client reads back as registered; a taken id is
//! refused, even to two admins racing; deleting a client takes its grants,
//! codes, consents and pending requests along; withdrawing consent also
//! revokes what the client holds for that user.

use super::*;
use crate::helpers::{count, count_with};
use gatehouse::model::Lifetimes;

#[tokio::test]
async fn a_client_reads_back_as_registered() {
    let (store, _url) = fresh_store().await;
    let mut registered = new_client("webapp");
    registered.secret_hash = None;
    registered.require_mfa = true;
    registered.is_admin = true;
    registered.lifetimes = Lifetimes {
        access_token: Some(120),
        refresh_token_idle: Some(600),
        refresh_token_absolute: None,
    };
    assert!(store.insert_client(&registered, NOW).await.unwrap());
    let found = store.client("webapp").await.unwrap().expect("stored");
    assert_eq!(found.client_id, "webapp");
    assert_eq!(found.name, "webapp app");
    assert_eq!(found.secret_hash, None);
    assert!(found.is_public());
    assert_eq!(found.redirect_uris, registered.redirect_uris);
    assert_eq!(
        found.post_logout_redirect_uris,
        registered.post_logout_redirect_uris
    );
    assert_eq!(
        found.grant_types,
        vec!["authorization_code", "refresh_token"]
    );
    assert_eq!(found.scopes, vec!["openid", "offline_access"]);
    assert!(found.require_consent);
    assert!(found.require_mfa);
    assert!(found.is_admin);
    assert_eq!(found.lifetimes, registered.lifetimes);
    assert!(store.client("nobody").await.unwrap().is_none());
}

#[tokio::test]
async fn a_taken_client_id_is_refused_and_the_first_kept() {
    let (store, url) = fresh_store().await;
    let first = new_client("webapp");
    assert!(store.insert_client(&first, NOW).await.unwrap());
    let mut second = new_client("webapp");
    second.name = "Impostor".into();
    assert!(!store.insert_client(&second, NOW).await.unwrap());
    let kept = store.client("webapp").await.unwrap().unwrap();
    assert_eq!(kept.name, "webapp app");
    assert_eq!(kept.secret_hash, first.secret_hash);
    assert_eq!(count(&url, "SELECT COUNT(*) AS n FROM clients").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_admins_racing_on_one_client_id_exactly_one_creates_it() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let results = race((&store, &other), |store, i| {
        let mut client = new_client("webapp");
        client.name = format!("racer {i}");
        async move { store.insert_client(&client, NOW).await }
    })
    .await;
    let mut created = 0;
    for result in results {
        if result.expect("no insert fails") {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    assert_eq!(count(&url, "SELECT COUNT(*) AS n FROM clients").await, 1);
}

#[tokio::test]
async fn an_upsert_replaces_the_settings_of_a_client() {
    let (store, url) = fresh_store().await;
    client(&store, "webapp").await;
    client(&store, "another").await;
    let mut changed = new_client("webapp");
    changed.name = "Renamed".into();
    changed.redirect_uris = vec!["https://new.example/cb".into()];
    changed.require_consent = false;
    store.upsert_client(&changed, NOW + 5).await.unwrap();
    let found = store.client("webapp").await.unwrap().unwrap();
    assert_eq!(found.name, "Renamed");
    assert_eq!(found.redirect_uris, vec!["https://new.example/cb"]);
    assert!(!found.require_consent);
    assert_eq!(found.secret_hash, changed.secret_hash);
    assert_eq!(count(&url, "SELECT COUNT(*) AS n FROM clients").await, 2);

    let ids: Vec<String> = store
        .list_clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(ids, vec!["another", "webapp"]);
    let mut uris = store.all_redirect_uris().await.unwrap();
    uris.sort();
    assert_eq!(
        uris,
        vec!["https://another.example/cb", "https://new.example/cb"]
    );

    let secret = hash();
    store
        .set_client_secret_hash("webapp", &secret, NOW)
        .await
        .unwrap();
    let found = store.client("webapp").await.unwrap().unwrap();
    assert_eq!(found.secret_hash, Some(secret));
}

#[tokio::test]
async fn the_longest_access_token_lifetime_counts_every_client() {
    let (store, _url) = fresh_store().await;
    client(&store, "plain").await;
    assert_eq!(store.longest_client_access_token_ttl().await.unwrap(), None);
    for (id, ttl) in [("short", 60), ("long", 900)] {
        let mut registered = new_client(id);
        registered.lifetimes.access_token = Some(ttl);
        assert!(store.insert_client(&registered, NOW).await.unwrap());
    }
    assert_eq!(
        store.longest_client_access_token_ttl().await.unwrap(),
        Some(900)
    );
}

#[tokio::test]
async fn deleting_a_client_takes_everything_of_it_along() {
    let (store, url, family) = store_with_family().await;
    let alice = family.user_id.as_str();
    let other = client(&store, "other").await;
    let kept = redeemed(&store, &other, alice).await;
    for client_id in [family.client_id.as_str(), other.as_str()] {
        store
            .save_consent(alice, client_id, &["openid".into()], NOW)
            .await
            .unwrap();
        store
            .save_auth_request(&hash(), client_id, "{}", NOW, NOW + 600)
            .await
            .unwrap();
    }

    assert!(store.delete_client(&family.client_id).await.unwrap());
    assert!(!store.delete_client(&family.client_id).await.unwrap());
    assert!(store.client(&family.client_id).await.unwrap().is_none());
    for table in ["grants", "authorization_codes", "consents", "auth_requests"] {
        let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE client_id = $1");
        let gone = count_with(&url, &sql, &[&family.client_id]).await;
        assert_eq!(gone, 0, "{table} of the deleted client");
        assert_eq!(
            count_with(&url, &sql, &[&other]).await,
            1,
            "{table} of the other"
        );
    }
    assert!(store
        .refresh_token(&family.refresh_hash)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .refresh_token(&kept.refresh_hash)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn consent_is_recorded_replaced_and_listed() {
    let (store, _url) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let webapp = client(&store, "webapp").await;
    let another = client(&store, "another").await;
    assert!(store
        .consented_scopes(&alice, &webapp)
        .await
        .unwrap()
        .is_empty());
    let scopes = vec!["openid".to_string(), "email".to_string()];
    store
        .save_consent(&alice, &webapp, &scopes, NOW)
        .await
        .unwrap();
    assert_eq!(
        store.consented_scopes(&alice, &webapp).await.unwrap(),
        scopes
    );
    store
        .save_consent(&alice, &webapp, &["openid".into()], NOW + 5)
        .await
        .unwrap();
    assert_eq!(
        store.consented_scopes(&alice, &webapp).await.unwrap(),
        vec!["openid"],
        "replaced, not merged"
    );
    store
        .save_consent(&alice, &another, &["profile".into()], NOW)
        .await
        .unwrap();
    let listed = store.consents_of_user(&alice).await.unwrap();
    let apps: Vec<(&str, &str)> = listed
        .iter()
        .map(|c| (c.client_id.as_str(), c.client_name.as_str()))
        .collect();
    assert_eq!(
        apps,
        vec![("another", "another app"), ("webapp", "webapp app")]
    );
    assert_eq!(listed[1].granted_at, NOW + 5);
}

#[tokio::test]
async fn withdrawing_consent_revokes_what_the_client_holds_for_the_user() {
    let (store, _url, family) = store_with_family().await;
    let (alice, webapp) = (family.user_id.as_str(), family.client_id.as_str());
    let other = client(&store, "other").await;
    let kept = redeemed(&store, &other, alice).await;
    let bob = user(&store, "bob").await;
    let bobs = redeemed(&store, webapp, &bob).await;
    store
        .save_consent(alice, webapp, &["openid".into()], NOW)
        .await
        .unwrap();

    assert!(store
        .revoke_application(alice, webapp, NOW + 10)
        .await
        .unwrap());
    assert!(store
        .consented_scopes(alice, webapp)
        .await
        .unwrap()
        .is_empty());
    let grant = store.grant(&family.grant_id).await.unwrap().unwrap();
    assert_eq!(grant.revoked_at, Some(NOW + 10));
    for untouched in [&kept.grant_id, &bobs.grant_id] {
        let grant = store.grant(untouched).await.unwrap().unwrap();
        assert_eq!(grant.revoked_at, None);
    }
    assert!(
        !store
            .revoke_application(alice, webapp, NOW + 20)
            .await
            .unwrap(),
        "nothing left to withdraw"
    );
}
