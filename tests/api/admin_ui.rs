//! The admin screens: only admins get in (anonymous visitors go to the
//! sign-in page, other users get 403 everywhere), every form is
//! CSRF-protected, and every action is audited.

use crate::helpers::*;
use reqwest::StatusCode;

const ROOT_PASSWORD: &str = "root's long admin passphrase";

/// Creates the admin `root` and signs in as them in the app's browser.
pub(crate) async fn sign_in_as_admin(app: &TestApp) {
    app.create_admin_user("root", ROOT_PASSWORD).await;
    let to_login = app.get("/admin/users").await;
    assert_eq!(to_login.status(), StatusCode::FOUND);
    assert!(location(&to_login).ends_with("/login?then=admin"));
    let answer = app.sign_in(&to_login, "root", ROOT_PASSWORD).await;
    assert!(
        location(&answer).ends_with("/admin"),
        "{}",
        location(&answer)
    );
    let index = app.follow(&answer).await;
    assert!(location(&index).ends_with("/admin/users"));
}

/// The value shown once on the secret page.
fn shown_secret(html: &str) -> String {
    let start = html.find("id=\"secret\"").expect("a secret");
    let start = start + html[start..].find('>').unwrap() + 1;
    let end = start + html[start..].find('<').unwrap();
    html[start..end].to_string()
}

#[tokio::test]
async fn non_admins_get_403_everywhere_under_admin() {
    let app = spawn_app().await;
    let page = app.get("/login").await;
    app.submit_form(
        page,
        "/login",
        &[("username", "alice"), ("password", ALICE_PASSWORD)],
    )
    .await;
    for path in [
        "/admin",
        "/admin/users",
        "/admin/users/new",
        "/admin/clients",
        "/admin/clients/webapp",
        "/admin/groups",
        "/admin/groups/engineering",
        "/admin/apis",
        "/admin/apis/https%3A%2F%2Fapi.example",
        "/admin/scopes",
        "/admin/keys",
        "/admin/audit",
        "/admin/no-such-page",
        "/admin/api/v1/users",
        "/admin/api/v1/openapi.json",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let csrf = hidden_field(&app.get("/login").await.text().await.unwrap(), "csrf").unwrap();
    let posted = app
        .browser
        .post(app.url("/admin/users"))
        .form(&[("csrf", csrf.as_str()), ("username", "mallory")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        count(
            &app.database_url,
            "SELECT COUNT(*) AS n FROM users WHERE username = 'mallory'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn the_admin_check_comes_before_the_form_check() {
    let app = spawn_app().await;
    // Anonymous, with no CSRF token at all: sent to sign in, not told that
    // a form expired.
    let anonymous = app
        .browser
        .post(app.url("/admin/users"))
        .form(&[("username", "mallory")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::FOUND);
    assert!(location(&anonymous).ends_with("/login?then=admin"));

    // Signed in without the admin role, with a forged token: the page says
    // the screens are for administrators.
    let page = app.get("/login").await;
    app.submit_form(
        page,
        "/login",
        &[("username", "alice"), ("password", ALICE_PASSWORD)],
    )
    .await;
    let posted = app
        .browser
        .post(app.url("/admin/users"))
        .form(&[("csrf", "forged"), ("username", "mallory")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::FORBIDDEN);
    let html = posted.text().await.unwrap();
    assert!(html.contains("This page is for administrators"), "{html}");
}

#[tokio::test]
async fn an_admin_manages_users_and_clients_in_the_screens() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;

    let form = app.get("/admin/users/new").await;
    let created = app
        .submit_form(
            form,
            "/admin/users",
            &[
                ("username", "gwen"),
                ("email", "gwen@example.com"),
                ("name", "Gwen"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let html = created.text().await.unwrap();
    assert!(html.contains("gwen was created"));
    let temporary = shown_secret(&html);
    assert_eq!(temporary.len(), 20);

    let form = app.get("/admin/users/new").await;
    let taken = app
        .submit_form(form, "/admin/users", &[("username", "gwen")])
        .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert!(taken.text().await.unwrap().contains("is taken"));

    let list = app.get("/admin/users?q=gw").await.text().await.unwrap();
    assert!(list.contains(">gwen</a>"));
    assert!(!list.contains(">alice</a>"), "filtered");
    let id = count(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM users WHERE username = 'gwen'",
    )
    .await;
    assert_eq!(id, 1);

    let forged = app
        .browser
        .post(app.url("/admin/users"))
        .form(&[("csrf", "forged"), ("username", "mallory")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "CSRF checked");

    let form = app.get("/admin/clients/new").await;
    let refused = app
        .submit_form(
            form,
            "/admin/clients",
            &[
                ("client_id", "wiki"),
                ("client_type", "confidential"),
                ("redirect_uris", "https://wiki.example/*"),
                ("grant_authorization_code", "on"),
                ("scopes", "openid"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("wildcard"));
    let form = app.get("/admin/clients/new").await;
    let registered = app
        .submit_form(
            form,
            "/admin/clients",
            &[
                ("client_id", "wiki"),
                ("name", "Team Wiki"),
                ("client_type", "confidential"),
                (
                    "redirect_uris",
                    "https://wiki.example/cb\nhttp://127.0.0.1:8123/cb",
                ),
                ("grant_authorization_code", "on"),
                ("grant_refresh_token", "on"),
                ("scopes", "openid profile offline_access"),
                ("require_consent", "on"),
                ("access_token_ttl", "900"),
            ],
        )
        .await;
    assert_eq!(registered.status(), StatusCode::OK);
    let secret = shown_secret(&registered.text().await.unwrap());
    let wiki = app.provider.store.client("wiki").await.unwrap().unwrap();
    assert_eq!(wiki.redirect_uris.len(), 2);
    assert_eq!(wiki.lifetimes.access_token, Some(900));
    assert_eq!(
        wiki.secret_hash.as_deref(),
        Some(gatehouse::crypto::token_hash(&secret).as_str())
    );

    let page = app.get("/admin/clients/wiki").await;
    let saved = app
        .submit_form(
            page,
            "/admin/clients/wiki",
            &[
                ("name", "Team Wiki"),
                ("redirect_uris", "https://wiki.example/cb"),
                ("grant_authorization_code", "on"),
                ("scopes", "openid profile"),
                ("require_mfa", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let wiki = app.provider.store.client("wiki").await.unwrap().unwrap();
    assert!(wiki.require_mfa && !wiki.require_consent);
    assert_eq!(wiki.lifetimes.access_token, None);

    let audit = app
        .get("/admin/audit?event=admin.")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("admin.user.created"));
    assert!(audit.contains("admin.client.created"));
    assert!(audit.contains("admin.client.updated"));
    assert!(audit.contains(">root<"), "the admin is the actor");
}

#[tokio::test]
async fn an_admin_cannot_lock_themselves_out() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;
    let id = app
        .provider
        .store
        .user_by_username("root")
        .await
        .unwrap()
        .unwrap()
        .id;
    let page = app.get(&format!("/admin/users/{id}")).await;
    let refused = app
        .submit_form(page, &format!("/admin/users/{id}/disable"), &[])
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let page = app.get(&format!("/admin/users/{id}")).await;
    let demoted = app
        .submit_form(page, &format!("/admin/users/{id}"), &[("name", "Root")])
        .await;
    assert_eq!(demoted.status(), StatusCode::BAD_REQUEST);
    // Named by username instead of id: still refused.
    let page = app.get(&format!("/admin/users/{id}")).await;
    let by_name = app
        .submit_form(page, "/admin/users/root/disable", &[])
        .await;
    assert_eq!(by_name.status(), StatusCode::BAD_REQUEST);
    let page = app.get(&format!("/admin/users/{id}")).await;
    let deleted = app
        .submit_form(page, "/admin/users/root/delete", &[("confirm", "root")])
        .await;
    assert_eq!(deleted.status(), StatusCode::BAD_REQUEST);
    let root = app
        .provider
        .store
        .user_by_username("root")
        .await
        .unwrap()
        .unwrap();
    assert!(root.is_admin && !root.disabled);
}

/// The id of a seeded or created user.
async fn user_id(app: &TestApp, username: &str) -> String {
    app.provider
        .store
        .user_by_username(username)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Creates a group through the list page's form.
async fn create_group(app: &TestApp, name: &str, description: &str) -> reqwest::Response {
    let page = app.get("/admin/groups").await;
    app.submit_form(
        page,
        "/admin/groups",
        &[("name", name), ("description", description)],
    )
    .await
}

#[tokio::test]
async fn an_admin_creates_a_group_and_adds_a_member_in_the_screens() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;

    let refused = create_group(&app, "Not A Name", "").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(html.contains("use lowercase letters"), "{html}");
    assert!(
        html.contains("value=\"Not A Name\""),
        "what was typed stays"
    );

    let created = create_group(&app, "engineering", "The people who build it").await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&created).ends_with("/admin/groups/engineering?done=group-created"),
        "{}",
        location(&created)
    );
    let taken = create_group(&app, "engineering", "").await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert!(taken.text().await.unwrap().contains("already exists"));

    let page = app.get("/admin/groups/engineering").await;
    let unknown = app
        .submit_form(
            page,
            "/admin/groups/engineering/add-member",
            &[("username", "nobody")],
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let html = unknown.text().await.unwrap();
    assert!(
        html.contains("There is no user &quot;nobody&quot;"),
        "{html}"
    );
    assert!(
        html.contains("Add a member by username"),
        "on the group's page"
    );

    let page = app.get("/admin/groups/engineering").await;
    let added = app
        .submit_form(
            page,
            "/admin/groups/engineering/add-member",
            &[("username", "alice")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let alice = app
        .provider
        .store
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.groups, ["engineering"]);

    let group = app
        .get("/admin/groups/engineering?done=member-added")
        .await
        .text()
        .await
        .unwrap();
    assert!(group.contains(">alice</a>"), "{group}");
    assert!(group.contains("The people who build it"));
    let list = app.get("/admin/groups").await.text().await.unwrap();
    assert!(list.contains(">engineering</a>"));
    assert!(list.contains("<td>1</td>"), "one member: {list}");

    let page = app.get("/admin/groups/engineering").await;
    let removed = app
        .submit_form(
            page,
            "/admin/groups/engineering/remove-member",
            &[("user", "alice")],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let members = app
        .provider
        .store
        .group_members("engineering")
        .await
        .unwrap();
    assert!(members.is_empty(), "{members:?}");

    let audit = app
        .get("/admin/audit?event=admin.group.")
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("admin.group.created"));
    assert!(audit.contains("admin.group.member_added"));
    assert!(audit.contains("admin.group.member_removed"));
}

#[tokio::test]
async fn an_admin_creates_an_api_in_the_screens() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;

    let page = app.get("/admin/apis").await;
    let refused = app
        .submit_form(
            page,
            "/admin/apis",
            &[("identifier", "notes api"), ("signing_alg", "RS256")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(html.contains("API identifier"), "{html}");
    assert!(html.contains("value=\"notes api\""), "what was typed stays");

    let page = app.get("/admin/apis").await;
    let created = app
        .submit_form(
            page,
            "/admin/apis",
            &[
                ("identifier", "https://notes.example/api"),
                ("name", "Notes API"),
                ("scopes", "notes:read: Read your notes\nnotes:write"),
                ("signing_alg", "ES256"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let to = location(&created);
    assert!(
        to.ends_with("/admin/apis/https%3A%2F%2Fnotes.example%2Fapi?done=api-saved"),
        "{to}"
    );
    let api = app
        .provider
        .store
        .api("https://notes.example/api")
        .await
        .unwrap()
        .expect("the API was stored");
    assert_eq!(api.name, "Notes API");
    assert_eq!(api.signing_alg, "ES256");
    let scopes: Vec<(&str, &str)> = api
        .scopes
        .iter()
        .map(|s| (s.name.as_str(), s.description.as_str()))
        .collect();
    assert_eq!(
        scopes,
        [("notes:read", "Read your notes"), ("notes:write", "")]
    );

    let shown = app.follow(&created).await;
    assert_eq!(shown.status(), StatusCode::OK);
    let html = shown.text().await.unwrap();
    assert!(html.contains("<h1>Notes API</h1>"), "{html}");
    assert!(html.contains("notes:read: Read your notes\nnotes:write"));
    assert!(html.contains("<option value=\"ES256\" selected>"));
    let list = app.get("/admin/apis").await.text().await.unwrap();
    assert!(
        list.contains("https:&#x2F;&#x2F;notes.example&#x2F;api</a>"),
        "{list}"
    );

    // Its page saves roles held by groups that exist, and a lifetime.
    let path = "/admin/apis/https%3A%2F%2Fnotes.example%2Fapi";
    let edit = [
        ("name", "Notes API"),
        ("scopes", "notes:read: Read your notes"),
        ("roles", "reader: staff"),
        ("access_token_ttl", "600"),
        ("signing_alg", "EdDSA"),
    ];
    let page = app.get(path).await;
    let no_group = app.submit_form(page, path, &edit).await;
    assert_eq!(no_group.status(), StatusCode::BAD_REQUEST);
    let html = no_group.text().await.unwrap();
    assert!(
        html.contains("there is no group &quot;staff&quot;"),
        "{html}"
    );
    assert!(html.contains("reader: staff"), "what was typed stays");
    assert_eq!(
        create_group(&app, "staff", "").await.status(),
        StatusCode::SEE_OTHER
    );
    let page = app.get(path).await;
    let saved = app.submit_form(page, path, &edit).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let api = app
        .provider
        .store
        .api("https://notes.example/api")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(api.signing_alg, "EdDSA");
    assert_eq!(api.access_token_ttl, Some(600));
    assert_eq!(api.roles.get("reader").unwrap(), &["staff"]);
    assert_eq!(api.scopes.len(), 1);
}

#[tokio::test]
async fn an_admin_saves_and_deletes_a_custom_scope_in_the_screens() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;
    let save = |fields: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            let page = app.get("/admin/scopes").await;
            app.submit_form(page, "/admin/scopes", &fields).await
        }
    };

    let refused = save(vec![("name", "tenant"), ("claims", "tenant sub")]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("&quot;sub&quot; is a reserved claim name"),
        "{html}"
    );
    assert!(
        html.contains("value=\"tenant sub\""),
        "what was typed stays"
    );

    let saved = save(vec![
        ("name", "tenant"),
        ("description", "Know which company you work for"),
        ("claims", "tenant, department"),
    ])
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let scopes = app.provider.store.custom_scopes().await.unwrap();
    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0].claims, ["department", "tenant"]);
    let html = app
        .get("/admin/scopes?edit=tenant")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Change tenant"), "{html}");
    assert!(html.contains("value=\"department tenant\""));

    let page = app.get("/admin/scopes").await;
    let deleted = app
        .submit_form(page, "/admin/scopes/delete", &[("name", "tenant")])
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert!(app.provider.store.custom_scopes().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_reserved_claim_name_is_refused_on_the_user_page() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;
    let alice = user_id(&app, "alice").await;
    let action = format!("/admin/users/{alice}/set-claim");

    let page = app.get(&format!("/admin/users/{alice}")).await;
    let refused = app
        .submit_form(page, &action, &[("name", "sub"), ("value", "\"someone\"")])
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("&quot;sub&quot; is a reserved claim name"),
        "{html}"
    );
    assert!(
        html.contains("role=\"alert\""),
        "shown as the page's problem"
    );
    assert!(
        html.contains("<h2 id=\"claims-title\">"),
        "on the user's page"
    );
    let stored = app
        .provider
        .store
        .user_by_id(&alice)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.claims.is_empty());

    let page = app.get(&format!("/admin/users/{alice}")).await;
    let not_json = app
        .submit_form(page, &action, &[("name", "tenant"), ("value", "acme")])
        .await;
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert!(not_json.text().await.unwrap().contains("must be JSON"));

    let page = app.get(&format!("/admin/users/{alice}")).await;
    let set = app
        .submit_form(page, &action, &[("name", "tenant"), ("value", "\"acme\"")])
        .await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    let stored = app
        .provider
        .store
        .user_by_id(&alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.claims.get("tenant"),
        Some(&serde_json::json!("acme"))
    );
    let html = app.follow(&set).await.text().await.unwrap();
    assert!(
        html.contains("<strong>tenant</strong> <code>&quot;acme&quot;</code>"),
        "{html}"
    );
}

#[tokio::test]
async fn the_user_page_adds_and_removes_groups() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;
    assert_eq!(
        create_group(&app, "engineering", "").await.status(),
        StatusCode::SEE_OTHER
    );
    let bob = user_id(&app, "bob").await;
    let path = format!("/admin/users/{bob}");
    let groups_of_bob = || async {
        app.provider
            .store
            .user_by_id(&bob)
            .await
            .unwrap()
            .unwrap()
            .groups
    };

    let page = app.get(&path).await;
    let joined = app
        .submit_form(
            page,
            &format!("{path}/add-group"),
            &[("group", "engineering")],
        )
        .await;
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    assert_eq!(groups_of_bob().await, ["engineering"]);
    let html = app.follow(&joined).await.text().await.unwrap();
    assert!(
        html.contains("The user&#x27;s groups were saved."),
        "{html}"
    );
    assert!(
        html.contains("aria-label=\"Remove bob from engineering\""),
        "{html}"
    );

    let page = app.get(&path).await;
    let left = app
        .submit_form(
            page,
            &format!("{path}/remove-group"),
            &[("group", "engineering")],
        )
        .await;
    assert_eq!(left.status(), StatusCode::SEE_OTHER);
    assert!(groups_of_bob().await.is_empty());

    let page = app.get(&path).await;
    let not_there = app
        .submit_form(page, &format!("{path}/add-group"), &[("group", "nobody")])
        .await;
    assert_eq!(not_there.status(), StatusCode::BAD_REQUEST);
    let html = not_there.text().await.unwrap();
    assert!(
        html.contains("There is no group &quot;nobody&quot;"),
        "{html}"
    );
}

#[tokio::test]
async fn the_user_page_saves_the_standard_claims_and_the_verified_address() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;

    // The new-user form vouches for the address too.
    let html = app.get("/admin/users/new").await.text().await.unwrap();
    assert!(
        html.contains("<input type=\"checkbox\" name=\"email_verified\">"),
        "{html}"
    );
    let form = app.get("/admin/users/new").await;
    let created = app
        .submit_form(
            form,
            "/admin/users",
            &[
                ("username", "gwen"),
                ("email", "gwen@example.com"),
                ("email_verified", "on"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let gwen = app
        .provider
        .store
        .user_by_username("gwen")
        .await
        .unwrap()
        .unwrap();
    assert!(gwen.email_verified);
    let bob = user_id(&app, "bob").await;
    let path = format!("/admin/users/{bob}");

    let page = app.get(&path).await;
    let refused = app
        .submit_form(
            page,
            &path,
            &[
                ("email", "bob@example.com"),
                ("given_name", "Robert"),
                ("birthdate", "yesterday"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("value=\"Robert\""), "what was typed stays");

    let page = app.get(&path).await;
    let saved = app
        .submit_form(
            page,
            &path,
            &[
                ("email", "bob@example.com"),
                ("email_verified", "on"),
                ("given_name", "Robert"),
                ("family_name", "Example"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let stored = app.provider.store.user_by_id(&bob).await.unwrap().unwrap();
    assert!(stored.email_verified);
    assert_eq!(stored.profile.given_name.as_deref(), Some("Robert"));
    assert_eq!(stored.profile.family_name.as_deref(), Some("Example"));
    let html = app.get(&path).await.text().await.unwrap();
    assert!(html.contains("name=\"email_verified\" checked"), "{html}");
    assert!(html.contains("value=\"Robert\""));
}

#[tokio::test]
async fn deleting_a_group_still_in_use_shows_why() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;
    assert_eq!(
        create_group(&app, "staff", "").await.status(),
        StatusCode::SEE_OTHER
    );

    // The client form names it in the allowed groups and the roles; a
    // role it cannot read is said, with what was typed.
    let page = app.get("/admin/clients/webapp").await;
    let unreadable = app
        .submit_form(
            page,
            "/admin/clients/webapp",
            &[
                ("name", "Web App"),
                ("redirect_uris", CONFIDENTIAL_REDIRECT),
                ("grant_authorization_code", "on"),
                ("allowed_groups", "staff"),
                ("roles", "editor staff"),
            ],
        )
        .await;
    assert_eq!(unreadable.status(), StatusCode::BAD_REQUEST);
    let html = unreadable.text().await.unwrap();
    assert!(html.contains("has no colon"), "{html}");
    assert!(html.contains(">editor staff</textarea>"), "{html}");
    assert!(html.contains("value=\"staff\""), "{html}");
    let page = app.get("/admin/clients/webapp").await;
    let saved = app
        .submit_form(
            page,
            "/admin/clients/webapp",
            &[
                ("name", "Web App"),
                ("redirect_uris", CONFIDENTIAL_REDIRECT),
                ("grant_authorization_code", "on"),
                ("scopes", "openid profile"),
                ("allowed_groups", "staff"),
                ("roles", "editor: staff"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let webapp = app.provider.store.client("webapp").await.unwrap().unwrap();
    assert_eq!(webapp.allowed_groups, ["staff"]);
    assert_eq!(webapp.roles.get("editor").unwrap(), &["staff"]);
    let html = app.get("/admin/clients/webapp").await.text().await.unwrap();
    assert!(html.contains("name=\"allowed_groups\" type=\"text\" spellcheck=\"false\" autocapitalize=\"none\" value=\"staff\""), "{html}");
    assert!(html.contains(">editor: staff</textarea>"));

    let page = app.get("/admin/groups/staff").await;
    let refused = app
        .submit_form(page, "/admin/groups/staff/delete", &[("confirm", "staff")])
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(
            "<p class=\"alert\" role=\"alert\">The group &quot;staff&quot; is still used by client webapp (allowed groups), client webapp (roles); remove it there first.</p>"
        ),
        "{html}"
    );
    assert!(html.contains("<h1>staff</h1>"), "on the group's page");
    assert!(app
        .provider
        .store
        .groups()
        .await
        .unwrap()
        .iter()
        .any(|g| g.name == "staff"));

    // Once nothing names it, it goes.
    let page = app.get("/admin/clients/webapp").await;
    let cleared = app
        .submit_form(
            page,
            "/admin/clients/webapp",
            &[
                ("name", "Web App"),
                ("redirect_uris", CONFIDENTIAL_REDIRECT),
                ("grant_authorization_code", "on"),
                ("scopes", "openid profile"),
            ],
        )
        .await;
    assert_eq!(cleared.status(), StatusCode::SEE_OTHER);
    let page = app.get("/admin/groups/staff").await;
    let deleted = app
        .submit_form(page, "/admin/groups/staff/delete", &[("confirm", "staff")])
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert!(location(&deleted).ends_with("/admin/groups?done=group-deleted"));
}
