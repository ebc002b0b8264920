//! Groups, custom claims, APIs and custom scopes through the JSON admin
//! API: what each operation does, what it refuses and with which code, and
//! the audit trail it leaves.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// An admin API call: the status and the JSON body (null if none).
pub(crate) async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app
        .api
        .request(method, app.url(&format!("/admin/api/v1{path}")))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asserts a refusal: its status, the stable code, and words of the message.
fn assert_refused(answer: &(StatusCode, Value), status: StatusCode, code: &str, words: &str) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["error"], json!(code), "{body}");
    let message = body["error_description"].as_str().unwrap_or_default();
    assert!(message.contains(words), "{words:?} not in {message:?}");
}

/// The group names of a user as the API shows them.
async fn groups_of(app: &TestApp, token: &str, user: &str) -> Vec<String> {
    let (status, body) = call(app, Method::GET, &format!("/users/{user}"), token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body["groups"].clone()).unwrap()
}

/// The audit events named `event`, newest first.
async fn audit_events(app: &TestApp, token: &str, event: &str) -> Vec<Value> {
    let (status, body) = call(
        app,
        Method::GET,
        &format!("/audit?event={event}"),
        token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// The path of an API: its identifier percent-encoded as one segment.
fn api_path(identifier: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(identifier.as_bytes()).collect();
    format!("/apis/{encoded}")
}

#[tokio::test]
async fn groups_are_created_listed_described_and_deleted() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let created = call(
        &app,
        Method::POST,
        "/groups",
        &token,
        Some(json!({ "name": "engineering", "description": "Builds things" })),
    )
    .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(
        created.1,
        json!({ "name": "engineering", "description": "Builds things", "members": 0 })
    );
    let again = call(
        &app,
        Method::POST,
        "/groups",
        &token,
        Some(json!({ "name": "engineering" })),
    )
    .await;
    assert_refused(&again, StatusCode::CONFLICT, "conflict", "already exists");
    let bad = call(
        &app,
        Method::POST,
        "/groups",
        &token,
        Some(json!({ "name": "Not Valid" })),
    )
    .await;
    assert_refused(
        &bad,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "group name",
    );
    let unknown_field = call(
        &app,
        Method::POST,
        "/groups",
        &token,
        Some(json!({ "name": "ops", "colour": "blue" })),
    )
    .await;
    assert_refused(
        &unknown_field,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "colour",
    );
    call(
        &app,
        Method::POST,
        "/groups",
        &token,
        Some(json!({ "name": "ops" })),
    )
    .await;

    let (status, list) = call(&app, Method::GET, "/groups", &token, None).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["engineering", "ops"]);

    let (status, changed) = call(
        &app,
        Method::PATCH,
        "/groups/ops",
        &token,
        Some(json!({ "description": "Keeps things running" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["description"], json!("Keeps things running"));
    let (_, fetched) = call(&app, Method::GET, "/groups/ops", &token, None).await;
    assert_eq!(fetched["description"], json!("Keeps things running"));

    let (status, _) = call(&app, Method::DELETE, "/groups/ops", &token, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = call(&app, Method::GET, "/groups/ops", &token, None).await;
    assert_refused(&gone, StatusCode::NOT_FOUND, "not_found", "no group");
    let (_, list) = call(&app, Method::GET, "/groups", &token, None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let twice = call(&app, Method::DELETE, "/groups/ops", &token, None).await;
    assert_refused(&twice, StatusCode::NOT_FOUND, "not_found", "no group");
}

#[tokio::test]
async fn members_are_added_and_removed_and_the_user_shows_it() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    call(
        &app,
        Method::POST,
        "/groups",
        &token,
        Some(json!({ "name": "engineering" })),
    )
    .await;
    let (_, alice) = call(&app, Method::GET, "/users/alice", &token, None).await;
    let alice_id = alice["id"].as_str().unwrap().to_string();

    // By username, and by id (the same user: added once).
    for user in ["alice", alice_id.as_str(), "bob"] {
        let (status, body) = call(
            &app,
            Method::PUT,
            &format!("/groups/engineering/members/{user}"),
            &token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{user}: {body}");
    }
    let (status, members) = call(
        &app,
        Method::GET,
        "/groups/engineering/members",
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(members["items"], json!(["alice", "bob"]));
    let (_, group) = call(&app, Method::GET, "/groups/engineering", &token, None).await;
    assert_eq!(group["members"], json!(2));
    assert_eq!(groups_of(&app, &token, "alice").await, ["engineering"]);

    let (status, _) = call(
        &app,
        Method::DELETE,
        "/groups/engineering/members/alice",
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(groups_of(&app, &token, "alice").await.is_empty());
    assert_eq!(groups_of(&app, &token, "bob").await, ["engineering"]);
    let (_, members) = call(
        &app,
        Method::GET,
        "/groups/engineering/members",
        &token,
        None,
    )
    .await;
    assert_eq!(members["items"], json!(["bob"]));

    let not_member = call(
        &app,
        Method::DELETE,
        "/groups/engineering/members/alice",
        &token,
        None,
    )
    .await;
    assert_refused(
        &not_member,
        StatusCode::NOT_FOUND,
        "not_found",
        "not a member",
    );
    let no_user = call(
        &app,
        Method::PUT,
        "/groups/engineering/members/nobody",
        &token,
        None,
    )
    .await;
    assert_refused(&no_user, StatusCode::NOT_FOUND, "not_found", "no user");
    let no_group = call(
        &app,
        Method::PUT,
        "/groups/nothing/members/alice",
        &token,
        None,
    )
    .await;
    assert_refused(&no_group, StatusCode::NOT_FOUND, "not_found", "no group");
}

#[tokio::test]
async fn membership_changes_are_in_the_audit_log() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    call(
        &app,
        Method::POST,
        "/groups",
        &token,
        Some(json!({ "name": "engineering" })),
    )
    .await;
    call(
        &app,
        Method::PUT,
        "/groups/engineering/members/alice",
        &token,
        None,
    )
    .await;
    call(
        &app,
        Method::DELETE,
        "/groups/engineering/members/alice",
        &token,
        None,
    )
    .await;

    for name in [
        "admin.group.created",
        "admin.group.member_added",
        "admin.group.member_removed",
    ] {
        let events = audit_events(&app, &token, name).await;
        assert_eq!(events.len(), 1, "{name}: {events:?}");
        let event = &events[0];
        assert_eq!(event["actor"], json!("client:automation"), "{event}");
        assert!(
            event["detail"]
                .as_str()
                .unwrap()
                .contains("group=engineering"),
            "{event}"
        );
        if name != "admin.group.created" {
            assert_eq!(event["username"], json!("alice"), "{event}");
        }
    }
}

#[tokio::test]
async fn a_group_a_client_still_names_cannot_be_deleted() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    call(
        &app,
        Method::POST,
        "/groups",
        &token,
        Some(json!({ "name": "staff" })),
    )
    .await;
    let (status, body) = call(
        &app,
        Method::POST,
        "/clients",
        &token,
        Some(json!({
            "client_id": "intranet",
            "redirect_uris": ["https://intranet.example/cb"],
            "allowed_groups": ["staff"],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let refused = call(&app, Method::DELETE, "/groups/staff", &token, None).await;
    assert_refused(
        &refused,
        StatusCode::CONFLICT,
        "conflict",
        "client intranet (allowed groups)",
    );
    let (status, _) = call(&app, Method::GET, "/groups/staff", &token, None).await;
    assert_eq!(status, StatusCode::OK, "still there");

    let (status, _) = call(&app, Method::DELETE, "/clients/intranet", &token, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, Method::DELETE, "/groups/staff", &token, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "no longer named");
}

#[tokio::test]
async fn custom_claims_are_set_one_by_one_and_reserved_names_refused() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let (status, user) = call(
        &app,
        Method::PUT,
        "/users/alice/claims/department",
        &token,
        Some(json!("engineering")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["claims"], json!({ "department": "engineering" }));
    let (status, user) = call(
        &app,
        Method::PUT,
        "/users/alice/claims/badges",
        &token,
        Some(json!([1, 2])),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(
        user["claims"],
        json!({ "department": "engineering", "badges": [1, 2] })
    );

    for (name, words) in [
        ("sub", "\"sub\" is a reserved claim name"),
        ("groups", "\"groups\" is a reserved claim name"),
        ("email", "\"email\" is a standard claim"),
    ] {
        let refused = call(
            &app,
            Method::PUT,
            &format!("/users/alice/claims/{name}"),
            &token,
            Some(json!("x")),
        )
        .await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "invalid_request", words);
    }
    let null = call(
        &app,
        Method::PUT,
        "/users/alice/claims/department",
        &token,
        Some(Value::Null),
    )
    .await;
    assert_refused(&null, StatusCode::BAD_REQUEST, "invalid_request", "null");
    let (_, alice) = call(&app, Method::GET, "/users/alice", &token, None).await;
    assert_eq!(
        alice["claims"],
        json!({ "department": "engineering", "badges": [1, 2] }),
        "nothing refused was stored"
    );

    let (status, _) = call(
        &app,
        Method::DELETE,
        "/users/alice/claims/badges",
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, alice) = call(&app, Method::GET, "/users/alice", &token, None).await;
    assert_eq!(alice["claims"], json!({ "department": "engineering" }));
    let nobody = call(
        &app,
        Method::PUT,
        "/users/nobody/claims/department",
        &token,
        Some(json!("x")),
    )
    .await;
    assert_refused(&nobody, StatusCode::NOT_FOUND, "not_found", "no user");
    let events = audit_events(&app, &token, "admin.user.claims_set").await;
    assert_eq!(events.len(), 3, "two set, one removed: {events:?}");
}

#[tokio::test]
async fn apis_are_managed_by_their_percent_encoded_identifier() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    call(
        &app,
        Method::POST,
        "/groups",
        &token,
        Some(json!({ "name": "engineering" })),
    )
    .await;
    let identifier = "https://api.example.test/";
    let (status, created) = call(
        &app,
        Method::POST,
        "/apis",
        &token,
        Some(json!({
            "identifier": identifier,
            "name": "Example API",
            "scopes": [{ "name": "read", "description": "Read your things" }, { "name": "write" }],
            "roles": { "reader": ["engineering"] },
            "access_token_ttl": 600,
            "signing_alg": "ES256",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let expected = json!({
        "identifier": identifier,
        "name": "Example API",
        "scopes": [
            { "name": "read", "description": "Read your things" },
            { "name": "write", "description": "" },
        ],
        "roles": { "reader": ["engineering"] },
        "access_token_ttl": 600,
        "signing_alg": "ES256",
    });
    assert_eq!(created, expected);

    let path = api_path(identifier);
    assert_eq!(path, "/apis/https%3A%2F%2Fapi.example.test%2F");
    let (status, fetched) = call(&app, Method::GET, &path, &token, None).await;
    assert_eq!(status, StatusCode::OK, "{fetched}");
    assert_eq!(fetched, expected);
    let (_, list) = call(&app, Method::GET, "/apis", &token, None).await;
    assert_eq!(list["items"], json!([expected]));
    let jwks: Value = app.get("/jwks").await.json().await.unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["alg"] == json!("ES256")),
        "the API's key is published at once: {jwks}"
    );

    let (status, replaced) = call(
        &app,
        Method::PUT,
        &path,
        &token,
        Some(json!({ "name": "Renamed", "scopes": [{ "name": "read" }] })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["name"], json!("Renamed"));
    assert_eq!(
        replaced["scopes"],
        json!([{ "name": "read", "description": "" }])
    );
    assert_eq!(replaced["signing_alg"], json!("RS256"), "a PUT replaces");
    assert_eq!(replaced["roles"], json!({}));
    let renamed = call(
        &app,
        Method::PUT,
        &path,
        &token,
        Some(json!({ "identifier": "https://other.example.test/" })),
    )
    .await;
    assert_refused(
        &renamed,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "identifier cannot be changed",
    );
    let missing = call(
        &app,
        Method::PUT,
        &api_path("https://missing.example.test/"),
        &token,
        Some(json!({})),
    )
    .await;
    assert_refused(&missing, StatusCode::NOT_FOUND, "not_found", "no API");
    let taken = call(
        &app,
        Method::POST,
        "/apis",
        &token,
        Some(json!({ "identifier": identifier })),
    )
    .await;
    assert_refused(&taken, StatusCode::CONFLICT, "conflict", "already exists");

    let (status, _) = call(&app, Method::DELETE, &path, &token, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = call(&app, Method::GET, &path, &token, None).await;
    assert_refused(&gone, StatusCode::NOT_FOUND, "not_found", "no API");
    let mut names: Vec<String> = audit_events(&app, &token, "admin.api.")
        .await
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "admin.api.created",
            "admin.api.deleted",
            "admin.api.updated"
        ]
    );
}

#[tokio::test]
async fn apis_with_a_bad_identifier_or_algorithm_are_refused() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    for (identifier, words) in [
        ("not a uri", "is not an absolute URI"),
        ("https://x/#frag", "has a fragment"),
    ] {
        let refused = call(
            &app,
            Method::POST,
            "/apis",
            &token,
            Some(json!({ "identifier": identifier })),
        )
        .await;
        assert_refused(&refused, StatusCode::BAD_REQUEST, "invalid_request", words);
    }
    let bad_alg = call(
        &app,
        Method::POST,
        "/apis",
        &token,
        Some(json!({ "identifier": "https://api.example.test/", "signing_alg": "HS256" })),
    )
    .await;
    assert_refused(
        &bad_alg,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "signing algorithm \"HS256\" is not supported",
    );
    let no_group = call(
        &app,
        Method::POST,
        "/apis",
        &token,
        Some(
            json!({ "identifier": "https://api.example.test/", "roles": { "reader": ["ghosts"] } }),
        ),
    )
    .await;
    assert_refused(
        &no_group,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "no group \"ghosts\"",
    );
    let no_identifier = call(&app, Method::POST, "/apis", &token, Some(json!({}))).await;
    assert_refused(
        &no_identifier,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "identifier is required",
    );
    let (_, list) = call(&app, Method::GET, "/apis", &token, None).await;
    assert_eq!(list["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn custom_scopes_are_managed_and_standard_names_refused() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let (status, created) = call(
        &app,
        Method::POST,
        "/scopes",
        &token,
        Some(json!({ "name": "team", "description": "Your team", "claims": ["team", "department", "team"] })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created,
        json!({ "name": "team", "description": "Your team", "claims": ["department", "team"] })
    );
    let taken = call(
        &app,
        Method::POST,
        "/scopes",
        &token,
        Some(json!({ "name": "team" })),
    )
    .await;
    assert_refused(&taken, StatusCode::CONFLICT, "conflict", "already exists");
    for name in ["openid", "groups"] {
        let refused = call(
            &app,
            Method::POST,
            "/scopes",
            &token,
            Some(json!({ "name": name })),
        )
        .await;
        assert_refused(
            &refused,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("{name:?} is a scope Gatehouse defines"),
        );
        let refused = call(
            &app,
            Method::PUT,
            &format!("/scopes/{name}"),
            &token,
            Some(json!({})),
        )
        .await;
        assert_refused(
            &refused,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a scope Gatehouse defines",
        );
    }
    let reserved_claim = call(
        &app,
        Method::POST,
        "/scopes",
        &token,
        Some(json!({ "name": "who", "claims": ["sub"] })),
    )
    .await;
    assert_refused(
        &reserved_claim,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "reserved claim name",
    );

    let (status, replaced) = call(
        &app,
        Method::PUT,
        "/scopes/team",
        &token,
        Some(json!({ "description": "Your team and office", "claims": ["office"] })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["claims"], json!(["office"]));
    let (_, list) = call(&app, Method::GET, "/scopes", &token, None).await;
    assert_eq!(
        list["items"],
        json!([{ "name": "team", "description": "Your team and office", "claims": ["office"] }])
    );
    let (status, _) = call(&app, Method::DELETE, "/scopes/team", &token, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = call(&app, Method::DELETE, "/scopes/team", &token, None).await;
    assert_refused(&gone, StatusCode::NOT_FOUND, "not_found", "no scope");
    let (_, list) = call(&app, Method::GET, "/scopes", &token, None).await;
    assert_eq!(list["items"], json!([]));
}
