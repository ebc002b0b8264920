//! Where upstream providers come from (the seed file, the config file) and
//! what the sign-in page makes of them: a button per enabled upstream.

use crate::helpers::*;
use gatehouse::config::UpstreamTables;
use reqwest::StatusCode;

const UPSTREAM_SEED: &str = r#"
[[upstreams]]
id = "corp"
kind = "oidc"
name = "Corp SSO"
issuer = "https://idp.example.com"
client_id = "gatehouse"
client_secret = "corp-upstream-secret-0123456789"
scopes = ["openid", "profile", "email"]
jit = true
link_by_verified_email = false
mfa = false
[upstreams.claims]
username = "preferred_username"
email = "email"
name = "name"
groups = "groups"

[[upstreams]]
id = "github"
kind = "oauth2"
name = "GitHub"
enabled = false
authorization_endpoint = "https://github.com/login/oauth/authorize"
token_endpoint = "https://github.com/login/oauth/access_token"
userinfo_endpoint = "https://api.github.com/user"
client_id = "Iv1.0123"
client_secret = "github-upstream-secret-0123456789"
scopes = ["read:user"]
[upstreams.claims]
username = "login"
"#;

fn seed_with(extra: &str) -> std::path::PathBuf {
    let path = write_seed();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(extra);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn a_seeded_upstream_is_a_button_on_the_sign_in_page_and_a_disabled_one_is_not() {
    let seed = seed_with(UPSTREAM_SEED);
    let app = spawn_app_with(|c| c.seed = Some(seed)).await;
    let page = app.get("/login").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in with Corp SSO"), "{html}");
    assert!(html.contains("/upstream/corp/start"), "{html}");
    assert!(
        !html.contains("GitHub"),
        "a disabled upstream is not offered: {html}"
    );
    let github = app
        .provider
        .store
        .upstream("github")
        .await
        .unwrap()
        .unwrap();
    assert!(!github.enabled);
    assert_eq!(
        github.claims.subject, "id",
        "oauth2 reads GitHub's numeric id by default"
    );
    assert_eq!(github.claims.username, "login");
    // Starting a disabled one is refused with a page.
    let csrf = app.csrf_of(&app.browser, "/login").await;
    let refused = app
        .browser
        .post(app.url("/upstream/github/start"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert!(refused.text().await.unwrap().contains("not offered here"));
}

#[tokio::test]
async fn loading_the_seed_again_updates_an_upstream_in_place() {
    let seed = seed_with(UPSTREAM_SEED);
    let app = spawn_app_with(|c| c.seed = Some(seed.clone())).await;
    let before = app.provider.store.upstream("corp").await.unwrap().unwrap();
    let text = std::fs::read_to_string(&seed)
        .unwrap()
        .replace("Corp SSO", "Corp Login");
    std::fs::write(&seed, text).unwrap();
    let loaded = gatehouse::seed::read(&seed).unwrap();
    loaded
        .apply(&app.provider.store, before.created_at + 100)
        .await
        .unwrap();
    let after = app.provider.store.upstream("corp").await.unwrap().unwrap();
    assert_eq!(after.name, "Corp Login");
    assert_eq!(after.created_at, before.created_at);
    assert_eq!(
        app.provider.store.upstreams().await.unwrap().len(),
        2,
        "not duplicated"
    );
}

#[tokio::test]
async fn the_config_file_takes_upstreams_in_the_seed_format() {
    let table: toml::Table = toml::from_str(
        r#"
id = "corp"
kind = "oidc"
name = "Corp SSO"
issuer = "https://idp.example.com"
client_id = "gatehouse"
client_secret = "config-upstream-secret-0123456789"
mfa = true
"#,
    )
    .unwrap();
    let app = spawn_app_with(|c| c.upstreams = UpstreamTables(vec![table])).await;
    let stored = app.provider.store.upstream("corp").await.unwrap().unwrap();
    assert!(stored.mfa);
    assert!(stored.jit, "just-in-time accounts by default");
    assert_eq!(stored.scopes, ["openid", "profile", "email"]);
    let html = app.get("/login").await.text().await.unwrap();
    assert!(html.contains("Sign in with Corp SSO"));
}

#[tokio::test]
async fn bad_upstream_settings_stop_the_seed_with_a_reason_and_store_nothing() {
    let cases = [
        (
            "issuer = \"https://idp.example.com\"",
            "issuer = \"http://idp.example.com\"",
            "https",
        ),
        ("id = \"corp\"", "id = \"Corp SSO\"", "a-z, 0-9"),
        (
            "kind = \"oidc\"",
            "kind = \"saml\"",
            "kind must be oidc or oauth2",
        ),
        (
            "client_secret = \"corp-upstream-secret-0123456789\"\n",
            "",
            "client_secret is required",
        ),
        (
            "groups = \"groups\"\n",
            "groups = \"groups\"\n[upstreams.group_map]\n\"x\" = \"nobody\"\n",
            "no group",
        ),
        (
            "username = \"preferred_username\"",
            "username = \"pre ferred\"",
            "not a claim name",
        ),
        ("jit = true", "jit = true\nsurprise = 1", "surprise"),
        (
            "username = \"preferred_username\"",
            "subject = \"email\"",
            "can change or pass to someone else",
        ),
    ];
    for (from, to, expected) in cases {
        let seed = seed_with(&UPSTREAM_SEED.replacen(from, to, 1));
        let loaded = gatehouse::seed::read(&seed);
        let message = match loaded {
            Err(e) => e.to_string(),
            Ok(seed) => {
                let store_url = fresh_database().await;
                let store = gatehouse::store::Store::connect(&store_url).await.unwrap();
                store.migrate().await.unwrap();
                let error = seed.apply(&store, 1).await.expect_err(expected).to_string();
                assert!(
                    store.upstreams().await.unwrap().is_empty(),
                    "{expected}: nothing stored"
                );
                error
            }
        };
        assert!(
            message.contains(expected),
            "{expected:?} not in {message:?}"
        );
    }
}
