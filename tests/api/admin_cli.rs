//! `gatehouse user …`, `group …`, `client …` and `api …` on the database of
//! a running server: passwords from standard input, secrets printed once,
//! exit codes scripts can rely on, and every action in the audit log.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

async fn run(app: &TestApp, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let out = gatehouse_cli(&app.database_url, args, &[], stdin).await;
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The value printed after `label` on a line of `out`.
fn printed_after(out: &str, label: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("{label:?} not in {out}"));
    line.rsplit(' ').next().unwrap().to_string()
}

async fn signs_in(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    let page = app.get("/login").await;
    app.submit_form(
        page,
        "/login",
        &[("username", username), ("password", password)],
    )
    .await
}

#[tokio::test]
async fn users_are_managed_from_the_command_line() {
    let app = spawn_app().await;
    let (code, out, err) = run(
        &app,
        &[
            "user",
            "add",
            "carol",
            "--email",
            "carol@example.com",
            "--name",
            "Carol",
        ],
        Some("carol's long passphrase\n"),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Created user carol"));
    assert!(!out.contains("passphrase"), "the password is never printed");
    assert_eq!(
        signs_in(&app, "carol", "carol's long passphrase")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    let (code, _, err) = run(
        &app,
        &["user", "add", "carol", "--email", "c@example.com"],
        Some("another passphrase\n"),
    )
    .await;
    assert_eq!(code, 4, "taken: {err}");
    let (code, _, err) = run(
        &app,
        &["user", "add", "dora", "--email", "d@example.com"],
        Some("short\n"),
    )
    .await;
    assert_eq!(code, 2, "refused password: {err}");
    let (code, _, err) = run(
        &app,
        &["user", "add", "dora", "--email", "d@example.com"],
        None,
    )
    .await;
    assert_eq!(code, 2, "no password given: {err}");
    assert!(err.contains("standard input"));
    let (code, _, err) = run(&app, &["user", "disable", "nobody"], None).await;
    assert_eq!(code, 3);
    assert!(err.contains("There is no user \"nobody\""));

    let (code, out, _) = run(&app, &["user", "list"], None).await;
    assert_eq!(code, 0);
    assert!(out.contains("carol") && out.contains("alice") && out.contains("bob"));
    assert!(out
        .lines()
        .any(|l| l.starts_with("bob") && l.contains("mfa")));

    let (code, _, _) = run(&app, &["user", "reset-mfa", "bob"], None).await;
    assert_eq!(code, 0);
    let answer = signs_in(&app, "bob", BOB_PASSWORD).await;
    assert!(
        !location(&answer).contains("/login/totp"),
        "no second factor any more"
    );

    let (code, _, _) = run(&app, &["user", "delete", "carol"], None).await;
    assert_eq!(code, 0);
    assert_eq!(
        signs_in(&app, "carol", "carol's long passphrase")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let logged = count(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM audit_events WHERE actor = 'cli'
         AND event IN ('admin.user.created', 'admin.user.mfa_reset', 'admin.user.deleted')",
    )
    .await;
    assert_eq!(logged, 3, "every action is in the audit log");
}

#[tokio::test]
async fn a_generated_password_is_shown_once_and_must_be_changed() {
    let app = spawn_app().await;
    let (code, out, err) = run(
        &app,
        &[
            "user",
            "add",
            "erin",
            "--email",
            "erin@example.com",
            "--generate-password",
        ],
        None,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let temporary = printed_after(&out, "Temporary password");
    assert_eq!(temporary.len(), 20);
    let answer = signs_in(&app, "erin", &temporary).await;
    assert!(location(&answer).contains("/login/new-password"));
    // Whoever knows the temporary password cannot change the account.
    let csrf = hidden_field(&app.get("/login").await.text().await.unwrap(), "csrf").unwrap();
    let early = app
        .browser
        .post(app.url("/account/profile"))
        .form(&[("csrf", csrf.as_str()), ("name", "Not Erin")])
        .send()
        .await
        .unwrap();
    assert!(location(&early).contains("/login/new-password"));
    assert_eq!(
        app.get("/account/mfa/enrol").await.status(),
        StatusCode::FOUND,
        "no enrolment before the new password"
    );

    // Until a new password is chosen, no code is issued.
    let to_client = app.authorize(&AuthRequest::confidential()).await;
    assert!(location(&to_client).contains("/login/new-password?request="));
    let page = app.follow(&to_client).await;
    let same = app
        .submit_form(
            page,
            "/login/new-password",
            &[
                ("new_password", &temporary),
                ("repeat_password", &temporary),
            ],
        )
        .await;
    assert_eq!(same.status(), StatusCode::BAD_REQUEST, "must differ");
    let page = app.follow(&to_client).await;
    let chosen = app
        .submit_form(
            page,
            "/login/new-password",
            &[
                ("new_password", "erin's own passphrase"),
                ("repeat_password", "erin's own passphrase"),
            ],
        )
        .await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    assert!(location(&chosen).contains("/authorize/resume?request="));
    let resumed = app.follow(&chosen).await;
    assert!(location(&resumed).contains("/consent?request="));

    let (code, out, _) = run(
        &app,
        &["user", "passwd", "erin", "--generate-password"],
        None,
    )
    .await;
    assert_eq!(code, 0);
    let reset = printed_after(&out, "Temporary password");
    assert_eq!(
        app.get("/account").await.status(),
        StatusCode::FOUND,
        "sessions ended"
    );
    let answer = signs_in(&app, "erin", &reset).await;
    assert!(location(&answer).contains("/login/new-password"));
}

#[tokio::test]
async fn disabling_a_user_ends_sessions_and_revokes_tokens_at_once() {
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    // Used once, so the server holds the answers in its read cache.
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.userinfo(access).await.status(), StatusCode::OK);
    assert_eq!(app.introspect(access, WEBAPP).await["active"], json!(true));
    let (code, _, err) = run(&app, &["user", "disable", "alice"], None).await;
    assert_eq!(code, 0, "{err}");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.refresh(refresh, WEBAPP).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.introspect(access, WEBAPP).await["active"], json!(false));
    assert_eq!(
        app.userinfo(access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get("/account").await.status(), StatusCode::FOUND);
    assert_eq!(
        signs_in(&app, "alice", ALICE_PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (code, _, _) = run(&app, &["user", "enable", "alice"], None).await;
    assert_eq!(code, 0);
    assert_eq!(
        signs_in(&app, "alice", ALICE_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn clients_are_managed_from_the_command_line() {
    let app = spawn_app().await;
    let (code, out, err) = run(
        &app,
        &[
            "client",
            "add",
            "reports",
            "--grant-type",
            "client_credentials",
            "--scope",
            "api:read",
            "--name",
            "Reports",
        ],
        None,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let secret = printed_after(&out, "Client secret");
    let token = |secret: String| {
        let app = &app;
        async move {
            app.token_form(
                &[("grant_type", "client_credentials")],
                Some(("reports", secret.as_str())),
            )
            .await
            .status()
        }
    };
    assert_eq!(token(secret.clone()).await, StatusCode::OK);
    let stored = count(
        &app.database_url,
        &format!("SELECT COUNT(*) AS n FROM clients WHERE secret_hash = '{secret}'"),
    )
    .await;
    assert_eq!(stored, 0, "only a hash is stored");

    let (code, out, _) = run(&app, &["client", "rotate-secret", "reports"], None).await;
    assert_eq!(code, 0);
    let rotated = out.rsplit(' ').next().unwrap().trim().to_string();
    assert_eq!(
        token(secret).await,
        StatusCode::UNAUTHORIZED,
        "old secret refused"
    );
    assert_eq!(token(rotated).await, StatusCode::OK);

    let (code, out, _) = run(&app, &["client", "list"], None).await;
    assert_eq!(code, 0);
    assert!(out
        .lines()
        .any(|l| l.starts_with("reports") && l.contains("confidential")));

    let (code, _, err) = run(
        &app,
        &[
            "client",
            "add",
            "evil",
            "--redirect-uri",
            "https://evil.example/*",
        ],
        None,
    )
    .await;
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(
        &app,
        &[
            "client",
            "add",
            "reports",
            "--grant-type",
            "client_credentials",
        ],
        None,
    )
    .await;
    assert_eq!(code, 4);
    let (code, _, _) = run(
        &app,
        &[
            "client",
            "add",
            "web",
            "--public",
            "--redirect-uri",
            "http://127.0.0.1:4000/cb",
        ],
        None,
    )
    .await;
    assert_eq!(code, 0);
    let (code, _, _) = run(&app, &["client", "rotate-secret", "web"], None).await;
    assert_eq!(code, 2, "a public client has no secret");
    let (code, _, _) = run(&app, &["client", "remove", "reports"], None).await;
    assert_eq!(code, 0);
    let (code, _, _) = run(&app, &["client", "remove", "reports"], None).await;
    assert_eq!(code, 3);
}

#[tokio::test]
async fn the_first_run_never_takes_over_an_account_named_admin() {
    use gatehouse::admin::users::{ensure_first_admin, FirstAdmin};
    use gatehouse::clock::Clock;
    let app = spawn_app().await;
    let add = ["user", "add", "admin", "--email", "a@example.com"];
    let (code, _, _) = run(&app, &add, Some("an ordinary passphrase\n")).await;
    assert_eq!(code, 0);
    let provider = &app.provider;
    let outcome = ensure_first_admin(&provider.store, &provider.audit, None, app.clock.now())
        .await
        .unwrap();
    assert_eq!(outcome, FirstAdmin::NameTaken);
    assert_eq!(
        signs_in(&app, "admin", "an ordinary passphrase")
            .await
            .status(),
        StatusCode::SEE_OTHER,
        "the password is untouched"
    );
    let boss = ["user", "add", "boss", "--email", "b@example.com", "--admin"];
    let (code, _, _) = run(&app, &boss, Some("the boss's passphrase\n")).await;
    assert_eq!(code, 0);
    let outcome = ensure_first_admin(&provider.store, &provider.audit, None, app.clock.now())
        .await
        .unwrap();
    assert_eq!(outcome, FirstAdmin::Exists);
}

#[tokio::test]
async fn groups_and_members_are_managed_from_the_command_line() {
    use crate::admin_access::call;
    use reqwest::Method;
    let app = spawn_app().await;
    let (code, out, err) = run(
        &app,
        &[
            "group",
            "add",
            "engineering",
            "--description",
            "Builds things",
        ],
        None,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Created group engineering"), "{out}");
    let (code, _, err) = run(&app, &["group", "add", "engineering"], None).await;
    assert_eq!(code, 4, "taken: {err}");
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run(&app, &["group", "add", "Not Valid"], None).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("group name"), "{err}");

    let (code, _, err) = run(&app, &["group", "add-member", "engineering", "alice"], None).await;
    assert_eq!(code, 0, "{err}");
    let token = app.admin_token().await;
    let (_, alice) = call(&app, Method::GET, "/users/alice", &token, None).await;
    assert_eq!(
        alice["groups"],
        json!(["engineering"]),
        "the server sees it"
    );
    let (code, out, _) = run(&app, &["group", "members", "engineering"], None).await;
    assert_eq!(code, 0);
    assert_eq!(out.lines().collect::<Vec<_>>(), ["alice"]);
    let (code, out, _) = run(&app, &["group", "list"], None).await;
    assert_eq!(code, 0);
    let line = out
        .lines()
        .find(|l| l.starts_with("engineering"))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["engineering", "1", "Builds", "things"]
    );
    let (code, _, err) = run(
        &app,
        &["group", "add-member", "engineering", "nobody"],
        None,
    )
    .await;
    assert_eq!(code, 3);
    assert!(err.contains("There is no user \"nobody\""), "{err}");
    let (code, _, err) = run(&app, &["group", "add-member", "nothing", "alice"], None).await;
    assert_eq!(code, 3);
    assert!(err.contains("There is no group \"nothing\""), "{err}");

    let (code, _, err) = run(
        &app,
        &["group", "remove-member", "engineering", "alice"],
        None,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let (_, alice) = call(&app, Method::GET, "/users/alice", &token, None).await;
    assert_eq!(alice["groups"], json!([]));
    let (code, _, err) = run(
        &app,
        &["group", "remove-member", "engineering", "alice"],
        None,
    )
    .await;
    assert_eq!(code, 3, "not a member: {err}");
    let (code, _, err) = run(&app, &["group", "remove", "engineering"], None).await;
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = run(&app, &["group", "remove", "engineering"], None).await;
    assert_eq!(code, 3);

    let logged = count(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM audit_events WHERE actor = 'cli'
         AND event IN ('admin.group.created', 'admin.group.member_added',
                       'admin.group.member_removed', 'admin.group.deleted')",
    )
    .await;
    assert_eq!(logged, 4, "every change is in the audit log");
}

#[tokio::test]
async fn a_group_in_use_is_not_removed_from_the_command_line() {
    let app = spawn_app().await;
    let (code, _, err) = run(&app, &["group", "add", "staff"], None).await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(
        &app,
        &[
            "client",
            "add",
            "intranet",
            "--redirect-uri",
            "https://intranet.example/cb",
            "--allowed-group",
            "staff",
        ],
        None,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&app, &["group", "remove", "staff"], None).await;
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("client intranet (allowed groups)"), "{err}");
}

#[tokio::test]
async fn custom_claims_are_set_from_the_command_line() {
    use crate::admin_access::call;
    use reqwest::Method;
    let app = spawn_app().await;
    for (name, value) in [
        ("department", "engineering"),
        ("badges", "[1, 2]"),
        ("level", "3"),
        ("balance", "-5"),
    ] {
        let (code, _, err) = run(&app, &["user", "set-claim", "alice", name, value], None).await;
        assert_eq!(code, 0, "{name}: {err}");
    }
    let token = app.admin_token().await;
    let (_, alice) = call(&app, Method::GET, "/users/alice", &token, None).await;
    assert_eq!(
        alice["claims"],
        json!({ "department": "engineering", "badges": [1, 2], "level": 3, "balance": -5 }),
        "JSON where it parses, a string otherwise"
    );

    for (name, words) in [
        ("sub", "\"sub\" is a reserved claim name"),
        ("groups", "\"groups\" is a reserved claim name"),
        ("email", "\"email\" is a standard claim"),
    ] {
        let (code, out, err) = run(&app, &["user", "set-claim", "alice", name, "x"], None).await;
        assert_eq!(code, 2, "{name}: {out}");
        assert!(err.contains(words), "{words:?} not in {err:?}");
    }
    let (code, _, err) = run(&app, &["user", "set-claim", "nobody", "team", "x"], None).await;
    assert_eq!(code, 3, "{err}");

    let (code, _, err) = run(&app, &["user", "unset-claim", "alice", "badges"], None).await;
    assert_eq!(code, 0, "{err}");
    let (_, alice) = call(&app, Method::GET, "/users/alice", &token, None).await;
    assert_eq!(
        alice["claims"],
        json!({ "department": "engineering", "level": 3, "balance": -5 })
    );
    let logged = count(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM audit_events WHERE actor = 'cli'
         AND event = 'admin.user.claims_set'",
    )
    .await;
    assert_eq!(logged, 5, "four set, one removed; nothing refused");
}

#[tokio::test]
async fn apis_are_added_listed_and_removed_from_the_command_line() {
    use crate::admin_access::call;
    use reqwest::Method;
    let app = spawn_app().await;
    let (code, _, err) = run(&app, &["group", "add", "engineering"], None).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(
        &app,
        &[
            "api",
            "add",
            "https://api.example.test/",
            "--name",
            "Example",
            "--scope",
            "read",
            "--scope",
            "write Change your things",
            "--signing-alg",
            "ES256",
            "--access-token-ttl",
            "600",
            "--role",
            "reader=engineering",
        ],
        None,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Registered API https://api.example.test/"),
        "{out}"
    );

    let (code, out, _) = run(&app, &["api", "list"], None).await;
    assert_eq!(code, 0);
    let line = out
        .lines()
        .find(|l| l.starts_with("https://api.example.test/"))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        [
            "https://api.example.test/",
            "Example",
            "ES256",
            "600",
            "read",
            "write"
        ]
    );
    let token = app.admin_token().await;
    let (status, api) = call(
        &app,
        Method::GET,
        "/apis/https%3A%2F%2Fapi.example.test%2F",
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{api}");
    assert_eq!(
        api["scopes"],
        json!([
            { "name": "read", "description": "" },
            { "name": "write", "description": "Change your things" },
        ])
    );
    assert_eq!(api["roles"], json!({ "reader": ["engineering"] }));

    for (args, expected, words) in [
        (vec!["https://api.example.test/"], 4, "already exists"),
        (vec!["not a uri"], 2, "is not an absolute URI"),
        (vec!["https://x/#frag"], 2, "has a fragment"),
        (
            vec!["https://b.example.test/", "--signing-alg", "HS256"],
            2,
            "\"HS256\" is not supported",
        ),
        (
            vec!["https://b.example.test/", "--role", "reader"],
            2,
            "ROLE=GROUP",
        ),
        (
            vec!["https://b.example.test/", "--role", "reader=ghosts"],
            2,
            "no group \"ghosts\"",
        ),
    ] {
        let mut command = vec!["api", "add"];
        command.extend(args);
        let (code, _, err) = run(&app, &command, None).await;
        assert_eq!(code, expected, "{command:?}: {err}");
        assert!(err.contains(words), "{words:?} not in {err:?}");
    }

    let (code, _, err) = run(&app, &["api", "remove", "https://api.example.test/"], None).await;
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run(&app, &["api", "list"], None).await;
    assert_eq!(out.lines().count(), 1, "only the heading: {out}");
    let (code, _, _) = run(&app, &["api", "remove", "https://api.example.test/"], None).await;
    assert_eq!(code, 3);
    let logged = count(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM audit_events WHERE actor = 'cli'
         AND event IN ('admin.api.created', 'admin.api.deleted')",
    )
    .await;
    assert_eq!(logged, 2);
}
