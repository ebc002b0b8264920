//! The audit log's filters in the admin API (GET /admin/api/v1/audit): by
//! user (id, current username, or the username kept with a deleted user's
//! events), client, exact event name, event prefix, time, and paging with
//! `before`: each returns exactly the events it names, newest first.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// An event id that sorts like the others (time-ordered) but before every
/// event the server writes itself.
fn id(n: u32) -> String {
    format!("00000000-0000-7000-8000-{n:012}")
}

/// The events a query returns (ids of the ones written here, by number),
/// and the answer.
async fn audit(app: &TestApp, token: &str, query: &str) -> (Vec<u32>, Value) {
    let (status, body) = app
        .api_json(Method::GET, &format!("/audit?{query}"), token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    let numbers = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let id = e["id"].as_str().unwrap();
            let number = id
                .strip_prefix("00000000-0000-7000-8000-")
                .unwrap_or_else(|| panic!("{query}: an event not written here: {e}"));
            number.parse().unwrap()
        })
        .collect();
    (numbers, body)
}

/// An event written here: number, at, event, user id, username kept, client.
type Written<'a> = (
    u32,
    i64,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

#[tokio::test]
async fn each_filter_returns_exactly_its_events() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let hash = gatehouse::account::password::hash_password("ula's words".into())
        .await
        .unwrap();
    let user = gatehouse::model::NewUser {
        username: "ula".into(),
        password_hash: hash,
        ..Default::default()
    };
    use gatehouse::clock::Clock;
    let ula = app
        .provider
        .store
        .insert_user(&user, false, app.clock.now())
        .await
        .unwrap()
        .unwrap();
    // (number, at, event, user id, username kept, client). Times long past,
    // so that the server's own events fall outside every time filter.
    let events: &[Written] = &[
        (
            1,
            1000,
            "test.alpha",
            Some(&ula),
            Some("ula"),
            Some("c-one"),
        ),
        // Only the user id, as the token path writes: found by the user's
        // current username.
        (2, 1100, "test.beta", Some(&ula), None, Some("c-two")),
        // Only the username, as a failed sign-in writes.
        (3, 1200, "testing.gamma", None, Some("ula"), None),
        // A deleted user's: the id is no user's any more.
        (
            4,
            1300,
            "test.alpha",
            Some("gone-id"),
            Some("gone"),
            Some("c-one"),
        ),
        (5, 1400, "test.beta", None, None, Some("c-one")),
        (
            6,
            1500,
            "test.alpha",
            Some(&ula),
            Some("ula"),
            Some("c-two"),
        ),
        (7, 1600, "test_x.alpha", None, None, Some("c-three")),
    ];
    for (n, at, event, user_id, username, client) in events {
        let text = |v: &Option<&str>| v.map_or("NULL".to_string(), |v| format!("'{v}'"));
        execute(
            &app.database_url,
            &format!(
                "INSERT INTO audit_events (id, at, event, actor, actor_name, user_id, username,
                                           client_id, ip, detail)
                 VALUES ('{}', {at}, '{event}', 'cli', NULL, {}, {}, {}, NULL, '')",
                id(*n),
                text(user_id),
                text(username),
                text(client),
            ),
        )
        .await;
    }
    let cases: &[(&str, &[u32])] = &[
        ("user=ula", &[6, 3, 2, 1]),
        (&format!("user={ula}"), &[6, 2, 1]),
        ("user=gone", &[4]),
        ("user=gone-id", &[4]),
        ("user=nobody", &[]),
        ("client=c-one", &[5, 4, 1]),
        ("event=test.alpha", &[6, 4, 1]),
        // A prefix ends in a dot, and `_` in it is no wildcard.
        ("event=test.", &[6, 5, 4, 2, 1]),
        ("event=test_x.", &[7]),
        ("event=test", &[]),
        ("event=nothing.", &[]),
        ("since=1200&until=1400", &[5, 4, 3]),
        ("until=1100", &[2, 1]),
        ("user=ula&event=test.", &[6, 2, 1]),
        ("user=ula&client=c-two", &[6, 2]),
        ("client=c-one&event=test.alpha&since=1100", &[4]),
        (&format!("user=ula&before={}", id(3)), &[2, 1]),
        (&format!("event=test.&before={}", id(5)), &[4, 2, 1]),
    ];
    for (query, expected) in cases {
        assert_eq!(&audit(&app, &token, query).await.0, expected, "{query}");
    }
    // The username is shown for an event that kept only the user id.
    let (_, body) = audit(&app, &token, "user=ula&event=test.beta").await;
    assert_eq!(body["items"][0]["username"], "ula");

    // Paging: `next_before` leads to the next page, to the end.
    let (first, body) = audit(&app, &token, "user=ula&limit=2").await;
    assert_eq!(first, [6, 3]);
    let next = body["next_before"].as_str().unwrap().to_string();
    assert_eq!(next, id(3));
    let (second, body) = audit(&app, &token, &format!("user=ula&limit=2&before={next}")).await;
    assert_eq!(second, [2, 1]);
    let next = body["next_before"].as_str().unwrap().to_string();
    let (last, body) = audit(&app, &token, &format!("user=ula&limit=2&before={next}")).await;
    assert_eq!(last, Vec::<u32>::new());
    assert_eq!(body["next_before"], Value::Null);
}
