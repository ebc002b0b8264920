//! Upstream identity providers managed through the admin API, the admin
//! screens and the command line: each checks what it is given, answers a
//! refusal with 400 or 409 (never 500), and never shows the client secret.

use crate::admin_ui::sign_in_as_admin;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SECRET: &str = "corp-Secret-7f3a9c1e5b";
const NEW_SECRET: &str = "rotated-Secret-42d8e0b6a1";

fn corp(secret: Option<&str>) -> Value {
    let mut body = json!({
        "id": "corp",
        "kind": "oidc",
        "name": "Corp",
        "issuer": "https://login.corp.example",
        "client_id": "gatehouse",
        "scopes": ["openid", "email"],
    });
    if let Some(secret) = secret {
        body["client_secret"] = json!(secret);
    }
    body
}

/// The stored upstream, straight from the store.
async fn stored(app: &TestApp, id: &str) -> Option<gatehouse::model::UpstreamRecord> {
    app.provider.store.upstream(id).await.unwrap()
}

/// Adds the local groups upstream groups are mapped to, straight in the
/// store.
async fn add_groups(app: &TestApp) {
    use gatehouse::clock::Clock;
    for name in ["engineering", "sales"] {
        let added = app
            .provider
            .store
            .insert_group(name, "", app.clock.now())
            .await
            .unwrap();
        assert!(added, "{name} is new");
    }
}

/// An API call's status and body text.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let response = app.api(method, path, token, body).await;
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_api_adds_reads_changes_and_deletes_upstreams_without_the_secret() {
    let app = spawn_app().await;
    add_groups(&app).await;
    let token = app.admin_token().await;

    let (status, text) = call(
        &app,
        Method::POST,
        "/upstreams",
        &token,
        Some(corp(Some(SECRET))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert!(
        !text.contains(SECRET),
        "POST answered with the secret: {text}"
    );
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["id"], "corp");
    assert_eq!(created["client_secret_set"], true);
    assert!(created.get("client_secret").is_none());
    assert_eq!(
        created["redirect_uri"],
        format!("{}/upstream/corp/callback", app.address)
    );
    assert_eq!(stored(&app, "corp").await.unwrap().client_secret, SECRET);

    let (status, text) = call(&app, Method::GET, "/upstreams", &token, None).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(!text.contains(SECRET), "the list shows the secret: {text}");
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["items"][0]["id"], "corp");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    let (status, text) = call(&app, Method::GET, "/upstreams/corp", &token, None).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(!text.contains(SECRET), "GET shows the secret: {text}");
    let one: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(one["issuer"], "https://login.corp.example");
    assert_eq!(one["scopes"], json!(["openid", "email"]));

    // A replacement without a secret keeps the stored one; the id may be
    // left out of the body.
    let mut changed = corp(None);
    changed["name"] = json!("Corp SSO");
    changed["mfa"] = json!(true);
    changed["group_map"] = json!({ "corp-engineers": "engineering" });
    changed.as_object_mut().unwrap().remove("id");
    let (status, text) = call(&app, Method::PUT, "/upstreams/corp", &token, Some(changed)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        !text.contains(SECRET),
        "PUT answered with the secret: {text}"
    );
    let record = stored(&app, "corp").await.unwrap();
    assert_eq!(
        record.client_secret, SECRET,
        "an absent secret keeps the stored one"
    );
    assert_eq!(record.name, "Corp SSO");
    assert!(record.mfa);
    assert_eq!(record.group_map["corp-engineers"], "engineering");

    let mut empty_secret = corp(Some(""));
    empty_secret["name"] = json!("Corp");
    let (status, text) = call(
        &app,
        Method::PUT,
        "/upstreams/corp",
        &token,
        Some(empty_secret),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(
        stored(&app, "corp").await.unwrap().client_secret,
        SECRET,
        "an empty secret keeps the stored one"
    );

    let (status, text) = call(
        &app,
        Method::PUT,
        "/upstreams/corp",
        &token,
        Some(corp(Some(NEW_SECRET))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        !text.contains(NEW_SECRET),
        "PUT answered with the new secret: {text}"
    );
    assert_eq!(
        stored(&app, "corp").await.unwrap().client_secret,
        NEW_SECRET
    );

    let (status, text) = call(
        &app,
        Method::POST,
        "/upstreams",
        &token,
        Some(corp(Some(SECRET))),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{text}");
    let conflict: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(conflict["error"], "conflict");

    let (status, text) = call(&app, Method::DELETE, "/upstreams/corp", &token, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    assert!(stored(&app, "corp").await.is_none());
    let (status, text) = call(&app, Method::GET, "/upstreams/corp", &token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
    let missing: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(missing["error"], "not_found");
    let (status, _) = call(&app, Method::DELETE, "/upstreams/corp", &token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &app,
        Method::PUT,
        "/upstreams/corp",
        &token,
        Some(corp(None)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, log) = app
        .api_json(Method::GET, "/audit?event=admin.upstream.", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let events: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for expected in [
        "admin.upstream.created",
        "admin.upstream.updated",
        "admin.upstream.deleted",
    ] {
        assert!(events.contains(&expected), "{expected} in {events:?}");
    }
}

#[tokio::test]
async fn the_api_refuses_unfit_upstreams_with_400_and_a_code() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let with = |field: &str, value: Value| {
        let mut body = corp(Some(SECRET));
        body[field] = value;
        body
    };
    for (what, body) in [
        (
            "an id with capitals and a space",
            with("id", json!("Corp SSO")),
        ),
        ("an unknown kind", with("kind", json!("saml"))),
        (
            "an http issuer that is not loopback",
            with("issuer", json!("http://login.corp.example")),
        ),
        (
            "a group map to a group that does not exist",
            with("group_map", json!({ "corp-staff": "nope" })),
        ),
        ("no secret", corp(None)),
        ("an unknown field", with("client_secret_set", json!(true))),
        ("a kind that is not a string", with("kind", json!(7))),
    ] {
        let (status, text) = call(&app, Method::POST, "/upstreams", &token, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {text}");
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["error"], "invalid_request", "{what}: {text}");
        assert!(error["error_description"].is_string(), "{what}: {text}");
        assert!(
            !text.contains(SECRET),
            "{what}: the refusal shows the secret"
        );
    }

    let broken = app
        .api
        .post(app.url("/admin/api/v1/upstreams"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"id": "corp", "kind": "oidc""#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        broken.status(),
        StatusCode::BAD_REQUEST,
        "bad JSON is not a 500"
    );
    let error: Value = broken.json().await.unwrap();
    assert_eq!(error["error"], "invalid_request");
    assert!(
        app.provider.store.upstreams().await.unwrap().is_empty(),
        "nothing was added"
    );

    // A replacement is checked the same way, and cannot change the id.
    let (status, _) = call(
        &app,
        Method::POST,
        "/upstreams",
        &token,
        Some(corp(Some(SECRET))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    for (what, body) in [
        (
            "an http issuer that is not loopback",
            with("issuer", json!("http://login.corp.example")),
        ),
        ("another id", with("id", json!("other"))),
        ("a body that is not an object", json!(["corp"])),
    ] {
        let (status, text) = call(&app, Method::PUT, "/upstreams/corp", &token, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {text}");
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["error"], "invalid_request", "{what}: {text}");
    }
    let record = stored(&app, "corp").await.unwrap();
    assert_eq!(record.issuer.as_deref(), Some("https://login.corp.example"));
    assert!(stored(&app, "other").await.is_none());
}

/// The admin screens' HTML with `/` unescaped, as a browser reads it.
async fn page(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap().replace("&#x2F;", "/")
}

/// The add form's fields for `corp` with `secret`.
fn add_form(secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("id", "corp".into()),
        ("kind", "oidc".into()),
        ("name", "Corp".into()),
        ("issuer", "https://login.corp.example".into()),
        ("client_id", "gatehouse".into()),
        ("client_secret", secret.into()),
        ("scopes", "openid email".into()),
        ("jit", "on".into()),
        ("enabled", "on".into()),
    ]
}

async fn submit(
    app: &TestApp,
    form_page: &str,
    action: &str,
    fields: &[(&str, String)],
) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = app.get(form_page).await;
    app.submit_form(page, action, &fields).await
}

#[tokio::test]
async fn the_admin_screens_add_edit_disable_and_delete_upstreams() {
    let app = spawn_app().await;
    add_groups(&app).await;
    sign_in_as_admin(&app).await;
    let nav = page(&app, "/admin/users").await;
    let empty = page(&app, "/admin/upstreams").await;
    assert!(empty.contains("No upstreams yet."), "{empty}");
    assert!(
        empty.contains(r#"<option value="oidc" selected>"#),
        "OpenID Connect first"
    );
    assert!(
        nav.contains("/admin/upstreams\""),
        "the nav links to the upstreams"
    );

    let mut refused = add_form(SECRET);
    refused[3].1 = "http://login.corp.example".into();
    let answer = submit(&app, "/admin/upstreams", "/admin/upstreams", &refused).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let html = answer.text().await.unwrap().replace("&#x2F;", "/");
    assert!(html.contains("issuer must be an https URL"), "{html}");
    assert!(
        html.contains("value=\"http://login.corp.example\""),
        "what was typed stays"
    );
    assert!(!html.contains(SECRET), "the refused form shows the secret");
    assert!(stored(&app, "corp").await.is_none());

    let added = submit(
        &app,
        "/admin/upstreams",
        "/admin/upstreams",
        &add_form(SECRET),
    )
    .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&added).ends_with("/admin/upstreams/corp?done=upstream-created"),
        "{}",
        location(&added)
    );
    let record = stored(&app, "corp").await.unwrap();
    assert_eq!(record.client_secret, SECRET);
    assert!(record.enabled && record.jit && !record.mfa);
    assert_eq!(record.scopes, ["openid", "email"]);

    let taken = submit(
        &app,
        "/admin/upstreams",
        "/admin/upstreams",
        &add_form(SECRET),
    )
    .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert!(!taken.text().await.unwrap().contains(SECRET));

    let list = page(&app, "/admin/upstreams").await;
    assert!(list.contains(">corp</a>"), "{list}");
    assert!(
        list.contains(&format!("{}/upstream/corp/callback", app.address)),
        "the list shows the redirect URI to register: {list}"
    );
    assert!(!list.contains(SECRET));

    let detail = page(&app, "/admin/upstreams/corp?done=upstream-created").await;
    assert!(detail.contains("The upstream was added"), "{detail}");
    assert!(
        detail.contains(">set</span>"),
        "the secret is said to be set"
    );
    assert!(detail.contains(&format!("{}/upstream/corp/callback", app.address)));
    assert!(!detail.contains(SECRET), "the edit form shows the secret");

    // Saved with the secret field left empty: the stored secret stays.
    let edited = vec![
        ("kind", "oidc".to_string()),
        ("name", "Corp SSO".into()),
        ("issuer", "https://login.corp.example".into()),
        ("client_id", "gatehouse-2".into()),
        ("client_secret", String::new()),
        ("scopes", "openid profile".into()),
        ("jit", "on".into()),
        ("mfa", "on".into()),
        ("enabled", "on".into()),
        ("claim_username", "email".into()),
        (
            "group_map",
            "corp-engineers = engineering\n\ncorp-sales=sales".into(),
        ),
    ];
    let saved = submit(
        &app,
        "/admin/upstreams/corp",
        "/admin/upstreams/corp",
        &edited,
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert!(location(&saved).ends_with("/admin/upstreams/corp?done=upstream-saved"));
    let record = stored(&app, "corp").await.unwrap();
    assert_eq!(
        record.client_secret, SECRET,
        "an empty secret field keeps the secret"
    );
    assert_eq!(record.name, "Corp SSO");
    assert_eq!(record.client_id, "gatehouse-2");
    assert!(record.mfa && record.jit && record.enabled && !record.link_by_verified_email);
    assert_eq!(record.scopes, ["openid", "profile"]);
    assert_eq!(record.claims.username, "email");
    assert_eq!(
        record.claims.subject, "sub",
        "empty claim fields keep the default"
    );
    assert_eq!(record.group_map.len(), 2);
    assert_eq!(record.group_map["corp-sales"], "sales");
    let detail = page(&app, "/admin/upstreams/corp").await;
    assert!(detail.contains("corp-engineers = engineering"), "{detail}");
    assert!(detail.contains("value=\"Corp SSO\""));

    // Refusals come back on the form with what was typed.
    let mut unknown_group = edited.clone();
    unknown_group[1].1 = "Corp Typed".into();
    unknown_group[10].1 = "corp-ops = nope".into();
    let answer = submit(
        &app,
        "/admin/upstreams/corp",
        "/admin/upstreams/corp",
        &unknown_group,
    )
    .await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let html = answer.text().await.unwrap();
    assert!(html.contains("there is no group"), "{html}");
    assert!(
        html.contains("value=\"Corp Typed\""),
        "what was typed stays"
    );
    assert!(html.contains("corp-ops = nope"));
    let mut bad_line = edited.clone();
    bad_line[10].1 = "corp-ops engineering".into();
    let answer = submit(
        &app,
        "/admin/upstreams/corp",
        "/admin/upstreams/corp",
        &bad_line,
    )
    .await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer
        .text()
        .await
        .unwrap()
        .contains("upstream-group = local-group"));
    assert_eq!(
        stored(&app, "corp").await.unwrap().name,
        "Corp SSO",
        "nothing changed"
    );

    // A new secret replaces the stored one, and is not shown either.
    let mut rotated = edited.clone();
    rotated[4].1 = NEW_SECRET.into();
    let saved = submit(
        &app,
        "/admin/upstreams/corp",
        "/admin/upstreams/corp",
        &rotated,
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        stored(&app, "corp").await.unwrap().client_secret,
        NEW_SECRET
    );
    assert!(!page(&app, "/admin/upstreams/corp")
        .await
        .contains(NEW_SECRET));

    let forged = app
        .browser
        .post(app.url("/admin/upstreams/corp/disable"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "CSRF checked");
    assert!(stored(&app, "corp").await.unwrap().enabled);

    let disabled = submit(
        &app,
        "/admin/upstreams/corp",
        "/admin/upstreams/corp/disable",
        &[],
    )
    .await;
    assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
    assert!(!stored(&app, "corp").await.unwrap().enabled);
    let detail = page(&app, "/admin/upstreams/corp?done=upstream-disabled").await;
    assert!(detail.contains("Enable upstream"), "{detail}");
    assert!(page(&app, "/admin/upstreams")
        .await
        .contains(">Disabled</span>"));
    let enabled = submit(
        &app,
        "/admin/upstreams/corp",
        "/admin/upstreams/corp/enable",
        &[],
    )
    .await;
    assert_eq!(enabled.status(), StatusCode::SEE_OTHER);
    assert!(stored(&app, "corp").await.unwrap().enabled);

    let unconfirmed = submit(
        &app,
        "/admin/upstreams/corp",
        "/admin/upstreams/corp/delete",
        &[("confirm", "crop".into())],
    )
    .await;
    assert_eq!(unconfirmed.status(), StatusCode::BAD_REQUEST);
    assert!(stored(&app, "corp").await.is_some());
    let deleted = submit(
        &app,
        "/admin/upstreams/corp",
        "/admin/upstreams/corp/delete",
        &[("confirm", "corp".into())],
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert!(location(&deleted).ends_with("/admin/upstreams?done=upstream-deleted"));
    assert!(stored(&app, "corp").await.is_none());
    assert_eq!(
        app.get("/admin/upstreams/corp").await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn run(
    app: &TestApp,
    args: &[&str],
    envs: &[(&str, &str)],
    stdin: Option<&str>,
) -> (i32, String, String) {
    let out = gatehouse_cli(&app.database_url, args, envs, stdin).await;
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn upstreams_are_managed_from_the_command_line_without_printing_the_secret() {
    let app = spawn_app().await;
    let add = [
        "upstream",
        "add",
        "--id",
        "corp",
        "--kind",
        "oidc",
        "--name",
        "Corp",
        "--issuer",
        "https://login.corp.example",
        "--client-id",
        "gatehouse",
        "--scopes",
        "openid email",
        "--mfa",
        "--client-secret-stdin",
    ];
    let (code, out, err) = run(&app, &add, &[], Some(&format!("{SECRET}\n"))).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Added upstream corp"), "{out}");
    assert!(
        out.contains("/upstream/corp/callback"),
        "the redirect URI to register: {out}"
    );
    assert!(!out.contains(SECRET) && !err.contains(SECRET));
    let record = stored(&app, "corp").await.unwrap();
    assert_eq!(record.client_secret, SECRET, "read from standard input");
    assert!(record.mfa && record.jit && record.enabled);
    assert_eq!(record.scopes, ["openid", "email"]);

    let github = [
        "upstream",
        "add",
        "--id",
        "github",
        "--kind",
        "oauth2",
        "--name",
        "GitHub",
        "--client-id",
        "gh",
        "--authorization-endpoint",
        "https://github.com/login/oauth/authorize",
        "--token-endpoint",
        "https://github.com/login/oauth/access_token",
        "--userinfo-endpoint",
        "https://api.github.com/user",
        "--no-jit",
        "--link-by-verified-email",
    ];
    let (code, _, err) = run(&app, &github, &[], None).await;
    assert_eq!(code, 2, "no secret anywhere: {err}");
    assert!(err.contains("GATEHOUSE_UPSTREAM_SECRET"), "{err}");
    let (code, out, err) = run(
        &app,
        &github,
        &[("GATEHOUSE_UPSTREAM_SECRET", NEW_SECRET)],
        None,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(NEW_SECRET) && !err.contains(NEW_SECRET));
    let record = stored(&app, "github").await.unwrap();
    assert_eq!(
        record.client_secret, NEW_SECRET,
        "read from the environment"
    );
    assert!(!record.jit && record.link_by_verified_email);

    let (code, out, err) = run(&app, &add, &[], Some(&format!("{SECRET}\n"))).await;
    assert_eq!(code, 4, "taken: {out}{err}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET));
    let mut unfit = add;
    unfit[5] = "saml";
    unfit[3] = "other";
    let (code, _, err) = run(&app, &unfit, &[], Some(&format!("{SECRET}\n"))).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("kind must be oidc or oauth2"), "{err}");
    let mut plain_http = add;
    plain_http[3] = "other";
    plain_http[9] = "http://login.corp.example";
    let (code, _, err) = run(&app, &plain_http, &[], Some(&format!("{SECRET}\n"))).await;
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains(SECRET));
    assert!(stored(&app, "other").await.is_none());

    let (code, out, err) = run(&app, &["upstream", "list"], &[], None).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("corp ") && l.contains("enabled")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("github ") && l.contains("oauth2")),
        "{out}"
    );
    assert!(!out.contains(SECRET) && !out.contains(NEW_SECRET));

    let (code, out, err) = run(&app, &["upstream", "show", "corp"], &[], None).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("https://login.corp.example"), "{out}");
    let secret_line: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with("client_secret:"))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(secret_line, ["client_secret:", "set"], "{out}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET));
    let (code, _, err) = run(&app, &["upstream", "show", "nobody"], &[], None).await;
    assert_eq!(code, 3, "{err}");

    let (code, _, err) = run(&app, &["upstream", "disable", "corp"], &[], None).await;
    assert_eq!(code, 0, "{err}");
    assert!(!stored(&app, "corp").await.unwrap().enabled);
    let (code, out, _) = run(&app, &["upstream", "list"], &[], None).await;
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l.starts_with("corp ") && l.contains("disabled")),
        "{out}"
    );
    let (code, _, err) = run(&app, &["upstream", "enable", "corp"], &[], None).await;
    assert_eq!(code, 0, "{err}");
    assert!(stored(&app, "corp").await.unwrap().enabled);
    let (code, _, _) = run(&app, &["upstream", "disable", "nobody"], &[], None).await;
    assert_eq!(code, 3);

    let (code, _, err) = run(&app, &["upstream", "delete", "corp"], &[], None).await;
    assert_eq!(code, 0, "{err}");
    assert!(stored(&app, "corp").await.is_none());
    let (code, _, _) = run(&app, &["upstream", "delete", "corp"], &[], None).await;
    assert_eq!(code, 3, "gone");

    let logged = count(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM audit_events WHERE actor = 'cli'
         AND event IN ('admin.upstream.created', 'admin.upstream.disabled',
                       'admin.upstream.enabled', 'admin.upstream.deleted')",
    )
    .await;
    assert_eq!(logged, 5, "every change is in the audit log");
}
