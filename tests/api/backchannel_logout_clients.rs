//! Registering back-channel logout (OpenID Connect Back-Channel Logout 1.0
//! §2.2): `backchannel_logout_uri` and `backchannel_logout_session_required`
//! round-trip through the seed file, the admin API, the admin screens and
//! the command line; a URI that is not absolute https (http only on
//! loopback or for a client whose redirect URIs use http), or that has a
//! fragment, is refused with a sentence saying why; discovery advertises
//! both (§2.1).

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn client_json(app: &TestApp, token: &str, client_id: &str) -> Value {
    let (status, body) = app
        .api_json(Method::GET, &format!("/clients/{client_id}"), token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn discovery_advertises_back_channel_logout_with_sessions() {
    let app = spawn_app().await;
    let metadata: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["backchannel_logout_supported"], true);
    assert_eq!(metadata["backchannel_logout_session_supported"], true);
}

#[tokio::test]
async fn the_seed_file_registers_both_fields() {
    let seed = write_seed();
    let mut text = std::fs::read_to_string(&seed).unwrap();
    text.push_str(
        r#"
[[clients]]
client_id = "notified"
redirect_uris = ["https://rp.example/cb"]
backchannel_logout_uri = "https://rp.example/backchannel"
backchannel_logout_session_required = true
"#,
    );
    std::fs::write(&seed, text).unwrap();
    let app = spawn_app_with(|c| c.seed = Some(seed.clone())).await;
    let token = app.admin_token().await;
    let client = client_json(&app, &token, "notified").await;
    assert_eq!(
        client["backchannel_logout_uri"],
        "https://rp.example/backchannel"
    );
    assert_eq!(client["backchannel_logout_session_required"], true);
    let plain = client_json(&app, &token, CONFIDENTIAL).await;
    assert_eq!(plain["backchannel_logout_uri"], Value::Null);
    assert_eq!(plain["backchannel_logout_session_required"], false);
}

#[tokio::test]
async fn a_bad_uri_in_the_seed_file_stops_the_start_with_a_reason() {
    let seed = write_seed();
    let mut text = std::fs::read_to_string(&seed).unwrap();
    text.push_str(
        r#"
[[clients]]
client_id = "notified"
redirect_uris = ["https://rp.example/cb"]
backchannel_logout_uri = "http://rp.example/backchannel"
"#,
    );
    std::fs::write(&seed, text).unwrap();
    let config = gatehouse::config::Config {
        database_url: fresh_database().await,
        listen: "127.0.0.1:0".into(),
        seed: Some(seed),
        ..gatehouse::config::Config::default()
    };
    let refused = gatehouse::startup::Application::build(config)
        .await
        .err()
        .expect("the seed is refused");
    let why = format!("{refused:#}");
    assert!(why.contains("backchannel_logout_uri"), "{why}");
    assert!(why.contains("use https"), "{why}");
}

#[tokio::test]
async fn the_admin_api_round_trips_the_fields_and_refuses_bad_uris() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let body = |uri: &str, redirect: &str| {
        json!({
            "client_id": "rp",
            "redirect_uris": [redirect],
            "backchannel_logout_uri": uri,
            "backchannel_logout_session_required": true,
        })
    };
    for (uri, redirect, why) in [
        (
            "http://rp.example/logout",
            "https://rp.example/cb",
            "use https",
        ),
        (
            "https://rp.example/logout#x",
            "https://rp.example/cb",
            "fragment",
        ),
        ("/logout", "https://rp.example/cb", "not an absolute URL"),
        ("ftp://rp.example/logout", "https://rp.example/cb", "scheme"),
    ] {
        let (status, answer) = app
            .api_json(Method::POST, "/clients", &token, Some(body(uri, redirect)))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {answer}");
        let description = answer["error_description"].as_str().unwrap();
        assert!(
            description.contains("backchannel_logout_uri"),
            "{description}"
        );
        assert!(description.contains(why), "{uri}: {description}");
    }
    let (status, answer) = app
        .api_json(
            Method::POST,
            "/clients",
            &token,
            Some(body("https://rp.example/logout", "https://rp.example/cb")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let stored = client_json(&app, &token, "rp").await;
    assert_eq!(
        stored["backchannel_logout_uri"],
        "https://rp.example/logout"
    );
    assert_eq!(stored["backchannel_logout_session_required"], true);

    // An http redirect URI (on the loopback interface) does not open http
    // to any other host: a token sent in the clear there could be read on
    // the way.
    let (status, answer) = app
        .api_json(
            Method::PUT,
            "/clients/rp",
            &token,
            Some(body(
                "http://rp.internal/logout",
                "http://127.0.0.1:9990/cb",
            )),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let description = answer["error_description"].as_str().unwrap();
    assert!(description.contains("use https"), "{description}");
    assert_eq!(
        client_json(&app, &token, "rp").await["backchannel_logout_uri"],
        "https://rp.example/logout",
        "unchanged"
    );
    // http to the loopback interface is allowed, on any loopback address;
    // and leaving the fields out of a replacement clears them.
    let (status, answer) = app
        .api_json(
            Method::PUT,
            "/clients/rp",
            &token,
            Some(body(
                "http://127.0.0.2:9991/logout",
                "https://rp.example/cb",
            )),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        client_json(&app, &token, "rp").await["backchannel_logout_uri"],
        "http://127.0.0.2:9991/logout"
    );
    let (status, answer) = app
        .api_json(
            Method::PUT,
            "/clients/rp",
            &token,
            Some(json!({ "redirect_uris": ["https://rp.example/cb"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let cleared = client_json(&app, &token, "rp").await;
    assert_eq!(cleared["backchannel_logout_uri"], Value::Null);
    assert_eq!(cleared["backchannel_logout_session_required"], false);
}

#[tokio::test]
async fn the_command_line_registers_both_fields_and_refuses_a_bad_uri() {
    let app = spawn_app().await;
    let add = |id: &'static str, uri: &'static str| {
        let url = app.database_url.clone();
        async move {
            gatehouse_cli(
                &url,
                &[
                    "client",
                    "add",
                    id,
                    "--public",
                    "--redirect-uri",
                    "https://rp.example/cb",
                    "--backchannel-logout-uri",
                    uri,
                    "--backchannel-logout-session-required",
                ],
                &[],
                None,
            )
            .await
        }
    };
    let refused = add("bad", "https://rp.example/logout#frag").await;
    assert_ne!(refused.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("backchannel_logout_uri"), "{stderr}");
    assert!(stderr.contains("fragment"), "{stderr}");

    let added = add("cli-rp", "https://rp.example/logout").await;
    assert_eq!(
        added.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let token = app.admin_token().await;
    let stored = client_json(&app, &token, "cli-rp").await;
    assert_eq!(
        stored["backchannel_logout_uri"],
        "https://rp.example/logout"
    );
    assert_eq!(stored["backchannel_logout_session_required"], true);
}

#[tokio::test]
async fn the_admin_screens_edit_both_fields() {
    let app = spawn_app().await;
    crate::admin_ui::sign_in_as_admin(&app).await;
    let form = app.get("/admin/clients/new").await;
    let refused = app
        .submit_form(
            form,
            "/admin/clients",
            &[
                ("client_id", "screen-rp"),
                ("client_type", "public"),
                ("redirect_uris", "https://rp.example/cb"),
                ("grant_authorization_code", "on"),
                ("scopes", "openid"),
                ("backchannel_logout_uri", "http://rp.example/logout"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // Tera escapes the slashes of what it shows.
    let html = refused.text().await.unwrap().replace("&#x2F;", "/");
    assert!(html.contains("backchannel_logout_uri"), "{html}");
    assert!(
        html.contains("http://rp.example/logout"),
        "what was typed stays"
    );

    let form = app.get("/admin/clients/new").await;
    let registered = app
        .submit_form(
            form,
            "/admin/clients",
            &[
                ("client_id", "screen-rp"),
                ("client_type", "public"),
                ("redirect_uris", "https://rp.example/cb"),
                ("grant_authorization_code", "on"),
                ("scopes", "openid"),
                ("backchannel_logout_uri", "https://rp.example/logout"),
                ("backchannel_logout_session_required", "on"),
            ],
        )
        .await;
    assert_eq!(registered.status(), StatusCode::SEE_OTHER);
    let stored = app
        .provider
        .store
        .client("screen-rp")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.backchannel_logout_uri.as_deref(),
        Some("https://rp.example/logout")
    );
    assert!(stored.backchannel_logout_session_required);
    let page = app.get("/admin/clients/screen-rp").await;
    let html = page.text().await.unwrap().replace("&#x2F;", "/");
    assert!(
        html.contains(r#"value="https://rp.example/logout""#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="backchannel_logout_session_required" checked"#),
        "{html}"
    );
}
