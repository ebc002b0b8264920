//! Admins list and remove a user's passkeys through the API, the screens
//! and the command line; each removal is recorded as `passkey.removed`
//! with the admin as the actor. The passkeys are put straight in the store
//! (`TestApp::add_passkey`): registering one takes an authenticator.

use crate::admin_ui::sign_in_as_admin;
use crate::helpers::*;
use gatehouse::calendar::from_unix;
use gatehouse::clock::Clock;
use gatehouse::model::{AuditFilter, AuditRecord};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A time the passkeys were last used: 2026-11-27 07:45:00 UTC.
const USED_AT: i64 = 1_795_765_500;

/// The names of `username`'s passkeys, as stored.
async fn stored_names(app: &TestApp, username: &str) -> Vec<String> {
    let user = app
        .provider
        .store
        .user_by_username(username)
        .await
        .unwrap()
        .unwrap();
    let stored = app.provider.store.passkeys_of(&user.id).await.unwrap();
    stored.into_iter().map(|p| p.record.name).collect()
}

/// The `passkey.removed` events of `username`, newest first.
async fn removals(app: &TestApp, username: &str) -> Vec<AuditRecord> {
    app.provider.audit.flush().await;
    let filter = AuditFilter {
        user: Some(username.into()),
        event: Some("passkey.removed".into()),
        ..Default::default()
    };
    app.provider.store.audit_events(&filter, 10).await.unwrap()
}

#[tokio::test]
async fn an_admin_client_lists_and_removes_a_users_passkeys() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let yubikey = app.add_passkey("bob", "YubiKey").await;
    let first = app.clock.now();
    // A minute apart, so that the oldest-first order is known.
    app.clock.advance(60);
    let phone = app.add_passkey("bob", "Phone").await;
    app.provider
        .store
        .passkey_used(&phone, None, 1, USED_AT)
        .await
        .unwrap();

    let (status, bob) = app.api_json(Method::GET, "/users/bob", &token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bob["passkeys"], 2, "the user carries the count");
    let (_, alice) = app
        .api_json(Method::GET, "/users/alice", &token, None)
        .await;
    assert_eq!(alice["passkeys"], 0);

    let (status, listed) = app
        .api_json(Method::GET, "/users/bob/passkeys", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let second = app.clock.now();
    assert_eq!(
        listed,
        json!({ "items": [
            { "id": yubikey, "name": "YubiKey", "created_at": first, "last_used_at": null },
            { "id": phone, "name": "Phone", "created_at": second, "last_used_at": USED_AT },
        ] }),
        "each passkey's id, name and times, and never its credential"
    );
    let (_, none) = app
        .api_json(Method::GET, "/users/alice/passkeys", &token, None)
        .await;
    assert_eq!(none, json!({ "items": [] }));

    let removed = app
        .api(
            Method::DELETE,
            &format!("/users/bob/passkeys/{yubikey}"),
            &token,
            None,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(stored_names(&app, "bob").await, ["Phone"]);
    let (_, bob) = app.api_json(Method::GET, "/users/bob", &token, None).await;
    assert_eq!(bob["passkeys"], 1);

    let (status, again) = app
        .api_json(
            Method::DELETE,
            &format!("/users/bob/passkeys/{yubikey}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(again["error"], "not_found");
    let why = again["error_description"].as_str().unwrap();
    assert!(why.starts_with("bob has no passkey"), "{why}");

    // A passkey is removed only through its owner.
    let (status, _) = app
        .api_json(
            Method::DELETE,
            &format!("/users/alice/passkeys/{phone}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(stored_names(&app, "bob").await, ["Phone"]);

    for (method, path) in [
        (Method::GET, "/users/nobody/passkeys".to_string()),
        (Method::DELETE, format!("/users/nobody/passkeys/{phone}")),
    ] {
        let (status, unknown) = app.api_json(method, &path, &token, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(unknown["error"], "not_found", "{path}");
        assert_eq!(
            unknown["error_description"], "There is no user \"nobody\".",
            "{path}"
        );
    }

    let events = removals(&app, "bob").await;
    assert_eq!(events.len(), 1, "one removal, none for the refusals");
    assert_eq!(events[0].actor, "client:automation");
    assert_eq!(events[0].ip.as_deref(), Some("127.0.0.1"));
    assert!(
        events[0].detail.contains(&format!("passkey={yubikey}")),
        "{}",
        events[0].detail
    );
}

#[tokio::test]
async fn an_admin_removes_a_passkey_on_the_user_page() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;
    let laptop = app.add_passkey("bob", "Laptop").await;
    app.provider
        .store
        .passkey_used(&laptop, None, 1, USED_AT)
        .await
        .unwrap();
    let bob = app
        .provider
        .store
        .user_by_username("bob")
        .await
        .unwrap()
        .unwrap()
        .id;
    let path = format!("/admin/users/{bob}");

    let list = app.get("/admin/users").await.text().await.unwrap();
    assert!(list.contains(">1 passkey</span>"), "{list}");
    let html = app.get(&path).await.text().await.unwrap();
    assert!(html.contains(r#"<h2 id="passkeys-title">Passkeys</h2>"#));
    let added = format!("Added {} UTC", from_unix(app.clock.now()).minutes());
    assert!(html.contains("<strong>Laptop</strong>"), "{html}");
    assert!(
        html.contains(&format!("{added} · last used 2026-11-27 07:45 UTC")),
        "{html}"
    );
    assert!(html.contains(r#"aria-label="Remove the passkey Laptop""#));
    assert_eq!(hidden_field(&html, "passkey").as_deref(), Some(&*laptop));
    let alice = app.get("/admin/users/alice").await.text().await.unwrap();
    assert!(alice.contains("No passkeys."), "{alice}");
    assert!(!html.contains("No passkeys."));

    let forged = app
        .browser
        .post(app.url(&format!("{path}/remove-passkey")))
        .form(&[("csrf", "forged"), ("passkey", laptop.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "CSRF checked");
    assert_eq!(stored_names(&app, "bob").await, ["Laptop"]);

    let page = app.get(&path).await;
    let removed = app
        .submit_form(
            page,
            &format!("{path}/remove-passkey"),
            &[("passkey", &laptop)],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&removed).ends_with(&format!("{path}?done=passkey-removed")),
        "{}",
        location(&removed)
    );
    assert!(stored_names(&app, "bob").await.is_empty());
    let html = app.follow(&removed).await.text().await.unwrap();
    assert!(
        html.contains("The passkey was removed: it no longer signs the user in."),
        "{html}"
    );
    assert!(html.contains("No passkeys."), "{html}");

    // A second click finds nothing to remove, and says so.
    let page = app.get(&path).await;
    let again = app
        .submit_form(
            page,
            &format!("{path}/remove-passkey"),
            &[("passkey", &laptop)],
        )
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let html = again.text().await.unwrap();
    assert!(html.contains("bob has no passkey"), "{html}");

    let events = removals(&app, "bob").await;
    assert_eq!(events.len(), 1);
    let root = app
        .provider
        .store
        .user_by_username("root")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(events[0].actor, format!("user:{}", root.id));
    assert_eq!(events[0].actor_name.as_deref(), Some("root"));
}

async fn run(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let out = gatehouse_cli(&app.database_url, args, &[], None).await;
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn passkeys_are_listed_and_removed_from_the_command_line() {
    let app = spawn_app().await;
    let key = app.add_passkey("bob", "Security key").await;
    let key_added = from_unix(app.clock.now()).minutes();
    // A minute apart, so that the oldest-first order is known.
    app.clock.advance(60);
    let phone = app.add_passkey("bob", "Phone").await;
    let phone_added = from_unix(app.clock.now()).minutes();
    app.provider
        .store
        .passkey_used(&phone, None, 1, USED_AT)
        .await
        .unwrap();

    let (code, out, err) = run(&app, &["user", "passkeys", "bob"]).await;
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "a header and one line each: {out}");
    assert!(lines[0].starts_with("ID "), "{out}");
    let (first, second) = (lines[1], lines[2]);
    assert!(first.starts_with(&format!("{key} Security key ")), "{out}");
    assert!(first.contains(&format!(" {key_added} ")), "{out}");
    assert!(first.ends_with(" never"), "{out}");
    assert!(second.starts_with(&format!("{phone} Phone ")), "{out}");
    assert!(second.contains(&format!(" {phone_added} ")), "{out}");
    assert!(second.ends_with(" 2026-11-27 07:45"), "{out}");
    let (code, out, _) = run(&app, &["user", "passkeys", "alice"]).await;
    assert_eq!(code, 0);
    assert_eq!(out, "alice has no passkeys.\n");
    let (code, _, err) = run(&app, &["user", "passkeys", "nobody"]).await;
    assert_eq!(code, 3);
    assert!(err.contains("There is no user \"nobody\""), "{err}");

    // Only the owner's passkeys can be named.
    let (code, _, err) = run(&app, &["user", "remove-passkey", "alice", &key]).await;
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("alice has no passkey"), "{err}");
    let (code, out, err) = run(&app, &["user", "remove-passkey", "bob", &key]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Removed the passkey \"Security key\" of bob"),
        "{out}"
    );
    assert_eq!(stored_names(&app, "bob").await, ["Phone"]);
    let (code, _, err) = run(&app, &["user", "remove-passkey", "bob", &key]).await;
    assert_eq!(code, 3, "removed already: {err}");

    let events = removals(&app, "bob").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, "cli");
    assert!(
        events[0].detail.contains(&format!("passkey={key}")),
        "{}",
        events[0].detail
    );
}
