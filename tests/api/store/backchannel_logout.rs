//! Ending browser sessions queues their logout tokens with the delete:
//! one outbox row (channel `backchannel_logout`, due at once) per ended
//! session and client that got a grant in it and registered a
//! `backchannel_logout_uri`, naming the client, the user and the session;
//! nothing for a client without a URI or without a grant in that session,
//! nothing for a session that did not end; the email sender's query never
//! sees these rows, and a sent row's payload is erased. A password reset by
//! link, which ends every session, queues them too. An ended session's
//! unused codes die with it: its authorization codes are deleted and the
//! device codes approved in it expire, so no grant is made in it later.

use super::*;
use gatehouse::model::{
    Device, DeviceApproval, DeviceStatus, EmailTokenPurpose, LogoutNotice, MailKind, NewDeviceCode,
    NewEmailToken, NewMail, OutboxRecord, SessionRecord,
};

const URI: &str = "https://notified.example/backchannel";

async fn rp(store: &Store, client_id: &str, uri: Option<&str>) {
    let client = NewClient {
        backchannel_logout_uri: uri.map(str::to_string),
        ..new_client(client_id)
    };
    assert!(store.insert_client(&client, NOW).await.unwrap());
}

/// Opens a session for `user_id`; returns (cookie hash, sid).
async fn session(store: &Store, user_id: &str) -> (String, String) {
    let cookie = hash();
    let record = SessionRecord {
        sid: id(),
        cookie_hash: String::new(),
        user_id: user_id.into(),
        auth_time: NOW,
        amr: "pwd".into(),
        expires_at: NOW + 3_600,
    };
    store
        .create_session(&cookie, &record, &Device::default(), None, NOW)
        .await
        .unwrap();
    (cookie, record.sid)
}

/// Records a grant of `client_id` to `user_id` made in session `sid`.
async fn grant_in(store: &Store, client_id: &str, user_id: &str, sid: &str) {
    let code = issued(store, client_id, user_id).await;
    let grant = NewGrant {
        sid: Some(sid.into()),
        ..new_grant(client_id, user_id, NOW + 86_400)
    };
    let redeemed = store.redeem_code(&code, &grant, None, NOW).await.unwrap();
    assert!(matches!(redeemed, Redemption::Redeemed));
}

async fn logouts(store: &Store) -> Vec<OutboxRecord> {
    store
        .outbox(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.channel == "backchannel_logout")
        .collect()
}

fn notice(row: &OutboxRecord) -> LogoutNotice {
    serde_json::from_str(&row.payload).expect("the payload is a notice")
}

/// A store with alice, two sessions of hers (`first` with grants of
/// `notified` (URI) and `quiet` (no URI); `second` with none) and a client
/// `bystander` with a URI but no grant.
struct Setup {
    store: Store,
    alice: String,
    first: (String, String),
    second: (String, String),
}

async fn setup() -> Setup {
    let (store, _) = fresh_store().await;
    let alice = user(&store, "alice").await;
    rp(&store, "notified", Some(URI)).await;
    rp(&store, "quiet", None).await;
    rp(&store, "bystander", Some("https://bystander.example/bc")).await;
    let first = session(&store, &alice).await;
    let second = session(&store, &alice).await;
    grant_in(&store, "notified", &alice, &first.1).await;
    grant_in(&store, "notified", &alice, &first.1).await;
    grant_in(&store, "quiet", &alice, &first.1).await;
    Setup {
        store,
        alice,
        first,
        second,
    }
}

#[tokio::test]
async fn ending_one_session_queues_one_token_per_client_with_a_uri_and_a_grant_in_it() {
    let s = setup().await;
    assert!(s
        .store
        .delete_session_of_user(&s.alice, &s.first.1, NOW + 10)
        .await
        .unwrap());
    let queued = logouts(&s.store).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    let row = &queued[0];
    assert_eq!(row.recipient, URI);
    assert_eq!(row.kind, "backchannel_logout");
    assert_eq!(row.next_attempt_at, NOW + 10, "due at once");
    assert_eq!(row.attempts, 0);
    assert_eq!(
        notice(row),
        LogoutNotice {
            client_id: "notified".into(),
            sub: s.alice.clone(),
            sid: s.first.1.clone(),
        }
    );
    // The logout channel's deliverer sees it; the email sender does not.
    let due = s
        .store
        .due_mail("backchannel_logout", NOW + 10, 10)
        .await
        .unwrap();
    assert_eq!(due, vec![row.id.clone()]);
    assert!(s
        .store
        .due_mail("email", NOW + 10, 10)
        .await
        .unwrap()
        .is_empty());

    // Ending it again ends nothing and queues nothing.
    assert!(!s
        .store
        .delete_session_of_user(&s.alice, &s.first.1, NOW + 20)
        .await
        .unwrap());
    assert_eq!(logouts(&s.store).await.len(), 1);
}

#[tokio::test]
async fn a_session_without_grants_of_such_clients_queues_nothing() {
    let s = setup().await;
    s.store.delete_session(&s.second.0, NOW).await.unwrap();
    assert!(logouts(&s.store).await.is_empty());
    // Ending every session but a new third one ends the first.
    let (_, third) = session(&s.store, &s.alice).await;
    let ended = s
        .store
        .delete_other_sessions(&s.alice, &third, NOW)
        .await
        .unwrap();
    assert_eq!(ended, 1, "the first ends");
    let queued = logouts(&s.store).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(notice(&queued[0]).sid, s.first.1);
}

#[tokio::test]
async fn ending_by_cookie_and_all_sessions_of_a_user_queue_tokens_too() {
    let s = setup().await;
    s.store.delete_session(&s.first.0, NOW).await.unwrap();
    assert_eq!(logouts(&s.store).await.len(), 1, "by cookie");
    let (_, again) = session(&s.store, &s.alice).await;
    grant_in(&s.store, "bystander", &s.alice, &again).await;
    assert_eq!(
        s.store.delete_user_sessions(&s.alice, NOW).await.unwrap(),
        2
    );
    let queued = logouts(&s.store).await;
    assert_eq!(queued.len(), 2, "the bystander now had a grant");
    assert!(queued
        .iter()
        .any(|row| notice(row).client_id == "bystander" && notice(row).sid == again));
}

#[tokio::test]
async fn deleting_the_user_queues_tokens_before_the_grants_go() {
    let s = setup().await;
    assert!(s.store.delete_user(&s.alice, NOW).await.unwrap());
    let queued = logouts(&s.store).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(notice(&queued[0]).sub, s.alice);
    assert_eq!(notice(&queued[0]).client_id, "notified");
}

#[tokio::test]
async fn a_sent_token_loses_its_payload() {
    let s = setup().await;
    s.store.delete_user_sessions(&s.alice, NOW).await.unwrap();
    let row = logouts(&s.store).await.remove(0);
    // The email sender cannot claim it, even by its id.
    assert!(!s
        .store
        .claim_one(&row.id, "email", "mailer", NOW, NOW + 300)
        .await
        .unwrap());
    let claimed = s
        .store
        .claim_mail(&row.id, "backchannel_logout", "deliverer", NOW, NOW + 300)
        .await
        .unwrap()
        .expect("claimed");
    assert!(!claimed.payload.is_empty());
    assert!(s
        .store
        .mail_sent(&row.id, "deliverer", NOW + 1)
        .await
        .unwrap());
    let sent = s.store.outbox_message(&row.id).await.unwrap().unwrap();
    assert_eq!(sent.payload, "");
    assert_eq!(sent.channel, "backchannel_logout");
}

#[tokio::test]
async fn a_password_reset_by_link_queues_tokens_for_the_sessions_it_ends() {
    let s = setup().await;
    let token_hash = hash();
    let link = NewEmailToken {
        token_hash: token_hash.clone(),
        purpose: EmailTokenPurpose::Reset,
        user_id: s.alice.clone(),
        email: "alice@example.com".into(),
        expires_at: NOW + 1_800,
    };
    let message = NewMail {
        id: uuid::Uuid::now_v7().to_string(),
        message_id: format!("<{}@example.com>", id()),
        kind: MailKind::Reset,
        recipient: "alice@example.com".into(),
        subject: "Reset".into(),
        text_body: "a link".into(),
        html_body: "<p>a link</p>".into(),
    };
    s.store
        .issue_email_token(&link, &message, NOW)
        .await
        .unwrap();
    let reset = s
        .store
        .set_password_by_token(
            &token_hash,
            EmailTokenPurpose::Reset,
            "$argon2id$new",
            None,
            NOW + 5,
        )
        .await
        .unwrap();
    assert!(reset.is_some(), "the link worked");
    let queued = logouts(&s.store).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].next_attempt_at, NOW + 5);
    assert_eq!(notice(&queued[0]).sid, s.first.1);
}

/// Issues a code for `user_id` at `client_id` in session `sid`; returns
/// its hash.
async fn code_in(store: &Store, client_id: &str, user_id: &str, sid: &str) -> String {
    let code_hash = hash();
    let code = NewCode {
        sid: sid.into(),
        ..new_code(client_id, user_id, NOW + 60)
    };
    store.create_code(&code_hash, &code, NOW).await.unwrap();
    code_hash
}

/// A device code of `client_id` approved by `user_id` in session `sid`;
/// returns its device code hash.
async fn device_code_in(store: &Store, client_id: &str, user_id: &str, sid: &str) -> String {
    let code = NewDeviceCode {
        device_code_hash: hash(),
        user_code_hash: hash(),
        client_id: client_id.into(),
        scope: "openid".into(),
        resource: None,
        interval: 5,
        expires_at: NOW + 600,
    };
    assert!(store.create_device_code(&code, NOW).await.unwrap());
    let approval = DeviceApproval {
        user_id: user_id.into(),
        sid: sid.into(),
        auth_time: NOW,
        amr: "pwd".into(),
    };
    assert!(store
        .decide_device_code(&code.user_code_hash, Some(&approval), NOW)
        .await
        .unwrap());
    code.device_code_hash
}

#[tokio::test]
async fn an_ended_sessions_unused_codes_die_with_it_and_others_live_on() {
    let s = setup().await;
    let (_, first_sid) = s.first.clone();
    let (_, second_sid) = s.second.clone();
    let unused = code_in(&s.store, "notified", &s.alice, &first_sid).await;
    let elsewhere = code_in(&s.store, "notified", &s.alice, &second_sid).await;
    let device = device_code_in(&s.store, "notified", &s.alice, &first_sid).await;
    let other_device = device_code_in(&s.store, "notified", &s.alice, &second_sid).await;
    // A code of the session that was already redeemed stays, so that a
    // replay is still recognised as one.
    let used = code_in(&s.store, "notified", &s.alice, &first_sid).await;
    let grant = NewGrant {
        sid: Some(first_sid.clone()),
        ..new_grant("notified", &s.alice, NOW + 86_400)
    };
    assert!(matches!(
        s.store.redeem_code(&used, &grant, None, NOW).await.unwrap(),
        Redemption::Redeemed
    ));

    assert!(s
        .store
        .delete_session_of_user(&s.alice, &first_sid, NOW + 10)
        .await
        .unwrap());

    assert!(s.store.code(&unused).await.unwrap().is_none(), "deleted");
    let late = NewGrant {
        sid: Some(first_sid.clone()),
        ..new_grant("notified", &s.alice, NOW + 86_400)
    };
    assert!(
        matches!(
            s.store
                .redeem_code(&unused, &late, None, NOW + 11)
                .await
                .unwrap(),
            Redemption::Unknown
        ),
        "the deleted code cannot be redeemed"
    );
    assert!(
        s.store.code(&used).await.unwrap().is_some(),
        "the used one stays"
    );
    assert!(
        s.store.code(&elsewhere).await.unwrap().is_some(),
        "another session's stays"
    );

    let expired = s.store.device_code(&device).await.unwrap().unwrap();
    assert_eq!(expired.status, DeviceStatus::Approved);
    assert_eq!(
        expired.expires_at,
        NOW + 10,
        "expired when the session ended"
    );
    let redeemed = s
        .store
        .redeem_device_code(&device, &late, None, NOW + 11)
        .await
        .unwrap();
    assert!(matches!(redeemed, Redemption::Unknown), "{redeemed:?}");
    let live = s.store.device_code(&other_device).await.unwrap().unwrap();
    assert_eq!(live.expires_at, NOW + 600, "another session's stays");
}

#[tokio::test]
async fn a_revoked_grant_is_kept_while_its_session_lives_so_its_client_is_still_told() {
    let s = setup().await;
    let (_, first_sid) = s.first.clone();
    assert_eq!(s.store.revoke_user_grants(&s.alice, NOW).await.unwrap(), 3);
    // Revoked, with no refresh token left: only the live session keeps
    // the grants.
    let pruned = s.store.prune(NOW + 100, None).await.unwrap();
    assert_eq!(pruned.of("grants"), 0, "{pruned}");

    assert!(s
        .store
        .delete_session_of_user(&s.alice, &first_sid, NOW + 200)
        .await
        .unwrap());
    let queued = logouts(&s.store).await;
    assert_eq!(queued.len(), 1, "the client is told: {queued:?}");
    assert_eq!(notice(&queued[0]).client_id, "notified");

    // The session is gone: nothing keeps the grants now.
    let pruned = s.store.prune(NOW + 300, None).await.unwrap();
    assert_eq!(pruned.of("grants"), 3, "{pruned}");
}

#[tokio::test]
async fn signing_in_again_as_the_same_user_keeps_the_sid_and_tells_no_one() {
    let s = setup().await;
    let (old_cookie, first_sid) = s.first.clone();
    let new_cookie = hash();
    let record = SessionRecord {
        sid: id(),
        cookie_hash: new_cookie.clone(),
        user_id: s.alice.clone(),
        auth_time: NOW + 50,
        amr: "pwd otp".into(),
        expires_at: NOW + 7_200,
    };
    let sid = s
        .store
        .replace_session(
            &old_cookie,
            &new_cookie,
            &record,
            &Device::default(),
            None,
            NOW + 50,
        )
        .await
        .unwrap();
    assert_eq!(sid, first_sid, "the sid carries over");
    assert!(logouts(&s.store).await.is_empty(), "no client is told");
    assert!(s
        .store
        .session(&old_cookie, NOW + 50)
        .await
        .unwrap()
        .is_none());
    let now = s
        .store
        .session(&new_cookie, NOW + 50)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.sid, first_sid);
    assert_eq!(now.cookie_hash, new_cookie);
    assert_eq!(now.auth_time, NOW + 50, "a fresh authentication");
    assert_eq!(now.amr, "pwd otp");
    // Ending it later tells the clients of the grants made before.
    s.store.delete_session(&new_cookie, NOW + 60).await.unwrap();
    let queued = logouts(&s.store).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(notice(&queued[0]).sid, first_sid);
}

#[tokio::test]
async fn signing_in_as_someone_else_ends_the_old_session_and_tells_its_clients() {
    let s = setup().await;
    let bob = user(&s.store, "bob").await;
    let (old_cookie, first_sid) = s.first.clone();
    let new_cookie = hash();
    let record = SessionRecord {
        sid: id(),
        cookie_hash: new_cookie.clone(),
        user_id: bob.clone(),
        auth_time: NOW + 50,
        amr: "pwd".into(),
        expires_at: NOW + 7_200,
    };
    let sid = s
        .store
        .replace_session(
            &old_cookie,
            &new_cookie,
            &record,
            &Device::default(),
            None,
            NOW + 50,
        )
        .await
        .unwrap();
    assert_eq!(sid, record.sid, "a new session");
    assert!(s
        .store
        .session(&old_cookie, NOW + 50)
        .await
        .unwrap()
        .is_none());
    let queued = logouts(&s.store).await;
    assert_eq!(queued.len(), 1, "alice's clients are told");
    assert_eq!(notice(&queued[0]).sid, first_sid);
    assert_eq!(notice(&queued[0]).sub, s.alice);
}
