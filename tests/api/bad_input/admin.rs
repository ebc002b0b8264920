//! The admin screens and the admin API: first without the right to be
//! there (what comes first is the door), then as an admin with bad input.

use super::Expect::{Json, JsonOk, Page, Redirect};
use super::*;
use serde_json::json;

const UNREADABLE: &str = "This form could not be read";
const MALFORMED_ADDRESS: &str = "This address is malformed";
const TOO_LARGE: &str = "larger than 64 KiB";
const ADMIN_PASSWORD: &str = "root's long admin passphrase";

/// Paths under /admin that take an id, each with a NUL in it.
const NUL_PATHS: &[(&str, &str)] = &[
    ("GET", "/admin/users/%00"),
    ("POST", "/admin/users/%00"),
    ("POST", "/admin/users/%00/disable"),
    ("GET", "/admin/groups/%00"),
    ("POST", "/admin/groups/%00/delete"),
    ("GET", "/admin/clients/%00"),
    ("POST", "/admin/clients/%00"),
    ("GET", "/admin/apis/%00"),
    ("POST", "/admin/apis/%00/delete"),
    ("GET", "/admin/users?q=%00"),
    ("GET", "/admin/audit?user=%00"),
];

fn admin_screen_cases_for(who: &str) -> Vec<Case> {
    NUL_PATHS
        .iter()
        .map(|(verb, path)| {
            let case = method(verb, *path).form("csrf={csrf}&name=x").named(who);
            match who {
                "anonymous" => case.then(Redirect(302, "/login?then=admin")),
                "non-admin" => case.then(Page(403, "This page is for administrators")),
                _ => case.then(Page(400, MALFORMED_ADDRESS)),
            }
        })
        .collect()
}

#[rustfmt::skip]
fn admin_form_cases() -> Vec<Case> {
    vec![
        get("/admin/users?page=abc").named("page not a number").then(Page(200, "Users")),
        get("/admin/users?page=99999999999999999999").named("page past i64").then(Page(200, "Users")),
        get("/admin/users?page=9223372036854775807").named("page i64::MAX").then(Page(200, "Users")),
        get("/admin/users?page=-5").named("negative page").then(Page(200, "Users")),
        get("/admin/audit?since=abc&until=%ff").named("dates not numbers").then(Page(200, "Audit log")),
        get("/admin/users/%ff").named("invalid UTF-8 id").then(Page(404, "Not found")),
        get(format!("/admin/users/{}", "x".repeat(3000))).named("long id").then(Page(404, "Not found")),
        get("/admin/nothing").named("unknown page").then(Page(404, "Page not found")),
        post("/admin/users").json(r#"{"username":"x"}"#).named("JSON body").then(Page(400, UNREADABLE)),
        post("/admin/users").form("username=x").named("no CSRF").then(Page(403, "This form had expired")),
        post("/admin/users").form(oversized_body()).named("body over 64 KiB").then(Page(413, TOO_LARGE)),
        post("/admin/users").form(format!("csrf={{csrf}}&name={}", over_field_limit())).named("field over the limit").then(Page(400, UNREADABLE)),
        post("/admin/users").form("csrf={csrf}&username=a&username=b").named("username twice").then(Page(400, "parameter username is included more than once")),
        post("/admin/users").form("csrf={csrf}&username=nn1&name=a%00b").named("NUL in the name").then(Page(400, "parameter name contains a NUL character")),
        post("/admin/users").form(format!("csrf={{csrf}}&username={}", "u".repeat(65))).named("username too long").then(Page(400, "A username has 1 to 64 characters")),
        post("/admin/users/nobody/frobnicate").form("csrf={csrf}").named("unknown action").then(Page(404, "Not found")),
        post("/admin/groups").form("csrf={csrf}&name=G%20G").named("bad group name").then(Page(400, "Groups")),
        post("/admin/grants/revoke").form("csrf={csrf}&id=nope").named("unknown grant").then(Page(404, "Not found")),
        post("/admin/keys/rotate").untyped("").named("no content type").then(Page(400, UNREADABLE)),
    ]
}

/// The admin API before its door lets anyone in.
#[rustfmt::skip]
fn api_door_cases(service_token: &str, wrong_aud: &str) -> Vec<Case> {
    vec![
        get("/admin/api/v1/users").named("no token").then(Json(401, "invalid_token")),
        get("/admin/api/v1/users/%00").named("no token, NUL id").then(Json(401, "invalid_token")),
        post("/admin/api/v1/users").json("{").named("no token, malformed JSON").then(Json(401, "invalid_token")),
        get("/admin/api/v1/users").bearer("a.b.c").named("not a JWT").then(Json(401, "invalid_token")),
        get("/admin/api/v1/users").auth("Basic YXV0b21hdGlvbjp4").named("Basic scheme").then(Json(401, "invalid_token")),
        get("/admin/api/v1/users").bearer(service_token).named("not an admin client").then(Json(403, "insufficient_scope")),
        get("/admin/api/v1/users").bearer(wrong_aud).named("admin token for another audience").then(Json(401, "invalid_token")),
    ]
}

#[rustfmt::skip]
fn api_cases() -> Vec<Case> {
    let users = "/admin/api/v1/users";
    vec![
        get(format!("{users}?page=abc")).named("page not a number").then(Json(400, "invalid_request")),
        get(format!("{users}?page=99999999999999999999")).named("page past i64").then(Json(400, "invalid_request")),
        get(format!("{users}?page=1&page=2")).named("page twice").then(Json(400, "invalid_request")),
        get(format!("{users}?page=9223372036854775807")).named("page i64::MAX").then(JsonOk(200)),
        get(format!("{users}?per_page=-1&page=-1")).named("negative page").then(JsonOk(200)),
        get(format!("{users}?q=%00")).named("NUL search").then(Json(400, "invalid_request")),
        get(format!("{users}?q=%ff")).named("invalid UTF-8 search").then(JsonOk(200)),
        get(format!("{users}/%00")).named("NUL id").then(Json(400, "invalid_request")),
        get(format!("{users}/%ff")).named("invalid UTF-8 id").then(Json(404, "not_found")),
        get(format!("{users}/{}", "x".repeat(3000))).named("long id").then(Json(404, "not_found")),
        post(users).json(r#"{"username":"#).named("malformed JSON").then(Json(400, "invalid_request")),
        post(users).json(r#"{"username":"zed","colour":"red"}"#).named("unknown field").then(Json(400, "invalid_request")),
        post(users).json(r#"{"username":5}"#).named("wrong type").then(Json(400, "invalid_request")),
        post(users).json(r#"{"username":"a1","username":"a2"}"#).named("duplicated key").then(Json(400, "invalid_request")),
        post(users).json("[]").named("an array").then(Json(400, "invalid_request")),
        post(users).json("").named("empty body").then(Json(400, "invalid_request")),
        post(users).form("username=zed").named("form body").then(Json(415, "invalid_request")),
        post(users).json(format!(r#"{{"username":"{}"}}"#, "x".repeat(70 * 1024))).named("body over 64 KiB").then(Json(413, "invalid_request")),
        post(users).json(r#"{"username":"a\u0000b"}"#).named("NUL in the username").then(Json(400, "invalid_request")),
        post(users).json(format!(r#"{{"username":"{}"}}"#, "u".repeat(65))).named("username too long").then(Json(400, "invalid_request")),
        post(users).json(format!(r#"{{"username":"lp","password":"{}"}}"#, "p".repeat(1025))).named("password too long").then(Json(400, "invalid_request")),
        method("PATCH", format!("{users}/nobody")).json("{").named("malformed JSON").then(Json(400, "invalid_request")),
        method("PUT", format!("{users}/nobody/claims/tier")).json("{").named("malformed JSON").then(Json(400, "invalid_request")),
        post("/admin/api/v1/clients").json(r#"{"client_id":"c1","bogus":1}"#).named("unknown field").then(Json(400, "invalid_request")),
        post("/admin/api/v1/clients").json(r#"{"client_id":"#).named("malformed JSON").then(Json(400, "invalid_request")),
        method("PUT", "/admin/api/v1/clients/webapp").json(r#"{"bogus":1}"#).named("unknown field").then(Json(400, "invalid_request")),
        get("/admin/api/v1/clients/%00").named("NUL id").then(Json(400, "invalid_request")),
        post("/admin/api/v1/groups").json(r#"{"name":"g","bogus":1}"#).named("unknown field").then(Json(400, "invalid_request")),
        method("PATCH", "/admin/api/v1/groups/%00").json("{}").named("NUL name").then(Json(400, "invalid_request")),
        post("/admin/api/v1/apis").json(r#"{"identifier":"https://x.test/","bogus":1}"#).named("unknown field").then(Json(400, "invalid_request")),
        get("/admin/api/v1/apis/%00").named("NUL identifier").then(Json(400, "invalid_request")),
        post("/admin/api/v1/scopes").json(r#"{"name":"s","bogus":1}"#).named("unknown field").then(Json(400, "invalid_request")),
        method("DELETE", "/admin/api/v1/grants/%00").named("NUL grant").then(Json(400, "invalid_request")),
        get("/admin/api/v1/audit?limit=abc").named("limit not a number").then(Json(400, "invalid_request")),
        get("/admin/api/v1/audit?since=99999999999999999999").named("since past i64").then(Json(400, "invalid_request")),
        get("/admin/api/v1/audit?limit=9223372036854775807").named("huge limit").then(JsonOk(200)),
        get("/admin/api/v1/nothing").named("unknown operation").then(Json(404, "not_found")),
    ]
}

/// A real access token of the admin client, signed by the server's own key
/// with everything right but the audience, which names an API.
fn admin_token_for(app: &TestApp, aud: &str) -> String {
    use gatehouse::clock::Clock;
    let now = app.clock.now();
    let claims = json!({
        "iss": app.address, "sub": "automation", "aud": aud, "client_id": "automation",
        "exp": now + 600, "iat": now, "jti": uuid::Uuid::new_v4().to_string(),
        "scope": "gatehouse:admin",
    });
    gatehouse::crypto::jwt::sign(
        &app.provider.loaded_keys().expect("the keys are in").signing,
        "at+jwt",
        &claims,
    )
    .unwrap()
}

#[tokio::test]
async fn the_admin_screens_answer_bad_input_exactly() {
    let app = spawn_app().await;
    run(
        &app,
        &anonymous(),
        None,
        admin_screen_cases_for("anonymous"),
    )
    .await;
    let (alice, csrf) = signed_in_browser(&app, "alice", ALICE_PASSWORD).await;
    run(
        &app,
        &alice,
        Some(&csrf),
        admin_screen_cases_for("non-admin"),
    )
    .await;
    app.create_admin_user("root", ADMIN_PASSWORD).await;
    let (root, csrf) = signed_in_browser(&app, "root", ADMIN_PASSWORD).await;
    run(&app, &root, Some(&csrf), admin_screen_cases_for("admin")).await;
    run(&app, &root, Some(&csrf), admin_form_cases()).await;
}

#[tokio::test]
async fn the_admin_api_answers_bad_input_exactly() {
    let app = spawn_app().await;
    let service = app
        .client_token((SERVICE, SERVICE_SECRET), "api:read")
        .await;
    let service: Value = service.json().await.unwrap();
    let service = service["access_token"].as_str().unwrap().to_string();
    let wrong_aud = admin_token_for(&app, "https://api.example.test/");
    run(
        &app,
        &anonymous(),
        None,
        api_door_cases(&service, &wrong_aud),
    )
    .await;
    // The same forged-by-the-server token addressed to the client itself
    // passes: the audience alone made the difference.
    let right_aud = admin_token_for(&app, "automation");
    let passes = app
        .api
        .get(app.url("/admin/api/v1/users"))
        .bearer_auth(&right_aud)
        .send()
        .await
        .unwrap();
    assert_eq!(passes.status(), reqwest::StatusCode::OK);
    // A browser session is no way into the API, whatever the input.
    let (alice, _) = signed_in_browser(&app, "alice", ALICE_PASSWORD).await;
    let forbidden = vec![get("/admin/api/v1/users/%00")
        .named("browser session")
        .then(Json(403, "forbidden"))];
    run(&app, &alice, None, forbidden).await;
    let token = app.admin_token().await;
    let cases = api_cases()
        .into_iter()
        .map(|case| case.bearer(&token))
        .collect();
    run(&app, &app.api, None, cases).await;
}
