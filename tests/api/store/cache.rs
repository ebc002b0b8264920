//! The read cache never outlives a change. Every write that can make a
//! cached answer wrong (a revoked grant or token, a changed user or client)
//! moves the shared counter `cache_epoch.n` by one; a read through the cache
//! after such a write, on this store or on another polling the same
//! database, sees the new value; moving the counter by hand drops what a
//! polling store holds; a store that does not poll never uses its cache.

use super::*;
use crate::helpers::{count, execute};
use std::time::{Duration, Instant};

/// How often the stores here poll the counter: long enough that a slow test
/// machine does not make them stop trusting their cache midway.
const POLL: Duration = Duration::from_millis(500);

/// The shared counter as the database holds it (0 before the first change).
struct Epoch {
    url: String,
    n: i64,
}

impl Epoch {
    async fn read(url: &str) -> i64 {
        count(url, "SELECT COALESCE(MAX(n), 0) AS n FROM cache_epoch").await
    }

    async fn at(url: &str) -> Epoch {
        Epoch {
            url: url.into(),
            n: Epoch::read(url).await,
        }
    }

    /// Asserts that the last write moved the counter by exactly one.
    async fn moved_by(&mut self, what: &str) {
        let now = Epoch::read(&self.url).await;
        assert_eq!(now, self.n + 1, "{what} moves the cache epoch by one");
        self.n = now;
    }
}

/// A store's cache poller, stopped when the test ends however it ends.
struct Poller(tokio::task::JoinHandle<()>);

impl Drop for Poller {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts polling on `store` and waits until its cache is in use.
async fn polling(store: &Store) -> Poller {
    let poller = {
        let store = store.clone();
        Poller(tokio::spawn(async move { store.sync_cache(POLL).await }))
    };
    let started = Instant::now();
    while !store.read_cache_stats().active {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the cache comes into use"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    poller
}

#[tokio::test]
async fn every_invalidating_write_moves_the_epoch_by_one() {
    let (store, url, family) = store_with_family().await;
    let (alice, webapp) = (family.user_id.as_str(), family.client_id.as_str());
    let mut epoch = Epoch::at(&url).await;
    assert_eq!(
        epoch.n, 0,
        "creating users, clients, codes and grants moves nothing"
    );

    store.revoke_access_token(&id(), NOW + 300).await.unwrap();
    epoch.moved_by("revoke_access_token").await;
    store.revoke_grant(&family.grant_id, NOW).await.unwrap();
    epoch.moved_by("revoke_grant").await;
    store.revoke_user_grants(alice, NOW).await.unwrap();
    epoch.moved_by("revoke_user_grants").await;
    store.revoke_application(alice, webapp, NOW).await.unwrap();
    epoch.moved_by("revoke_application").await;

    store.upsert_client(&new_client(webapp), NOW).await.unwrap();
    epoch.moved_by("upsert_client").await;
    store
        .set_client_secret_hash(webapp, &hash(), NOW)
        .await
        .unwrap();
    epoch.moved_by("set_client_secret_hash").await;

    store
        .upsert_user(&new_user("alice"), NOW, false)
        .await
        .unwrap();
    epoch.moved_by("upsert_user").await;
    store
        .update_profile(
            alice,
            (Some("A"), None, false),
            &Default::default(),
            None,
            None,
            NOW,
        )
        .await
        .unwrap();
    epoch.moved_by("update_profile").await;
    store
        .set_password_hash(alice, "$argon2id$new", None, NOW)
        .await
        .unwrap();
    epoch.moved_by("set_password_hash").await;
    store
        .reset_password_hash(alice, "$argon2id$reset", true, NOW)
        .await
        .unwrap();
    epoch.moved_by("reset_password_hash").await;
    store
        .update_user(
            alice,
            &NewUser {
                is_admin: true,
                ..NewUser::default()
            },
            NOW,
        )
        .await
        .unwrap();
    epoch.moved_by("update_user").await;
    store.set_user_disabled(alice, true, NOW).await.unwrap();
    epoch.moved_by("set_user_disabled").await;
    store.set_pending_totp(alice, "PENDING", NOW).await.unwrap();
    epoch.moved_by("set_pending_totp").await;
    let confirmed = store
        .confirm_totp(alice, "PENDING", 1, &[hash()], None, NOW)
        .await
        .unwrap();
    assert!(confirmed);
    epoch.moved_by("confirm_totp").await;
    store.remove_totp(alice, None, NOW).await.unwrap();
    epoch.moved_by("remove_totp").await;

    store.upsert_group("team", "", NOW).await.unwrap();
    epoch.moved_by("upsert_group").await;
    store.add_member("team", alice).await.unwrap();
    epoch.moved_by("add_member").await;
    store.remove_member("team", alice).await.unwrap();
    epoch.moved_by("remove_member").await;
    store
        .set_memberships(alice, &["team".to_string()])
        .await
        .unwrap();
    epoch.moved_by("set_memberships").await;
    let mut attributes = serde_json::Map::new();
    attributes.insert("tenant".into(), serde_json::json!("acme"));
    store
        .set_user_claims(alice, &attributes, NOW)
        .await
        .unwrap();
    epoch.moved_by("set_user_claims").await;
    store.upsert_scope(&scope("tenant"), NOW).await.unwrap();
    epoch.moved_by("upsert_scope").await;
    store.delete_scope("tenant").await.unwrap();
    epoch.moved_by("delete_scope").await;
    store.upsert_api(&api(API), NOW).await.unwrap();
    epoch.moved_by("upsert_api").await;
    store.delete_api(API).await.unwrap();
    epoch.moved_by("delete_api").await;
    store.delete_group("team").await.unwrap();
    epoch.moved_by("delete_group").await;

    assert!(store.delete_client(webapp).await.unwrap());
    epoch.moved_by("delete_client").await;
    assert!(store.delete_user(alice, 1).await.unwrap());
    epoch.moved_by("delete_user").await;
}

/// Waits until every polling store has acted on the counter's latest value,
/// so that no drop of a cache is still to come.
async fn settled(url: &str) {
    let lagging = "SELECT COUNT(*) AS n FROM cache_replicas
                   WHERE seen < (SELECT COALESCE(MAX(n), 0) FROM cache_epoch)";
    let started = Instant::now();
    while count(url, lagging).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the pollers catch up"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Once the pollers have settled, runs `$read` twice on `$store` and
/// asserts that the second answer came from memory: the write that follows
/// is then what has to drop it.
macro_rules! cached {
    ($store:expr, $url:expr, $read:expr) => {{
        settled($url).await;
        let before = $store.read_cache_stats();
        $read;
        $read;
        let after = $store.read_cache_stats();
        assert_eq!(
            after.hits - before.hits,
            1,
            "from memory: {before:?} → {after:?}"
        );
    }};
}

#[tokio::test]
async fn a_read_through_the_cache_after_a_write_sees_the_new_value() {
    let (store, url, family) = store_with_family().await;
    let _poller = polling(&store).await;
    let (alice, webapp) = (family.user_id.as_str(), family.client_id.as_str());
    let grant = Some(family.grant_id.as_str());
    let other = redeemed(&store, webapp, alice).await;
    let other_grant = Some(other.grant_id.as_str());
    let (jti, other_jti) = (id(), id());

    cached!(store, &url, store.client(webapp).await.unwrap().unwrap());
    let secret = hash();
    store
        .set_client_secret_hash(webapp, &secret, NOW)
        .await
        .unwrap();
    let client = store.client(webapp).await.unwrap().unwrap();
    assert_eq!(client.secret_hash, Some(secret));

    cached!(
        store,
        &url,
        store.cached_user(alice).await.unwrap().unwrap()
    );
    store
        .update_profile(
            alice,
            (Some("Alice Renamed"), None, false),
            &Default::default(),
            None,
            None,
            NOW,
        )
        .await
        .unwrap();
    let user = store.cached_user(alice).await.unwrap().unwrap();
    assert_eq!(user.name.as_deref(), Some("Alice Renamed"));

    cached!(
        store,
        &url,
        store.cached_user(alice).await.unwrap().unwrap()
    );
    store.set_user_disabled(alice, true, NOW).await.unwrap();
    assert!(store.cached_user(alice).await.unwrap().unwrap().disabled);

    cached!(
        store,
        &url,
        assert!(store.access_token_usable(&jti, grant, NOW).await.unwrap())
    );
    store.revoke_grant(&family.grant_id, NOW).await.unwrap();
    assert!(!store.access_token_usable(&jti, grant, NOW).await.unwrap());

    let usable = || store.access_token_usable(&other_jti, other_grant, NOW);
    cached!(store, &url, assert!(usable().await.unwrap()));
    store
        .revoke_access_token(&other_jti, NOW + 300)
        .await
        .unwrap();
    assert!(!usable().await.unwrap());

    cached!(store, &url, store.client(webapp).await.unwrap().unwrap());
    assert!(store.delete_client(webapp).await.unwrap());
    assert!(store.client(webapp).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_store_is_in_force_on_another_when_the_write_returns() {
    let (writer, url, family) = store_with_family().await;
    let reader = replica(&url).await;
    let _writer_polls = polling(&writer).await;
    let _reader_polls = polling(&reader).await;
    let (alice, webapp) = (family.user_id.as_str(), family.client_id.as_str());
    let grant = Some(family.grant_id.as_str());
    let jti = id();
    let mut epoch = Epoch::at(&url).await;

    cached!(reader, &url, reader.client(webapp).await.unwrap().unwrap());
    let secret = hash();
    writer
        .set_client_secret_hash(webapp, &secret, NOW)
        .await
        .unwrap();
    epoch.moved_by("set_client_secret_hash").await;
    let client = reader.client(webapp).await.unwrap().unwrap();
    assert_eq!(client.secret_hash, Some(secret), "no stale secret");

    cached!(
        reader,
        &url,
        reader.cached_user(alice).await.unwrap().unwrap()
    );
    writer
        .update_profile(
            alice,
            (Some("Alice Renamed"), None, false),
            &Default::default(),
            None,
            None,
            NOW,
        )
        .await
        .unwrap();
    epoch.moved_by("update_profile").await;
    let user = reader.cached_user(alice).await.unwrap().unwrap();
    assert_eq!(
        user.name.as_deref(),
        Some("Alice Renamed"),
        "no stale claims"
    );

    let usable = || reader.access_token_usable(&jti, grant, NOW);
    cached!(reader, &url, assert!(usable().await.unwrap()));
    writer.revoke_grant(&family.grant_id, NOW).await.unwrap();
    epoch.moved_by("revoke_grant").await;
    assert!(
        !usable().await.unwrap(),
        "no revoked token is served as usable"
    );
}

#[tokio::test]
async fn moving_the_counter_drops_what_a_polling_store_holds() {
    let (store, url, family) = store_with_family().await;
    let _poller = polling(&store).await;
    let webapp = family.client_id.as_str();
    let before = store.client(webapp).await.unwrap().unwrap();
    assert_eq!(before.name, "webapp app");

    // A change made without the store (as another version of the server or
    // an operator's SQL would) is not seen while the counter stands...
    let renamed = execute(
        &url,
        "UPDATE clients SET name = 'Renamed' WHERE client_id = 'webapp'",
    );
    assert_eq!(renamed.await, 1);
    let cached = store.client(webapp).await.unwrap().unwrap();
    assert_eq!(cached.name, "webapp app", "answered from memory");

    // ...and is, one poll after the counter moved.
    let bumped = execute(
        &url,
        "INSERT INTO cache_epoch (id, n) VALUES (1, 1)
         ON CONFLICT (id) DO UPDATE SET n = cache_epoch.n + 1",
    );
    assert_eq!(bumped.await, 1);
    let deadline = Instant::now() + 4 * POLL;
    let mut name = String::new();
    while Instant::now() < deadline {
        name = store.client(webapp).await.unwrap().unwrap().name;
        if name == "Renamed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        name, "Renamed",
        "the cache was dropped within a poll or two"
    );
}

#[tokio::test]
async fn a_store_that_does_not_poll_reads_through() {
    let (store, url, family) = store_with_family().await;
    let webapp = family.client_id.as_str();
    let before = store.read_cache_stats();
    assert!(!before.active);
    store.client(webapp).await.unwrap().unwrap();
    let renamed = execute(
        &url,
        "UPDATE clients SET name = 'Renamed' WHERE client_id = 'webapp'",
    );
    assert_eq!(renamed.await, 1);
    let client = store.client(webapp).await.unwrap().unwrap();
    assert_eq!(client.name, "Renamed");
    let after = store.read_cache_stats();
    assert_eq!(
        (after.hits, after.misses, after.bypassed - before.bypassed),
        (0, 0, 2),
        "both reads went to the database"
    );
}
