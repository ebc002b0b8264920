//! One-time email links and sign-ups waiting for theirs: a link is stored
//! with its message in one transaction, only the newest of a purpose works,
//! it works once (even when two replicas race), and using one changes the
//! account in one transaction with everything that goes with it.

use super::*;
use crate::helpers::count;
use gatehouse::model::{
    Device, EmailTokenPurpose, MailKind, NewEmailToken, NewMail, SessionRecord,
};
use gatehouse::store::Registration;

fn mail(to: &str) -> NewMail {
    NewMail {
        id: id(),
        message_id: format!("<{}@test>", id()),
        kind: MailKind::Reset,
        recipient: to.into(),
        subject: "s".into(),
        text_body: "t".into(),
        html_body: "h".into(),
    }
}

fn link(user_id: &str, purpose: EmailTokenPurpose, email: &str) -> NewEmailToken {
    NewEmailToken {
        token_hash: hash(),
        purpose,
        user_id: user_id.into(),
        email: email.into(),
        expires_at: NOW + 1800,
    }
}

async fn with_address(store: &Store, username: &str, email: &str) -> String {
    let mut new = new_user(username);
    new.email = Some(email.into());
    new.email_verified = false;
    store.insert_user(&new, false, NOW).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_link_and_its_message_are_stored_together_and_only_the_newest_works() {
    let (store, url) = fresh_store().await;
    let alice = with_address(&store, "alice", "alice@example.com").await;
    let first = link(&alice, EmailTokenPurpose::Reset, "alice@example.com");
    store
        .issue_email_token(&first, &mail("alice@example.com"), NOW)
        .await
        .unwrap();
    assert_eq!(count(&url, "SELECT COUNT(*) AS n FROM outbox").await, 1);
    let second = link(&alice, EmailTokenPurpose::Reset, "alice@example.com");
    store
        .issue_email_token(&second, &mail("alice@example.com"), NOW + 1)
        .await
        .unwrap();
    let found = |hash: String| {
        let store = store.clone();
        async move {
            store
                .email_token(&hash, EmailTokenPurpose::Reset, NOW + 2)
                .await
                .unwrap()
        }
    };
    assert_eq!(found(first.token_hash.clone()).await, None);
    assert_eq!(
        found(second.token_hash.clone()).await.unwrap().user_id,
        alice
    );
    // A link of another purpose is another matter.
    assert_eq!(
        store
            .email_token(&second.token_hash, EmailTokenPurpose::Verify, NOW + 2)
            .await
            .unwrap(),
        None
    );
    assert!(store
        .email_token_issued_since(&alice, EmailTokenPurpose::Reset, NOW + 1)
        .await
        .unwrap());
    assert!(!store
        .email_token_issued_since(&alice, EmailTokenPurpose::Reset, NOW + 2)
        .await
        .unwrap());

    // A duplicate message id fails the whole transaction: no link either.
    let third = link(&alice, EmailTokenPurpose::Verify, "alice@example.com");
    let mut duplicate = mail("alice@example.com");
    duplicate.message_id = "<same@test>".into();
    store.enqueue_mail(&duplicate, NOW).await.unwrap();
    duplicate.id = id();
    assert!(store
        .issue_email_token(&third, &duplicate, NOW)
        .await
        .is_err());
    assert_eq!(
        store
            .email_token(&third.token_hash, EmailTokenPurpose::Verify, NOW)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reset_link_works_once_even_when_replicas_race_and_does_everything_at_once() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let alice = with_address(&store, "alice", "alice@example.com").await;
    let session = SessionRecord {
        sid: id(),
        cookie_hash: String::new(),
        user_id: alice.clone(),
        auth_time: NOW,
        amr: "pwd".into(),
        expires_at: NOW + 600,
    };
    store
        .create_session(&hash(), &session, &Device::default(), None, NOW)
        .await
        .unwrap();
    let reset = link(&alice, EmailTokenPurpose::Reset, "alice@example.com");
    store
        .issue_email_token(&reset, &mail("alice@example.com"), NOW)
        .await
        .unwrap();
    let invite = link(&alice, EmailTokenPurpose::Invite, "alice@example.com");
    store
        .issue_email_token(&invite, &mail("alice@example.com"), NOW)
        .await
        .unwrap();
    let hash = reset.token_hash.clone();
    let results = race((&store, &other), move |store, i| {
        let hash = hash.clone();
        async move {
            store
                .set_password_by_token(
                    &hash,
                    EmailTokenPurpose::Reset,
                    &format!("$argon2id$racer{i}"),
                    Some(&mail("alice@example.com")),
                    NOW + 5,
                )
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(results.iter().filter(|r| r.is_some()).count(), 1);
    let user = store.user_by_id(&alice).await.unwrap().unwrap();
    assert!(user.password_hash.starts_with("$argon2id$racer"));
    assert!(user.email_verified, "reading the link proved the address");
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM browser_sessions").await,
        0
    );
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM email_tokens").await,
        0,
        "the invitation died with the reset"
    );
    // Two links and one notice.
    assert_eq!(count(&url, "SELECT COUNT(*) AS n FROM outbox").await, 3);
}

#[tokio::test]
async fn a_link_verifies_only_the_address_it_was_sent_to_and_not_after_its_end() {
    let (store, _url) = fresh_store().await;
    let alice = with_address(&store, "alice", "alice@example.com").await;
    let old = link(&alice, EmailTokenPurpose::Verify, "Alice@Example.com");
    store
        .issue_email_token(&old, &mail("alice@example.com"), NOW)
        .await
        .unwrap();
    assert!(store
        .verify_email_by_token(&old.token_hash, NOW + 1)
        .await
        .unwrap()
        .is_some());
    assert!(
        store
            .user_by_id(&alice)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );

    let bob = with_address(&store, "bob", "bob@example.com").await;
    let sent = link(&bob, EmailTokenPurpose::Verify, "bob@example.com");
    store
        .issue_email_token(&sent, &mail("bob@example.com"), NOW)
        .await
        .unwrap();
    let mut changed = new_user("bob");
    changed.email = Some("bob@elsewhere.org".into());
    changed.email_verified = false;
    store.update_user(&bob, &changed, NOW).await.unwrap();
    assert_eq!(
        store
            .verify_email_by_token(&sent.token_hash, NOW + 1)
            .await
            .unwrap(),
        None
    );
    assert!(
        !store
            .user_by_id(&bob)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );

    let late = link(&bob, EmailTokenPurpose::Verify, "bob@elsewhere.org");
    store
        .issue_email_token(&late, &mail("bob@elsewhere.org"), NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .verify_email_by_token(&late.token_hash, NOW + 1800)
            .await
            .unwrap(),
        None,
        "expired at its end"
    );
}

#[tokio::test]
async fn a_sign_up_is_taken_once_and_not_after_its_end() {
    let (store, url) = fresh_store().await;
    let waiting = Registration {
        token_hash: hash(),
        email: "new@example.net".into(),
        name: Some("New".into()),
        password_hash: "$argon2id$x".into(),
        expires_at: NOW + 60,
    };
    let mut message = mail("new@example.net");
    message.kind = MailKind::Register;
    store
        .insert_registration(&waiting, &message, NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .registration_mail_since("NEW@example.net", NOW)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .registration(&waiting.token_hash, NOW + 1)
            .await
            .unwrap(),
        Some(waiting.clone())
    );
    assert_eq!(
        store
            .take_registration(&waiting.token_hash, NOW + 1)
            .await
            .unwrap(),
        Some(waiting.clone())
    );
    assert_eq!(
        store
            .take_registration(&waiting.token_hash, NOW + 1)
            .await
            .unwrap(),
        None
    );
    let expired = Registration {
        token_hash: hash(),
        ..waiting
    };
    store
        .insert_registration(&expired, &mail("new@example.net"), NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .take_registration(&expired.token_hash, NOW + 60)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM registrations").await,
        0
    );
    assert!(!store
        .address_or_username_taken("new@example.net")
        .await
        .unwrap());
    user(&store, "alice").await;
    assert!(store
        .address_or_username_taken("ALICE@example.com")
        .await
        .unwrap());
}
