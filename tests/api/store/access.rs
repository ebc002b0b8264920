//! Groups, memberships, custom attributes, custom scopes and APIs: a user
//! reads back with their groups (sorted, in the same read), memberships are
//! set exactly, deleting a group or a user takes the memberships along, and
//! APIs and scopes read back as stored, through the cache too.

use super::*;
use crate::helpers::count;

#[tokio::test]
async fn a_user_reads_back_with_groups_and_attributes() {
    let (store, _url) = fresh_store().await;
    let alice = user(&store, "alice").await;
    for g in ["sales", "engineering", "ops"] {
        store.upsert_group(g, "", NOW).await.unwrap();
    }
    assert!(store.add_member("sales", &alice).await.unwrap());
    assert!(store.add_member("engineering", &alice).await.unwrap());
    assert!(
        !store.add_member("engineering", &alice).await.unwrap(),
        "once"
    );
    let mut attributes = serde_json::Map::new();
    attributes.insert("tenant".into(), serde_json::json!("acme"));
    attributes.insert("level".into(), serde_json::json!(3));
    store
        .set_user_claims(&alice, &attributes, NOW)
        .await
        .unwrap();
    for found in [
        store.user_by_id(&alice).await.unwrap().unwrap(),
        store.user_by_username("alice").await.unwrap().unwrap(),
    ] {
        assert_eq!(found.groups, vec!["engineering", "sales"]);
        assert_eq!(found.claims, attributes);
        assert!(found.email_verified);
    }
    let (page, _) = store.list_users(None, 10, 0).await.unwrap();
    assert_eq!(page[0].groups, vec!["engineering", "sales"]);

    store
        .set_memberships(&alice, &["ops".to_string()])
        .await
        .unwrap();
    let found = store.user_by_id(&alice).await.unwrap().unwrap();
    assert_eq!(found.groups, vec!["ops"]);
    assert!(store.remove_member("ops", &alice).await.unwrap());
    assert!(!store.remove_member("ops", &alice).await.unwrap());
    assert!(store
        .user_by_id(&alice)
        .await
        .unwrap()
        .unwrap()
        .groups
        .is_empty());
}

#[tokio::test]
async fn groups_count_members_and_take_them_along_when_deleted() {
    let (store, url) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    store.upsert_group("team", "The team", NOW).await.unwrap();
    assert!(!store.insert_group("team", "again", NOW).await.unwrap());
    store.add_member("team", &alice).await.unwrap();
    store.add_member("team", &bob).await.unwrap();
    let groups = store.groups().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].description, "The team");
    assert_eq!(groups[0].members, 2);
    assert_eq!(
        store.group_members("team").await.unwrap(),
        vec!["alice", "bob"]
    );

    assert!(store.delete_user(&bob, 1).await.unwrap());
    assert_eq!(store.groups().await.unwrap()[0].members, 1);
    assert!(store.delete_group("team").await.unwrap());
    assert!(!store.delete_group("team").await.unwrap());
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM group_members").await,
        0
    );
    assert!(store
        .user_by_id(&alice)
        .await
        .unwrap()
        .unwrap()
        .groups
        .is_empty());
}

#[tokio::test]
async fn apis_and_custom_scopes_read_back_as_stored() {
    let (store, _url) = fresh_store().await;
    store.upsert_api(&api(API), NOW).await.unwrap();
    let mut other = api("urn:example:other");
    other.signing_alg = "EdDSA".into();
    other.access_token_ttl = None;
    store.upsert_api(&other, NOW).await.unwrap();
    assert_eq!(*store.api(API).await.unwrap().unwrap(), api(API));
    assert_eq!(store.apis().await.unwrap().len(), 2);
    assert_eq!(
        store.api_signing_algs().await.unwrap(),
        vec!["ES256", "EdDSA"]
    );
    // Replacing keeps one row.
    let mut renamed = api(API);
    renamed.name = "Renamed".into();
    store.upsert_api(&renamed, NOW + 1).await.unwrap();
    assert_eq!(store.api(API).await.unwrap().unwrap().name, "Renamed");
    assert_eq!(store.apis().await.unwrap().len(), 2);
    assert!(store.delete_api(API).await.unwrap());
    assert!(store.api(API).await.unwrap().is_none());

    store.upsert_scope(&scope("tenant"), NOW).await.unwrap();
    store.upsert_scope(&scope("region"), NOW).await.unwrap();
    let scopes = store.custom_scopes().await.unwrap();
    assert_eq!(*scopes, vec![scope("region"), scope("tenant")]);
    assert!(store.delete_scope("region").await.unwrap());
    assert_eq!(*store.custom_scopes().await.unwrap(), vec![scope("tenant")]);
}

#[tokio::test]
async fn a_code_and_its_grant_keep_their_resource() {
    let (store, _url, family) = store_with_family().await;
    let code = store.code(&family.code_hash).await.unwrap().unwrap();
    assert_eq!(code.resource.as_deref(), Some(API));
    let grant = store.grant(&family.grant_id).await.unwrap().unwrap();
    assert_eq!(grant.resource.as_deref(), Some(API));
}
