//! Who may do what, and for which API: standard claims by scope (OpenID
//! Connect Core §5.4), groups and roles in tokens (RFC 9068 §2.2.3.1),
//! custom claims, the access policy of a client, APIs as resource servers
//! (RFC 8707), introspection by resource servers (RFC 7662), freshness at
//! refresh, and the seed's refusals.

use crate::helpers::*;
use gatehouse::admin::{groups, Context};
use gatehouse::audit_log::Actor;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn spawn() -> TestApp {
    spawn_app_with(|c| c.seed = Some(write_access_seed())).await
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn alg_of(jwt: &str) -> jsonwebtoken::Algorithm {
    jsonwebtoken::decode_header(jwt).unwrap().alg
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test]
async fn standard_claims_are_released_by_scope() {
    let app = spawn().await;
    let request = AuthRequest::portal("openid profile email phone address");
    let tokens = app.tokens_for(&request, "dana", DANA_PASSWORD).await;
    let id = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), "portal").await;
    let info = json_of(app.userinfo(tokens["access_token"].as_str().unwrap()).await).await;
    for claims in [&id, &info] {
        assert_eq!(claims["given_name"], "Dana");
        assert_eq!(claims["family_name"], "Example");
        assert_eq!(claims["nickname"], "dee");
        assert_eq!(claims["website"], "https://dana.example.com/");
        assert_eq!(claims["birthdate"], "1990-04-01");
        assert_eq!(claims["zoneinfo"], "Europe/Paris");
        assert_eq!(claims["locale"], "fr-FR");
        assert!(claims["updated_at"].is_i64(), "{claims}");
        assert_eq!(claims["email"], "dana@example.com");
        // The seed does not vouch for Dana's address.
        assert_eq!(claims["email_verified"], false);
        assert_eq!(claims["phone_number"], "+33 1 23 45 67 89");
        assert_eq!(claims["phone_number_verified"], true);
        assert_eq!(claims["address"]["locality"], "Paris");
        assert_eq!(claims["address"]["postal_code"], "75002");
        // Not asked for: groups, roles and custom claims stay out.
        assert!(claims.get("groups").is_none(), "{claims}");
        assert!(claims.get("roles").is_none(), "{claims}");
        assert!(claims.get("tenant").is_none(), "{claims}");
    }

    // Only what the scopes release.
    let narrow = app
        .tokens_for(&AuthRequest::portal("openid email"), "dana", DANA_PASSWORD)
        .await;
    let info = json_of(app.userinfo(narrow["access_token"].as_str().unwrap()).await).await;
    assert_eq!(info["email"], "dana@example.com");
    for absent in [
        "given_name",
        "phone_number",
        "address",
        "preferred_username",
    ] {
        assert!(info.get(absent).is_none(), "{absent} in {info}");
    }
}

#[tokio::test]
async fn groups_roles_and_custom_claims_reach_every_token() {
    let app = spawn().await;
    let request = AuthRequest::portal("openid groups roles tenant");
    let tokens = app.tokens_for(&request, "dana", DANA_PASSWORD).await;
    let id = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), "portal").await;
    let access = tokens["access_token"].as_str().unwrap();
    let at = verify_with_jwks(&app, access, "portal").await;
    let info = json_of(app.userinfo(access).await).await;
    for claims in [&id, &info] {
        assert_eq!(claims["groups"], json!(["engineering", "sales"]));
        assert_eq!(claims["roles"], json!(["editor", "viewer"]));
        assert_eq!(claims["tenant"], "acme");
        // `level` is an attribute no scope releases.
        assert!(claims.get("level").is_none());
    }
    assert_eq!(at["groups"], json!(["engineering", "sales"]));
    assert_eq!(at["roles"], json!(["editor", "viewer"]));

    let erin = app
        .tokens_for(
            &AuthRequest::portal("openid groups roles").with("prompt", "login"),
            "erin",
            ERIN_PASSWORD,
        )
        .await;
    let id = claims_of(erin["id_token"].as_str().unwrap());
    assert_eq!(id["groups"], json!(["sales"]));
    assert_eq!(id["roles"], json!(["viewer"]));
}

#[tokio::test]
async fn a_token_for_an_api_is_addressed_to_it() {
    let app = spawn().await;
    let request = AuthRequest::portal("openid read offline_access").with("resource", EXAMPLE_API);
    let tokens = app.tokens_for(&request, "dana", DANA_PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(alg_of(access), jsonwebtoken::Algorithm::ES256);
    let at = verify_with_jwks(&app, access, EXAMPLE_API).await;
    assert_eq!(at["aud"], EXAMPLE_API);
    assert_eq!(at["scope"], "openid read offline_access");
    // The user's roles for the API, not the client's.
    assert_eq!(at["roles"], json!(["reader", "writer"]));
    assert_eq!(tokens["expires_in"], 300);
    assert_eq!(
        at["exp"].as_i64().unwrap() - at["iat"].as_i64().unwrap(),
        300
    );
    // The ID token is still for the client, signed as ever.
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(alg_of(id_token), jsonwebtoken::Algorithm::RS256);
    verify_with_jwks(&app, id_token, "portal").await;
    // The API's tokens work at userinfo like any other.
    assert_eq!(app.userinfo(access).await.status(), StatusCode::OK);

    // A refresh keeps the audience; naming another resource is refused.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let other = app
        .back_channel(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("resource", ED_API),
            ],
            PORTAL,
        )
        .await;
    assert_eq!(other.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(other).await["error"], "invalid_target");
    let refreshed = app.refresh(refresh, PORTAL).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed = json_of(refreshed).await;
    let at = verify_with_jwks(
        &app,
        refreshed["access_token"].as_str().unwrap(),
        EXAMPLE_API,
    )
    .await;
    assert_eq!(at["aud"], EXAMPLE_API);
}

#[tokio::test]
async fn without_a_resource_the_token_is_for_the_client() {
    let app = spawn().await;
    let tokens = app
        .tokens_for(&AuthRequest::portal("openid"), "dana", DANA_PASSWORD)
        .await;
    let at = verify_with_jwks(&app, tokens["access_token"].as_str().unwrap(), "portal").await;
    assert_eq!(at["aud"], "portal");
    assert!(at.get("roles").is_none(), "no roles scope: {at}");
}

#[tokio::test]
async fn bad_resources_get_invalid_target() {
    let app = spawn().await;
    for (resource, why) in [
        ("not a uri", "not an absolute URI"),
        ("/relative/path", "not an absolute URI"),
        ("https://api.example.test/#section", "fragment"),
        ("urn:example:other", "may not ask"),
        ("https://unknown.example.test/", "may not ask"),
    ] {
        let request = AuthRequest::portal("openid").with("resource", resource);
        let answer = app.authorize(&request).await;
        assert_eq!(answer.status(), StatusCode::FOUND, "{resource}");
        let params = location_params(&answer);
        assert_eq!(
            param(&params, "error").as_deref(),
            Some("invalid_target"),
            "{resource}"
        );
        assert!(param(&params, "code").is_none());
        let description = param(&params, "error_description").unwrap();
        assert!(description.contains(why), "{resource}: {description}");
    }
    // Two resources at once.
    let request = AuthRequest::portal("openid")
        .with("resource", EXAMPLE_API)
        .with("resource", ED_API);
    let params = location_params(&app.authorize(&request).await);
    assert_eq!(param(&params, "error").as_deref(), Some("invalid_target"));

    // An API's scope without the API, or another API's scope.
    let request = AuthRequest::portal("openid write");
    let params = location_params(&app.authorize(&request).await);
    assert_eq!(param(&params, "error").as_deref(), Some("invalid_scope"));
    let request = AuthRequest::portal("openid write").with("resource", ED_API);
    let params = location_params(&app.authorize(&request).await);
    assert_eq!(param(&params, "error").as_deref(), Some("invalid_scope"));

    // At the token endpoint: a code is redeemed for the resource it was
    // issued for, and no other.
    let request = AuthRequest::portal("openid read").with("resource", EXAMPLE_API);
    let params = app.authorize_through(&request, "dana", DANA_PASSWORD).await;
    let code = param(&params, "code").unwrap();
    let swapped = app
        .back_channel(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &request.redirect_uri),
                ("code_verifier", request.verifier.as_deref().unwrap()),
                ("resource", ED_API),
            ],
            PORTAL,
        )
        .await;
    assert_eq!(swapped.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(swapped).await["error"], "invalid_target");
    // The code was not used up by the refused request.
    let redeemed = app.redeem(&request, &code).await;
    assert_eq!(redeemed.status(), StatusCode::OK);
}

#[tokio::test]
async fn client_credentials_tokens_for_apis() {
    let app = spawn().await;
    let for_api = |resource: &'static str, scope: &'static str| {
        let app = &app;
        async move {
            app.token_form(
                &[
                    ("grant_type", "client_credentials"),
                    ("resource", resource),
                    ("scope", scope),
                ],
                Some(WORKER),
            )
            .await
        }
    };
    let es = json_of(for_api(EXAMPLE_API, "read write").await).await;
    let token = es["access_token"].as_str().unwrap();
    assert_eq!(alg_of(token), jsonwebtoken::Algorithm::ES256);
    let at = verify_with_jwks(&app, token, EXAMPLE_API).await;
    assert_eq!(at["sub"], "worker");
    assert_eq!(at["scope"], "read write");

    let ed = json_of(for_api(ED_API, "read").await).await;
    let token = ed["access_token"].as_str().unwrap();
    assert_eq!(alg_of(token), jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(verify_with_jwks(&app, token, ED_API).await["aud"], ED_API);

    let refused = for_api("urn:example:other", "read").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(refused).await["error"], "invalid_target");
    let wrong_scope = for_api(ED_API, "write").await;
    assert_eq!(wrong_scope.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(wrong_scope).await["error"], "invalid_scope");

    // The JWKS publishes every algorithm in use.
    let jwks = json_of(app.get("/jwks").await).await;
    let kinds: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap())
        .collect();
    for kind in ["RSA", "EC", "OKP"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn resource_servers_introspect_tokens_for_their_apis_only() {
    let app = spawn().await;
    let request = AuthRequest::portal("openid read groups").with("resource", EXAMPLE_API);
    let tokens = app.tokens_for(&request, "dana", DANA_PASSWORD).await;
    let for_api = tokens["access_token"].as_str().unwrap();
    let answer = app.introspect(for_api, GATEWAY).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["aud"], EXAMPLE_API);
    assert_eq!(answer["client_id"], "portal");
    assert_eq!(answer["username"], "dana");
    assert_eq!(answer["groups"], json!(["engineering", "sales"]));
    assert_eq!(answer["roles"], json!(["reader", "writer"]));

    // A token for the client itself, or for another API, stays a secret.
    let own = app
        .tokens_for(&AuthRequest::portal("openid"), "dana", DANA_PASSWORD)
        .await;
    let own = own["access_token"].as_str().unwrap();
    assert_eq!(app.introspect(own, GATEWAY).await, json!({"active": false}));
    let ed = json_of(
        app.token_form(
            &[("grant_type", "client_credentials"), ("resource", ED_API)],
            Some(WORKER),
        )
        .await,
    )
    .await;
    let ed = ed["access_token"].as_str().unwrap();
    assert_eq!(app.introspect(ed, GATEWAY).await, json!({"active": false}));
    // Its refresh tokens too.
    let refresh = app
        .tokens_for(
            &AuthRequest::portal("openid offline_access read").with("resource", EXAMPLE_API),
            "dana",
            DANA_PASSWORD,
        )
        .await;
    let refresh = refresh["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.introspect(refresh, GATEWAY).await,
        json!({"active": false})
    );
    assert_eq!(app.introspect(refresh, PORTAL).await["aud"], EXAMPLE_API);

    // Revoked: inactive for the resource server at once.
    let revoked = app
        .back_channel("/revoke", &[("token", for_api)], PORTAL)
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        app.introspect(for_api, GATEWAY).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn members_only_clients_turn_others_away() {
    let app = spawn().await;
    // Erin is in sales, not engineering.
    let request = AuthRequest::intranet();
    let first = app.authorize(&request).await;
    let signed_in = app.sign_in(&first, "erin", ERIN_PASSWORD).await;
    let page = app.follow(&signed_in).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(html.contains("have access to Intranet</h1>"), "{html}");
    assert!(html.contains("Erin Example"));
    assert!(
        html.contains("<a id=\"sign-out\" href=\"/end_session\">"),
        "a sign-out link: {html}"
    );
    let sign_out = app.get("/end_session").await;
    assert_eq!(
        sign_out.status(),
        StatusCode::OK,
        "the link leads somewhere"
    );
    assert!(!html.contains("code="), "no code anywhere: {html}");
    assert!(
        html.contains("error=access_denied"),
        "the way back denies: {html}"
    );

    // prompt=none answers the client straight away.
    let silent = app.authorize(&request.clone().with("prompt", "none")).await;
    assert_eq!(silent.status(), StatusCode::FOUND);
    let params = location_params(&silent);
    assert_eq!(param(&params, "error").as_deref(), Some("access_denied"));
    assert!(param(&params, "code").is_none());

    // Signed in as Erin, the page comes at once; a member signs in.
    let again = app.authorize(&request).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    let tokens = app
        .tokens_for(
            &AuthRequest::intranet().with("prompt", "login"),
            "dana",
            DANA_PASSWORD,
        )
        .await;
    assert!(tokens["access_token"].is_string());
}

#[tokio::test]
async fn a_refresh_reads_groups_roles_and_claims_again() {
    let app = spawn().await;
    let request = AuthRequest::portal("openid groups roles tenant offline_access");
    let tokens = app.tokens_for(&request, "dana", DANA_PASSWORD).await;
    let ctx = Context::new(&app.provider, Actor::System, None);
    groups::remove_member(&ctx, "sales", "dana").await.unwrap();
    gatehouse::admin::users::set_claim(&ctx, "dana", "tenant", Some(json!("globex")))
        .await
        .unwrap();
    let refreshed = app
        .refresh(tokens["refresh_token"].as_str().unwrap(), PORTAL)
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed = json_of(refreshed).await;
    let at = claims_of(refreshed["access_token"].as_str().unwrap());
    assert_eq!(at["groups"], json!(["engineering"]));
    assert_eq!(at["roles"], json!(["editor"]));
    let id = claims_of(refreshed["id_token"].as_str().unwrap());
    assert_eq!(id["groups"], json!(["engineering"]));
    assert_eq!(id["tenant"], "globex");

    // Out of the intranet's allowed group: its refresh tokens stop.
    let intranet = app
        .tokens_for(&AuthRequest::intranet(), "dana", DANA_PASSWORD)
        .await;
    groups::remove_member(&ctx, "engineering", "dana")
        .await
        .unwrap();
    let refused = app
        .refresh(intranet["refresh_token"].as_str().unwrap(), INTRANET)
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(refused).await["error"], "invalid_grant");
}

#[tokio::test]
async fn the_consent_screen_words_api_scopes() {
    let app = spawn().await;
    // The webapp client asks consent; give it the API for this test.
    let ctx = Context::new(&app.provider, Actor::System, None);
    let mut spec = gatehouse::admin::clients::ClientSpec::of(
        &gatehouse::admin::clients::find(&ctx, "portal")
            .await
            .unwrap(),
    );
    spec.require_consent = true;
    gatehouse::admin::clients::update(&ctx, spec).await.unwrap();
    let request = AuthRequest::portal("openid read tenant").with("resource", EXAMPLE_API);
    let first = app.authorize(&request).await;
    let signed_in = app.sign_in(&first, "dana", DANA_PASSWORD).await;
    let consent = app.follow(&signed_in).await;
    let consent = app.follow(&consent).await;
    let html = consent.text().await.unwrap();
    assert!(html.contains("Example API: Read your projects"), "{html}");
    assert!(
        html.contains("Know which organisation you belong to"),
        "{html}"
    );
}

fn seed_file(text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("gh-seed-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn seeds_with_reserved_claims_or_unknown_names_are_refused() {
    let user = |claims: &str| {
        format!("[[users]]\nusername = \"zed\"\npassword = \"zed's long passphrase\"\nclaims = {claims}\n")
    };
    for reserved in ["sub", "groups", "roles", "aud", "nonce", "cnf"] {
        let path = seed_file(&user(&format!("{{ {reserved} = \"x\" }}")));
        let error = gatehouse::seed::read(&path).unwrap_err().to_string();
        assert!(error.contains("reserved"), "{reserved}: {error}");
    }
    let path = seed_file(&user("{ email = \"x@example.com\" }"));
    let error = gatehouse::seed::read(&path).unwrap_err().to_string();
    assert!(error.contains("standard claim"), "{error}");
    for (bad, why) in [
        ("[[groups]]\nname = \"Engineering\"\n", "group name"),
        ("[[apis]]\nidentifier = \"api\"\n", "absolute URI"),
        (
            "[[apis]]\nidentifier = \"https://a.example/\"\nsigning_alg = \"HS256\"\n",
            "HS256",
        ),
        ("[[scopes]]\nname = \"openid\"\n", "Gatehouse defines"),
        ("[[scopes]]\nname = \"t\"\nclaims = [\"iss\"]\n", "reserved"),
    ] {
        let error = gatehouse::seed::read(&seed_file(bad))
            .unwrap_err()
            .to_string();
        assert!(error.contains(why), "{bad}: {error}");
    }

    // A seed naming a group that exists nowhere changes nothing.
    let app = spawn().await;
    let before = count(&app.database_url, "SELECT COUNT(*) AS n FROM user_groups").await;
    let path = seed_file(
        "[[groups]]\nname = \"new-team\"\n\n[[users]]\nusername = \"zed\"\npassword = \"zed's long passphrase\"\ngroups = [\"nowhere\"]\n",
    );
    let seed = gatehouse::seed::read(&path).unwrap();
    let error = seed
        .apply(&app.provider.store, 1_700_000_000)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("nowhere"), "{error}");
    assert_eq!(
        count(&app.database_url, "SELECT COUNT(*) AS n FROM user_groups").await,
        before
    );
    assert_eq!(
        count(
            &app.database_url,
            "SELECT COUNT(*) AS n FROM users WHERE username = 'zed'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn loading_the_seed_twice_changes_nothing() {
    let app = spawn().await;
    let tables = [
        "user_groups",
        "group_members",
        "apis",
        "custom_scopes",
        "users",
        "clients",
    ];
    let mut before = Vec::new();
    for t in tables {
        before.push(count(&app.database_url, &format!("SELECT COUNT(*) AS n FROM {t}")).await);
    }
    let seed = gatehouse::seed::read(&write_access_seed()).unwrap();
    seed.apply(&app.provider.store, 1_700_000_000)
        .await
        .unwrap();
    for (t, n) in tables.iter().zip(before) {
        assert_eq!(
            count(&app.database_url, &format!("SELECT COUNT(*) AS n FROM {t}")).await,
            n,
            "{t}"
        );
    }
}

#[tokio::test]
async fn users_edit_their_standard_claims_on_the_account_page() {
    let app = spawn().await;
    // Alice's address is verified in the seed.
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let keep_address = [
        ("name", "Alice Example"),
        ("email", "alice@example.com"),
        ("given_name", "Alice"),
        ("family_name", "Liddell"),
        ("locale", "en-GB"),
        ("phone_number", "+44 20 7946 0000"),
        ("locality", "Oxford"),
    ];
    let saved = app.account_form("/account/profile", &keep_address).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let page = app.follow(&saved).await.text().await.unwrap();
    assert!(page.contains("value=\"Liddell\""), "{page}");

    let tokens = app
        .tokens_for(
            &AuthRequest::portal("openid profile email phone address"),
            "alice",
            ALICE_PASSWORD,
        )
        .await;
    let info = json_of(app.userinfo(tokens["access_token"].as_str().unwrap()).await).await;
    assert_eq!(info["given_name"], "Alice");
    assert_eq!(info["family_name"], "Liddell");
    assert_eq!(info["locale"], "en-GB");
    assert_eq!(info["email_verified"], true, "the address did not change");
    assert_eq!(info["phone_number"], "+44 20 7946 0000");
    assert_eq!(
        info["phone_number_verified"], false,
        "typed in, not verified"
    );
    assert_eq!(info["address"], json!({"locality": "Oxford"}));

    // A new address is no longer verified; bad values are refused.
    let mut changed = keep_address.to_vec();
    changed[1] = ("email", "alice@wonderland.example");
    let saved = app.account_form("/account/profile", &changed).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let refreshed = app
        .tokens_for(
            &AuthRequest::portal("openid email"),
            "alice",
            ALICE_PASSWORD,
        )
        .await;
    let info = json_of(
        app.userinfo(refreshed["access_token"].as_str().unwrap())
            .await,
    )
    .await;
    assert_eq!(info["email"], "alice@wonderland.example");
    assert_eq!(info["email_verified"], false);
    for (field, value, message) in [
        ("website", "javascript:alert(1)", "web address"),
        ("birthdate", "1 April", "YYYY-MM-DD"),
        ("locale", "en US!", "language tag"),
    ] {
        let mut bad: Vec<(&str, &str)> = keep_address
            .iter()
            .copied()
            .filter(|(name, _)| *name != field)
            .collect();
        bad.push((field, value));
        let refused = app.account_form("/account/profile", &bad).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{field}");
        assert!(refused.text().await.unwrap().contains(message), "{field}");
    }
}

#[tokio::test]
async fn an_api_a_client_still_names_cannot_be_deleted() {
    let app = spawn().await;
    let ctx = Context::new(&app.provider, Actor::System, None);
    let refused = gatehouse::admin::apis::delete(&ctx, EXAMPLE_API)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "conflict");
    let why = refused.to_string();
    assert!(why.contains("gateway") && why.contains("portal"), "{why}");
    assert!(gatehouse::admin::apis::find(&ctx, EXAMPLE_API)
        .await
        .is_ok());
    // Unused, it goes.
    gatehouse::admin::apis::delete(&ctx, "urn:example:other")
        .await
        .unwrap();
    assert_eq!(
        gatehouse::admin::apis::find(&ctx, "urn:example:other")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
}

#[tokio::test]
async fn consent_to_one_apis_scope_is_not_consent_to_anothers() {
    let app = spawn().await;
    let ctx = Context::new(&app.provider, Actor::System, None);
    let mut spec = gatehouse::admin::clients::ClientSpec::of(
        &gatehouse::admin::clients::find(&ctx, "portal")
            .await
            .unwrap(),
    );
    spec.require_consent = true;
    gatehouse::admin::clients::update(&ctx, spec).await.unwrap();
    // Dana agrees to the Example API's `read`.
    let example = AuthRequest::portal("openid read").with("resource", EXAMPLE_API);
    app.tokens_for(&example, "dana", DANA_PASSWORD).await;
    // The same request again needs no consent: straight to the client.
    let again = app.authorize(&example).await;
    assert!(
        location(&again).starts_with(&example.redirect_uri),
        "{}",
        location(&again)
    );
    // The Ed API's `read` is another permission: the consent screen again.
    let ed = AuthRequest::portal("openid read").with("resource", ED_API);
    let asked = app.authorize(&ed).await;
    assert!(
        location(&asked).contains("/consent"),
        "{}",
        location(&asked)
    );
    // The account page (Dana is signed in) names what was agreed to.
    let page = app.get("/account").await.text().await.unwrap();
    assert!(
        page.contains("permission of https:&#x2F;&#x2F;api.example.test&#x2F;"),
        "{page}"
    );
}
