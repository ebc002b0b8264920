//! The outbox contract: of senders racing for one due message exactly one
//! claims it; a claim is a lease that lapses, after which another sender
//! may claim the message; a sender that lost its lease can neither mark the
//! message sent nor failed; a sent message's bodies are erased; pruning
//! removes sent mail after 30 days and expired email links.

use super::*;
use crate::helpers::count;
use gatehouse::model::{EmailTokenPurpose, MailKind, NewEmailToken, NewMail, NewUser, OutboxState};

const DAY: i64 = 86_400;

fn mail(to: &str) -> NewMail {
    NewMail {
        id: id(),
        message_id: format!("<{}@id.example.com>", id()),
        kind: MailKind::Invite,
        recipient: to.into(),
        subject: "You are invited".into(),
        text_body: "https://id.example.com/invitation?token=secret".into(),
        html_body: "<a href=\"https://id.example.com/invitation?token=secret\">Accept</a>".into(),
    }
}

/// What a sender's round claims: every due message, one at a time.
async fn claim_due(
    store: &Store,
    claimer: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<gatehouse::model::OutboxRecord>, gatehouse::store::StoreError> {
    let mut claimed = Vec::new();
    for id in store.due_mail("email", now, limit).await? {
        if let Some(mail) = store
            .claim_mail(&id, "email", claimer, now, lease_until)
            .await?
        {
            claimed.push(mail);
        }
    }
    Ok(claimed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_senders_racing_for_one_message_exactly_one_claims_it() {
    let (store, url) = fresh_store().await;
    let other = replica(&url).await;
    let message = mail("carol@example.com");
    store.enqueue_mail(&message, NOW).await.unwrap();
    let claims = race((&store, &other), |store, i| async move {
        claim_due(&store, &format!("sender-{i}"), NOW, NOW + 300, 20)
            .await
            .unwrap()
    })
    .await;
    let winners: Vec<_> = claims.iter().filter(|c| !c.is_empty()).collect();
    assert_eq!(winners.len(), 1, "exactly one sender holds it: {claims:?}");
    assert_eq!(winners[0][0].id, message.id);
    assert_eq!(
        winners[0][0].text_body, message.text_body,
        "the claimer reads the body"
    );
    eprintln!(
        "fault 4, two senders: {} claimers on two stores raced for {}; {} won",
        RACERS,
        message.message_id,
        winners.len()
    );
}

#[tokio::test]
async fn a_lapsed_lease_is_claimed_again_and_its_old_holder_changes_nothing() {
    let (store, _url) = fresh_store().await;
    let message = mail("carol@example.com");
    store.enqueue_mail(&message, NOW).await.unwrap();
    let first = claim_due(&store, "a", NOW, NOW + 300, 20).await.unwrap();
    assert_eq!(first.len(), 1);
    // While the lease holds, nobody else gets it.
    assert!(claim_due(&store, "b", NOW + 300, NOW + 600, 20)
        .await
        .unwrap()
        .is_empty());
    assert!(!store
        .claim_one(&message.id, "email", "b", NOW + 300, NOW + 600)
        .await
        .unwrap());
    // Once it lapsed (its sender died), another sender takes it.
    let again = claim_due(&store, "b", NOW + 301, NOW + 601, 20)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].message_id, message.message_id,
        "the same Message-ID"
    );
    // The first sender comes back: it no longer holds the message.
    assert!(!store.mail_sent(&message.id, "a", NOW + 302).await.unwrap());
    assert!(!store
        .mail_failed(&message.id, "a", "late", Some(NOW + 400))
        .await
        .unwrap());
    let still = store.outbox_message(&message.id).await.unwrap().unwrap();
    assert_eq!(still.state, OutboxState::Pending);
    assert_eq!(still.attempts, 0);
    // The holder marks it sent: its bodies are erased.
    assert!(store.mail_sent(&message.id, "b", NOW + 303).await.unwrap());
    let sent = store.outbox_message(&message.id).await.unwrap().unwrap();
    assert_eq!(sent.state, OutboxState::Sent);
    assert_eq!(sent.sent_at, Some(NOW + 303));
    assert_eq!(sent.text_body, "");
    assert_eq!(sent.html_body, "");
    // A sent message is claimed by nobody.
    assert!(claim_due(&store, "c", NOW + DAY, NOW + DAY + 300, 20)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_failed_message_waits_for_its_retry_time_and_parks_when_told() {
    let (store, _url) = fresh_store().await;
    let message = mail("carol@example.com");
    store.enqueue_mail(&message, NOW).await.unwrap();
    claim_due(&store, "a", NOW, NOW + 300, 20).await.unwrap();
    assert!(store
        .mail_failed(&message.id, "a", "connection refused", Some(NOW + 5))
        .await
        .unwrap());
    assert!(claim_due(&store, "a", NOW + 4, NOW + 304, 20)
        .await
        .unwrap()
        .is_empty());
    let due = claim_due(&store, "a", NOW + 5, NOW + 305, 20)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].attempts, 1);
    assert_eq!(due[0].last_error.as_deref(), Some("connection refused"));
    assert!(store
        .mail_failed(&message.id, "a", "still refused", None)
        .await
        .unwrap());
    let parked = store.outbox_message(&message.id).await.unwrap().unwrap();
    assert_eq!(parked.state, OutboxState::Parked);
    assert_eq!(parked.attempts, 2);
    assert_eq!(store.outbox_counts().await.unwrap().parked, 1);
    assert!(claim_due(&store, "a", NOW + DAY, NOW + DAY + 300, 20)
        .await
        .unwrap()
        .is_empty());
    // Retried: due now, failures forgotten; retrying it twice does nothing.
    assert!(store.retry_mail(&message.id, NOW + DAY).await.unwrap());
    assert!(!store.retry_mail(&message.id, NOW + DAY).await.unwrap());
    let listed = store.outbox(Some(OutboxState::Pending), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].attempts, 0);
    assert_eq!(
        claim_due(&store, "a", NOW + DAY, NOW + DAY + 300, 20)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn pruning_removes_sent_mail_after_30_days_and_expired_links() {
    let (store, url) = fresh_store().await;
    let carol = user(&store, "carol").await;
    let sent = mail("carol@example.com");
    let parked = mail("dave@example.com");
    store.enqueue_mail(&sent, NOW).await.unwrap();
    store.enqueue_mail(&parked, NOW).await.unwrap();
    claim_due(&store, "a", NOW, NOW + 300, 20).await.unwrap();
    assert!(store.mail_sent(&sent.id, "a", NOW + 1).await.unwrap());
    assert!(store
        .mail_failed(&parked.id, "a", "refused", None)
        .await
        .unwrap());
    let link = NewEmailToken {
        token_hash: hash(),
        purpose: EmailTokenPurpose::Invite,
        user_id: carol.clone(),
        email: "carol@example.com".into(),
        expires_at: NOW + 7 * DAY,
    };
    store
        .issue_email_token(&link, &mail("carol@example.com"), NOW)
        .await
        .unwrap();

    let outbox = "SELECT COUNT(*) AS n FROM outbox";
    let links = "SELECT COUNT(*) AS n FROM email_tokens";
    // To the second, the link lives its 7 days...
    store.prune_expired(NOW + 7 * DAY).await.unwrap();
    assert_eq!(count(&url, links).await, 1);
    assert_eq!(count(&url, outbox).await, 3);
    // ...and then goes; the sent mail stays listed.
    store.prune_expired(NOW + 7 * DAY + 1).await.unwrap();
    assert_eq!(count(&url, links).await, 0);
    assert_eq!(count(&url, outbox).await, 3);
    // Sent mail goes 30 days after it was sent; the rest stays.
    store.prune_expired(NOW + 1 + 30 * DAY).await.unwrap();
    assert_eq!(count(&url, outbox).await, 3);
    store.prune_expired(NOW + 2 + 30 * DAY).await.unwrap();
    assert_eq!(count(&url, outbox).await, 2);
    assert!(store.outbox_message(&sent.id).await.unwrap().is_none());
    let parked_still = store.outbox_message(&parked.id).await.unwrap().unwrap();
    assert_eq!(parked_still.state, OutboxState::Parked);
}

#[tokio::test]
async fn an_invited_user_is_written_with_their_link_and_message_or_not_at_all() {
    let (store, url) = fresh_store().await;
    let invite = |user_id: &str| NewEmailToken {
        token_hash: hash(),
        purpose: EmailTokenPurpose::Invite,
        user_id: user_id.into(),
        email: "carol@example.com".into(),
        expires_at: NOW + 7 * DAY,
    };
    let carol = NewUser {
        password_hash: String::new(),
        email_verified: false,
        ..new_user("carol")
    };
    let first = id();
    let created = store
        .insert_invited_user(
            (&first, &carol),
            &invite(&first),
            &mail("carol@example.com"),
            NOW,
        )
        .await
        .unwrap();
    assert!(created);
    let stored = store.user_by_id(&first).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, "");
    // The name is taken: no second account, link or message.
    let second = id();
    let again = store
        .insert_invited_user(
            (&second, &carol),
            &invite(&second),
            &mail("carol@example.com"),
            NOW,
        )
        .await
        .unwrap();
    assert!(!again);
    assert!(store.user_by_id(&second).await.unwrap().is_none());
    assert_eq!(
        count(&url, "SELECT COUNT(*) AS n FROM email_tokens").await,
        1
    );
    assert_eq!(count(&url, "SELECT COUNT(*) AS n FROM outbox").await, 1);
}
