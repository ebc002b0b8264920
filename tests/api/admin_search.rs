//! The admin user search (GET /admin/api/v1/users?q=…): each word typed must
//! start a word of the username, name or email, in any case; the index
//! behind it follows users as they are created, changed and deleted; what
//! people type never breaks the query; a search matching more users than
//! are counted says "at least".

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The usernames a search finds (first page of 50), and the answer.
async fn search(app: &TestApp, token: &str, q: &str) -> (Vec<String>, Value) {
    let path = format!(
        "/users?q={}",
        form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
    );
    let (status, body) = app.api_json(Method::GET, &path, token, None).await;
    assert_eq!(status, StatusCode::OK, "{q:?}: {body}");
    let names = body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{q:?}: {body}"))
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect();
    (names, body)
}

async fn create(app: &TestApp, token: &str, username: &str, name: &str, email: &str) {
    let (status, body) = app
        .api_json(
            Method::POST,
            "/users",
            token,
            Some(json!({ "username": username, "name": name, "email": email })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Three users beside the seeded ones (alice, bob, dana … at example.com).
async fn app_with_people() -> (TestApp, String) {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    create(
        &app,
        &token,
        "mkowalski",
        "Marta Kowalska",
        "marta@kowal.test",
    )
    .await;
    create(
        &app,
        &token,
        "jan_nowak",
        "Jan Nowak",
        "jan.nowak@firma.test",
    )
    .await;
    create(
        &app,
        &token,
        "nowakowski",
        "Piotr Zielinski",
        "pz@firma.test",
    )
    .await;
    (app, token)
}

#[tokio::test]
async fn each_word_typed_must_start_a_word_of_username_name_or_email() {
    let (app, token) = app_with_people().await;
    let cases: &[(&str, &[&str])] = &[
        // A word of the name.
        ("kowalska", &["mkowalski"]),
        // The start of a username.
        ("mkow", &["mkowalski"]),
        // The email's domain, ordered by username.
        ("firma", &["jan_nowak", "nowakowski"]),
        // Any case; `nowak` starts a word of jan_nowak and of nowakowski.
        ("NoWaK", &["jan_nowak", "nowakowski"]),
        // Every word must match: jan and nowak, in any order.
        ("nowak jan", &["jan_nowak"]),
        ("piotr zieli", &["nowakowski"]),
        // The middle of a word is not the start of one.
        ("owalsk", &[]),
        ("xyzzy", &[]),
        // Exact username and exact email still find their user.
        ("jan_nowak", &["jan_nowak"]),
        ("jan.nowak@firma.test", &["jan_nowak"]),
        ("PZ@FIRMA.TEST", &["nowakowski"]),
    ];
    for (q, expected) in cases {
        let (names, body) = search(&app, &token, q).await;
        assert_eq!(&names, expected, "{q:?}");
        assert_eq!(body["total"], expected.len(), "{q:?}");
        assert_eq!(body["total_exact"], true, "{q:?}");
    }
    // A page past the first.
    let (status, body) = app
        .api_json(
            Method::GET,
            "/users?q=firma&per_page=1&page=2",
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"][0]["username"], "nowakowski");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["total"], 2);
}

#[tokio::test]
async fn the_search_follows_changes_and_deletions() {
    let (app, token) = app_with_people().await;
    let (status, _) = app
        .api_json(
            Method::PATCH,
            "/users/mkowalski",
            &token,
            Some(json!({ "name": "Marta Lis", "email": "marta@lis.test" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        search(&app, &token, "kowalska").await.0,
        Vec::<String>::new()
    );
    assert_eq!(
        search(&app, &token, "mkow").await.0,
        ["mkowalski"],
        "the username stays"
    );
    assert_eq!(search(&app, &token, "lis").await.0, ["mkowalski"]);
    assert_eq!(search(&app, &token, "lis.test").await.0, ["mkowalski"]);

    let deleted = app
        .api(Method::DELETE, "/users/mkowalski", &token, None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(search(&app, &token, "lis").await.0, Vec::<String>::new());
    assert_eq!(
        search(&app, &token, "mkowalski").await.0,
        Vec::<String>::new()
    );
    assert_eq!(
        search(&app, &token, "nowak").await.0,
        ["jan_nowak", "nowakowski"]
    );
}

#[tokio::test]
async fn special_characters_are_only_separators() {
    let (app, token) = app_with_people().await;
    create(
        &app,
        &token,
        "o'hara",
        "Scarlett O'Hara",
        "scarlett@tara.test",
    )
    .await;
    for q in [
        "%",
        "_",
        "\"",
        "*",
        "'",
        ":",
        "&",
        "(",
        "%_\"*':&(",
        "' OR 1=1 --",
    ] {
        let (names, body) = search(&app, &token, q).await;
        assert_eq!(names, Vec::<String>::new(), "{q:?}");
        assert_eq!(body["total"], 0, "{q:?}");
    }
    let cases: &[(&str, &[&str])] = &[
        ("nowak*", &["jan_nowak", "nowakowski"]),
        ("\"nowak", &["jan_nowak", "nowakowski"]),
        ("firma:", &["jan_nowak", "nowakowski"]),
        ("(jan&nowak)", &["jan_nowak"]),
        ("jan_", &["jan_nowak"]),
        ("o'hara", &["o'hara"]),
        ("O'H", &["o'hara"]),
        ("100%", &[]),
    ];
    for (q, expected) in cases {
        assert_eq!(&search(&app, &token, q).await.0, expected, "{q:?}");
    }
    // A username made only of such characters is found as typed.
    create(&app, &token, "+_+", "Plus", "plus@sign.test").await;
    assert_eq!(search(&app, &token, "+_+").await.0, ["+_+"]);
    assert_eq!(search(&app, &token, "+").await.0, Vec::<String>::new());
}

#[tokio::test]
async fn a_search_matching_many_users_counts_up_to_a_bound() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    // 1,100 users named "Crowd Member", straight in the database (the
    // search index follows inserts however they are made).
    execute(
        &app.database_url,
        "INSERT INTO users (id, username, email, name, password_hash, created_at, updated_at)
         WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1100)
         SELECT 'crowd-' || i, 'crowd' || (10000 + i), 'crowd' || i || '@many.test',
                'Crowd Member', 'x', 0, 0
         FROM n",
    )
    .await;
    let (names, body) = search(&app, &token, "member").await;
    assert_eq!(body["total"], 1000, "{body}");
    assert_eq!(body["total_exact"], false);
    assert_eq!(names.len(), 50);
    assert_eq!(names[0], "crowd10001");
    assert_eq!(names[49], "crowd10050");
    // Past the bound, a later page still comes, and counting goes on from it.
    let (status, body) = app
        .api_json(
            Method::GET,
            "/users?q=member&per_page=200&page=6",
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().unwrap().len(), 100);
    assert_eq!(body["items"][0]["username"], "crowd11001");
    assert_eq!(body["total"], 1100);
    assert_eq!(body["total_exact"], true);
    // Few matches are counted exactly: crowd11000 to crowd11009 by their
    // usernames, the 1,100th by its email (crowd1100@many.test).
    let (names, body) = search(&app, &token, "crowd1100").await;
    assert_eq!(body["total"], 11);
    assert_eq!(body["total_exact"], true);
    assert_eq!(names[0], "crowd11000");
    assert_eq!(names[10], "crowd11100");
    // The list of everyone counts the same way.
    let (_, body) = search(&app, &token, "").await;
    assert_eq!(body["total"], 1000);
    assert_eq!(body["total_exact"], false);
}
