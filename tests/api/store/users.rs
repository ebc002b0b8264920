//! Users: a taken username is refused with a clear answer, not an error;
//! the seed's upsert is idempotent; a TOTP step and an enrolment are each
//! claimed once; deleting a user takes everything of theirs along.

use super::*;
use crate::helpers::{count, count_with};

#[tokio::test]
async fn a_user_reads_back_as_created() {
    let (store, _url) = fresh_store().await;
    let mut new = new_user("alice");
    new.is_admin = true;
    let id = store.insert_user(&new, true, NOW).await.unwrap().unwrap();
    for found in [
        store.user_by_id(&id).await.unwrap(),
        store.user_by_username("alice").await.unwrap(),
    ] {
        let found = found.expect("stored");
        assert_eq!(found.id, id);
        assert_eq!(found.username, "alice");
        assert_eq!(found.email.as_deref(), Some("alice@example.com"));
        assert_eq!(found.name.as_deref(), Some("alice Example"));
        assert_eq!(found.password_hash, "$argon2id$placeholder");
        assert!(found.is_admin);
        assert!(!found.disabled);
        assert!(found.must_change_password);
        assert_eq!(found.totp_secret, None);
        assert_eq!(found.totp_pending_secret, None);
    }
    assert!(store.user_by_username("Alice").await.unwrap().is_none());
    assert!(store.user_by_id("no-such-id").await.unwrap().is_none());
}

#[tokio::test]
async fn a_taken_username_is_refused_and_the_first_user_kept() {
    let (store, url) = fresh_store().await;
    let first = user(&store, "alice").await;
    let mut again = new_user("alice");
    again.email = Some("mallory@example.com".into());
    let refused = store.insert_user(&again, false, NOW).await;
    assert_eq!(refused.expect("a clear answer, not an error"), None);
    assert_eq!(count(&url, "SELECT COUNT(*) AS n FROM users").await, 1);
    let kept = store.user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(kept.id, first);
    assert_eq!(kept.email.as_deref(), Some("alice@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_sign_ups_with_one_username_exactly_one_succeeds() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let results = race((&store, &other), |store, _| async move {
        store.insert_user(&new_user("alice"), false, NOW).await
    })
    .await;
    let mut created = 0;
    for result in results {
        if result.expect("no insert fails").is_some() {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    assert_eq!(count(&url, "SELECT COUNT(*) AS n FROM users").await, 1);
}

#[tokio::test]
async fn the_seed_upsert_is_idempotent_and_keeps_an_enrolled_key() {
    let (store, url) = fresh_store().await;
    let id = store
        .upsert_user(&new_user("bob"), NOW, false)
        .await
        .unwrap();
    store.set_pending_totp(&id, "ENROLLED", NOW).await.unwrap();
    assert!(store
        .confirm_totp(&id, "ENROLLED", 1, &[], None, NOW)
        .await
        .unwrap());

    let mut changed = new_user("bob");
    changed.email = Some("bob@new.example".into());
    let again = store.upsert_user(&changed, NOW + 1, false).await.unwrap();
    assert_eq!(again, id, "the same user");
    let bob = store.user_by_id(&id).await.unwrap().unwrap();
    assert_eq!(bob.email.as_deref(), Some("bob@new.example"));
    assert_eq!(bob.totp_secret.as_deref(), Some("ENROLLED"), "kept");
    assert_eq!(count(&url, "SELECT COUNT(*) AS n FROM users").await, 1);
}

#[tokio::test]
async fn a_totp_step_is_claimed_once_and_never_an_older_one() {
    let (store, _url) = fresh_store().await;
    let alice = user(&store, "alice").await;
    assert!(store.claim_totp_step(&alice, 10).await.unwrap());
    assert!(
        !store.claim_totp_step(&alice, 10).await.unwrap(),
        "replayed"
    );
    assert!(!store.claim_totp_step(&alice, 9).await.unwrap(), "older");
    assert!(store.claim_totp_step(&alice, 11).await.unwrap());
    assert!(!store.claim_totp_step("no-such-user", 12).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_claims_of_one_totp_step_exactly_one_wins() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let alice = user(&store, "alice").await;
    let results = race((&store, &other), |store, _| {
        let alice = alice.clone();
        async move { store.claim_totp_step(&alice, 42).await }
    })
    .await;
    let mut won = 0;
    for result in results {
        if result.expect("no claim fails") {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn an_enrolment_is_confirmed_once_with_its_own_key() {
    let (store, _url) = fresh_store().await;
    let alice = user(&store, "alice").await;
    let codes = vec![hash(), hash(), hash()];
    store.set_pending_totp(&alice, "FIRST", NOW).await.unwrap();
    store.set_pending_totp(&alice, "SECOND", NOW).await.unwrap();
    assert!(
        !store
            .confirm_totp(&alice, "FIRST", 1, &codes, None, NOW)
            .await
            .unwrap(),
        "a replaced enrolment"
    );
    assert!(store
        .confirm_totp(&alice, "SECOND", 1, &codes, None, NOW)
        .await
        .unwrap());
    assert!(!store
        .confirm_totp(&alice, "SECOND", 2, &codes, None, NOW)
        .await
        .unwrap());
    let enrolled = store.user_by_id(&alice).await.unwrap().unwrap();
    assert_eq!(enrolled.totp_secret.as_deref(), Some("SECOND"));
    assert_eq!(enrolled.totp_pending_secret, None);
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 3);
    assert!(
        !store.claim_totp_step(&alice, 1).await.unwrap(),
        "step 1 was used"
    );

    store.remove_totp(&alice, None, NOW).await.unwrap();
    let removed = store.user_by_id(&alice).await.unwrap().unwrap();
    assert_eq!(removed.totp_secret, None);
    assert_eq!(store.recovery_codes_left(&alice).await.unwrap(), 0);
    assert!(
        store.claim_totp_step(&alice, 1).await.unwrap(),
        "a new start"
    );
}

#[tokio::test]
async fn deleting_a_user_takes_everything_of_theirs_along() {
    let (store, url, family) = store_with_family().await;
    let alice = family.user_id.as_str();
    let bob = user(&store, "bob").await;
    let bobs = redeemed(&store, &family.client_id, &bob).await;
    for user_id in [alice, bob.as_str()] {
        let session = gatehouse::model::SessionRecord {
            sid: id(),
            cookie_hash: String::new(),
            user_id: user_id.into(),
            auth_time: NOW,
            amr: "pwd".into(),
            expires_at: NOW + 600,
        };
        store
            .create_session(&hash(), &session, &Default::default(), None, NOW)
            .await
            .unwrap();
        store
            .save_consent(user_id, &family.client_id, &["openid".into()], NOW)
            .await
            .unwrap();
        store
            .create_mfa_challenge(&hash(), user_id, NOW, NOW + 300)
            .await
            .unwrap();
        store
            .replace_recovery_codes(user_id, &[hash()], NOW)
            .await
            .unwrap();
    }

    assert!(store.delete_user(alice, 1).await.unwrap());
    assert!(!store.delete_user(alice, 1).await.unwrap(), "already gone");
    assert!(store.user_by_id(alice).await.unwrap().is_none());
    for table in [
        "grants",
        "authorization_codes",
        "consents",
        "browser_sessions",
        "mfa_challenges",
        "recovery_codes",
    ] {
        let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE user_id = $1");
        assert_eq!(
            count_with(&url, &sql, &[alice]).await,
            0,
            "{table} of alice"
        );
        assert_eq!(count_with(&url, &sql, &[&bob]).await, 1, "{table} of bob");
    }
    assert!(store
        .refresh_token(&family.refresh_hash)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .refresh_token(&bobs.refresh_hash)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn users_are_searched_by_the_start_of_their_words() {
    let (store, _url) = fresh_store().await;
    for name in ["al_ice", "alxice", "bob", "carol%"] {
        user(&store, name).await;
    }
    let search = |q: &'static str| {
        let store = store.clone();
        async move {
            let (found, total) = store.list_users(Some(q), 10, 0).await.unwrap();
            assert!(total.exact, "{q}");
            let names: Vec<String> = found.into_iter().map(|u| u.username).collect();
            assert_eq!(total.count, names.len() as i64, "{q}");
            names
        }
    };
    // `_`, `%` and the like separate words and match nothing themselves.
    assert_eq!(search("al").await, ["al_ice", "alxice"]);
    assert_eq!(
        search("ice").await,
        ["al_ice"],
        "ice starts a word of al_ice"
    );
    assert_eq!(
        search("L_I").await,
        Vec::<String>::new(),
        "l starts no word"
    );
    assert_eq!(search("AL_I").await, ["al_ice"]);
    assert_eq!(search("carol%").await, ["carol%"]);
    assert_eq!(search("%").await, Vec::<String>::new());
    // Name and email are searched too ("<username> Example").
    assert_eq!(search("example").await.len(), 4);
    assert_eq!(search("bob@example.com").await, ["bob"]);
    let (page, total) = store.list_users(None, 2, 1).await.unwrap();
    let names: Vec<&str> = page.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, vec!["alxice", "bob"]);
    assert_eq!((total.count, total.exact), (4, true));
}

#[tokio::test]
async fn an_admin_exists_only_while_one_is_enabled() {
    let (store, _url) = fresh_store().await;
    user(&store, "alice").await;
    assert!(!store.admin_exists().await.unwrap());
    let mut admin = new_user("root");
    admin.is_admin = true;
    let root = store
        .insert_user(&admin, false, NOW)
        .await
        .unwrap()
        .unwrap();
    assert!(store.admin_exists().await.unwrap());
    store.set_user_disabled(&root, true, NOW).await.unwrap();
    assert!(!store.admin_exists().await.unwrap());
}
