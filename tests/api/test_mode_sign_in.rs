//! Signing in as anyone in test mode: the sign-in page's second form
//! (`/login/anyone`), `/authorize` with `login_hint` and `test_claims`, and
//! the ribbon every page carries. Outside test mode none of it exists.

use crate::admin_ui::sign_in_as_admin;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const FORM_ACTION: &str = r#"action="/login/anyone""#;
const RIBBON: &str =
    r#"<div class="test-mode-ribbon" role="note">Test mode — anyone can sign in as anyone</div>"#;

async fn test_mode_app() -> TestApp {
    spawn_app_with(|c| c.test_mode = true).await
}

/// In test mode, with the groups, the custom scope and the portal client.
async fn test_mode_access_app() -> TestApp {
    spawn_app_with(|c| {
        c.test_mode = true;
        c.seed = Some(write_access_seed());
    })
    .await
}

async fn text_of(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

/// The sign-in page of a fresh authorization request.
async fn login_page(app: &TestApp, request: &AuthRequest) -> reqwest::Response {
    let to_login = app.authorize(request).await;
    assert_eq!(to_login.status(), StatusCode::FOUND);
    assert!(
        location(&to_login).contains("/login?request="),
        "{}",
        location(&to_login)
    );
    app.follow(&to_login).await
}

/// POSTs the "sign in as anyone" form of `page`.
async fn sign_in_as_anyone(
    app: &TestApp,
    page: reqwest::Response,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.submit_form(page, "/login/anyone", fields).await
}

/// The ID token's claims, verified against the published keys, and
/// UserInfo's answer for the access token.
async fn id_token_and_userinfo(app: &TestApp, tokens: &Value, audience: &str) -> (Value, Value) {
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let claims = verify_with_jwks(app, id_token, audience).await;
    let access = tokens["access_token"].as_str().unwrap();
    let userinfo = app.userinfo(access).await;
    assert_eq!(userinfo.status(), StatusCode::OK);
    (claims, userinfo.json().await.unwrap())
}

async fn redeemed(app: &TestApp, request: &AuthRequest, params: &[(String, String)]) -> Value {
    let code = param(params, "code").expect("a code");
    let response = app.redeem(request, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_sign_in_page_offers_anyone_and_every_page_shows_the_ribbon_in_test_mode() {
    let app = test_mode_app().await;
    let html = text_of(app.get("/login").await).await;
    assert!(html.contains(FORM_ACTION), "{html}");
    assert!(html.contains(r#"<textarea id="anyone-claims" name="claims""#));
    assert!(html.contains(RIBBON), "{html}");
    // An error page.
    let missing = app.get("/no-such-page").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(text_of(missing).await.contains(RIBBON));
    // An admin screen.
    sign_in_as_admin(&app).await;
    let users = app.get("/admin/users").await;
    assert_eq!(users.status(), StatusCode::OK);
    assert!(text_of(users).await.contains(RIBBON));
}

#[tokio::test]
async fn without_test_mode_there_is_no_form_no_route_and_no_ribbon() {
    let app = spawn_app().await;
    let html = text_of(app.get("/login").await).await;
    assert!(!html.contains(FORM_ACTION), "{html}");
    assert!(!html.contains("Sign in as anyone"));
    assert!(!html.contains("test-mode-ribbon"));
    let missing = app.get("/no-such-page").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(!text_of(missing).await.contains("test-mode-ribbon"));

    let page = app.get("/login").await;
    let posted = sign_in_as_anyone(&app, page, &[("username", "mallory")]).await;
    assert_eq!(posted.status(), StatusCode::NOT_FOUND);
    assert!(app
        .provider
        .store
        .user_by_username("mallory")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_code_flow_through_the_form_signs_in_with_the_groups_and_claims_given() {
    let app = test_mode_access_app().await;
    let request = AuthRequest::portal("openid profile email groups");
    let page = login_page(&app, &request).await;
    let signed_in = sign_in_as_anyone(
        &app,
        page,
        &[
            ("username", "carol"),
            ("groups", "staff"),
            (
                "claims",
                r#"{"email":"carol@example.com","department":"qa"}"#,
            ),
        ],
    )
    .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert!(location(&signed_in).contains("/authorize/resume?request="));
    let to_client = app.follow(&signed_in).await;
    assert_eq!(to_client.status(), StatusCode::FOUND);
    assert!(location(&to_client).starts_with(&request.redirect_uri));
    let params = location_params(&to_client);
    assert_eq!(param(&params, "state"), Some(request.state.clone()));

    let tokens = redeemed(&app, &request, &params).await;
    let (claims, userinfo) = id_token_and_userinfo(&app, &tokens, PORTAL.0).await;
    assert_eq!(claims["sub"], "carol");
    assert_eq!(claims["email"], "carol@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["groups"], json!(["staff"]));
    assert_eq!(claims["department"], "qa");
    assert_eq!(claims["amr"], json!(["test", "mfa"]));
    assert_eq!(claims["nonce"], request.nonce.as_str());
    assert_eq!(userinfo["sub"], "carol");
    assert_eq!(userinfo["email"], "carol@example.com");
    assert_eq!(userinfo["groups"], json!(["staff"]));
    assert_eq!(userinfo["department"], "qa");

    let events = app.audit_events("sign_in.success", Some("carol")).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].detail, "factor=test_mode amr=test mfa");
}

#[tokio::test]
async fn authorize_with_test_claims_signs_in_at_once_and_answers_with_a_code() {
    let app = test_mode_access_app().await;
    let request = AuthRequest::portal("openid email groups")
        .with("login_hint", "dave")
        .with(
            "test_claims",
            r#"{"email":"dave@example.com","groups":["ops","oncall"],"team":"blue"}"#,
        );
    let answer = app.authorize(&request).await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    assert!(
        location(&answer).starts_with(&request.redirect_uri),
        "{}",
        location(&answer)
    );
    let params = location_params(&answer);
    assert_eq!(param(&params, "error"), None);
    assert_eq!(param(&params, "state"), Some(request.state.clone()));

    let tokens = redeemed(&app, &request, &params).await;
    let (claims, userinfo) = id_token_and_userinfo(&app, &tokens, PORTAL.0).await;
    assert_eq!(claims["sub"], "dave");
    assert_eq!(claims["email"], "dave@example.com");
    // Groups come in name order.
    assert_eq!(claims["groups"], json!(["oncall", "ops"]));
    assert_eq!(claims["team"], "blue");
    assert_eq!(userinfo["team"], "blue");
    assert_eq!(userinfo["groups"], json!(["oncall", "ops"]));
}

#[tokio::test]
async fn test_claims_for_a_client_that_asks_for_consent_leads_to_consent_signed_in() {
    let app = test_mode_app().await;
    let request = AuthRequest::confidential()
        .with("login_hint", "erika")
        .with("test_claims", "{}");
    let to_consent = app.authorize(&request).await;
    assert_eq!(to_consent.status(), StatusCode::FOUND);
    assert!(
        location(&to_consent).contains("/consent?request="),
        "{}",
        location(&to_consent)
    );
    // The browser got the new session's cookie with the redirect.
    let page = app.follow(&to_consent).await;
    let allowed = app
        .submit_form(page, "/consent", &[("decision", "allow")])
        .await;
    assert!(location(&allowed).starts_with(&request.redirect_uri));
    let tokens = redeemed(&app, &request, &location_params(&allowed)).await;
    let (claims, _) = id_token_and_userinfo(&app, &tokens, CONFIDENTIAL).await;
    assert_eq!(claims["sub"], "erika");
}

#[tokio::test]
async fn bad_test_claims_are_invalid_request_at_the_redirect_uri() {
    let app = test_mode_app().await;
    for claims in [r#"{"sub":"x"}"#, r#"{"aud":"x"}"#, "[1]", "not json"] {
        let request = AuthRequest::confidential()
            .with("login_hint", "frank")
            .with("test_claims", claims);
        let answer = app.authorize(&request).await;
        assert_eq!(answer.status(), StatusCode::FOUND, "{claims}");
        assert!(
            location(&answer).starts_with(&request.redirect_uri),
            "{claims}: {}",
            location(&answer)
        );
        let params = location_params(&answer);
        assert_eq!(
            param(&params, "error").as_deref(),
            Some("invalid_request"),
            "{claims}"
        );
        let description = param(&params, "error_description").expect("a description");
        assert!(description.starts_with("test_claims: "), "{description}");
        assert!(
            description
                .bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
            "RFC 6749 §4.1.2.1 characters only: {description}"
        );
        assert_eq!(param(&params, "state"), Some(request.state.clone()));
        assert_eq!(param(&params, "code"), None);
    }
    // No login_hint: no one to sign in as.
    let request = AuthRequest::confidential().with("test_claims", "{}");
    let params = location_params(&app.authorize(&request).await);
    assert_eq!(param(&params, "error").as_deref(), Some("invalid_request"));
    let made = app.provider.store.user_by_username("frank").await.unwrap();
    assert!(made.is_none(), "no user is made from a refused request");
}

#[tokio::test]
async fn outside_test_mode_test_claims_means_nothing() {
    let app = spawn_app().await;
    for claims in [r#"{"email":"x@example.com"}"#, "not json"] {
        let request = AuthRequest::confidential()
            .with("login_hint", "grace")
            .with("test_claims", claims);
        let answer = app.authorize(&request).await;
        assert_eq!(answer.status(), StatusCode::FOUND);
        assert!(
            location(&answer).contains("/login?request="),
            "the sign-in page as usual: {}",
            location(&answer)
        );
    }
    let made = app.provider.store.user_by_username("grace").await.unwrap();
    assert!(made.is_none());
}

#[tokio::test]
async fn bad_input_in_the_form_shows_the_page_again_with_what_was_typed() {
    let app = test_mode_app().await;
    let request = AuthRequest::confidential();
    for (claims, sentence) in [
        (
            r#"{"aud":"x"}"#,
            "&quot;aud&quot;: &quot;aud&quot; is a reserved claim name",
        ),
        ("[1]", "The claims must be a JSON object"),
        ("not json", "The claims are not valid JSON"),
    ] {
        let page = login_page(&app, &request).await;
        let answer = sign_in_as_anyone(
            &app,
            page,
            &[
                ("username", "henry"),
                ("groups", "a, b"),
                ("claims", claims),
            ],
        )
        .await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{claims}");
        let html = text_of(answer).await;
        assert!(html.contains(sentence), "{claims}: {html}");
        let typed_claims = claims.replace('"', "&quot;");
        assert!(
            html.contains(&format!(">{typed_claims}</textarea>")),
            "{claims}: {html}"
        );
        assert!(html.contains(r#"id="anyone-username" name="username""#));
        assert!(html.contains(r#"value="henry""#));
        assert!(html.contains(r#"value="a, b""#));
        assert!(
            hidden_field(&html, "request").is_some(),
            "the request goes on"
        );
    }
    // A username is needed.
    let page = login_page(&app, &request).await;
    let answer = sign_in_as_anyone(&app, page, &[("claims", "{}")]).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let made = app.provider.store.user_by_username("henry").await.unwrap();
    assert!(made.is_none());
}

#[tokio::test]
async fn a_user_with_a_password_and_totp_signs_in_as_anyone_without_either_and_keeps_both() {
    let app = test_mode_app().await;
    let bob = app.user_id("bob").await;
    let request = AuthRequest::confidential();
    let page = login_page(&app, &request).await;
    let signed_in = sign_in_as_anyone(&app, page, &[("username", "bob")]).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&signed_in).contains("/authorize/resume"),
        "no second factor asked: {}",
        location(&signed_in)
    );
    let to_consent = app.follow(&signed_in).await;
    assert!(location(&to_consent).contains("/consent?request="));
    let page = app.follow(&to_consent).await;
    let allowed = app
        .submit_form(page, "/consent", &[("decision", "allow")])
        .await;
    let tokens = redeemed(&app, &request, &location_params(&allowed)).await;
    let (claims, _) = id_token_and_userinfo(&app, &tokens, CONFIDENTIAL).await;
    assert_eq!(
        claims["sub"],
        bob.as_str(),
        "the seeded user, not a new one"
    );
    assert_eq!(claims["email"], "bob@example.com", "the profile is kept");
    assert_eq!(claims["amr"], json!(["test", "mfa"]));

    // The password and the second factor are still bob's.
    let browser = new_browser();
    let answer = app
        .post_password(&browser, "/login", ("bob", BOB_PASSWORD), None)
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&answer).contains("/login/totp"),
        "{}",
        location(&answer)
    );
}

#[tokio::test]
async fn a_disabled_user_is_refused() {
    let app = test_mode_app().await;
    let alice = app.user_id("alice").await;
    app.provider
        .store
        .set_user_disabled(&alice, true, gatehouse::clock::Clock::now(&app.clock))
        .await
        .unwrap();
    let request = AuthRequest::confidential();
    let page = login_page(&app, &request).await;
    let refused = sign_in_as_anyone(&app, page, &[("username", "alice")]).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(text_of(refused).await.contains("This account is disabled."));

    let request = AuthRequest::confidential()
        .with("login_hint", "alice")
        .with("test_claims", "{}");
    let answer = app.authorize(&request).await;
    let params = location_params(&answer);
    assert_eq!(param(&params, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&params, "code"), None);
    let failures = app.audit_events("sign_in.failure", Some("alice")).await;
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].detail, "reason=disabled");

    // A refused attempt changes nothing about the user.
    let request = AuthRequest::confidential()
        .with("login_hint", "alice")
        .with(
            "test_claims",
            r#"{"email":"other@example.com","team":"red"}"#,
        );
    app.authorize(&request).await;
    let user = app
        .provider
        .store
        .user_by_id(&alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.email.as_deref(), Some("alice@example.com"));
    assert!(user.claims.get("team").is_none(), "{:?}", user.claims);
}

#[tokio::test]
async fn what_the_claims_leave_out_stays_as_it_was() {
    let app = test_mode_app().await;
    let store = &app.provider.store;
    let sign_in = |claims: &'static str| {
        AuthRequest::confidential()
            .with("login_hint", "alice")
            .with("test_claims", claims)
    };
    app.authorize(&sign_in("{}")).await;
    let alice = store.user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert!(alice.email_verified);
    assert_eq!(alice.name.as_deref(), Some("Alice Example"));

    app.authorize(&sign_in(r#"{"team":"blue","locale":"fr-FR"}"#))
        .await;
    app.authorize(&sign_in(r#"{"floor":3,"name":"Alice Test"}"#))
        .await;
    let alice = store.user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert_eq!(alice.name.as_deref(), Some("Alice Test"));
    assert_eq!(alice.profile.locale.as_deref(), Some("fr-FR"));
    assert_eq!(alice.claims.get("team"), Some(&json!("blue")));
    assert_eq!(alice.claims.get("floor"), Some(&json!(3)));
}

#[tokio::test]
async fn a_client_that_requires_a_second_factor_takes_a_test_mode_sign_in() {
    let app = test_mode_app().await;
    for username in ["bob", "newcomer"] {
        // bob has TOTP; newcomer has no second factor at all.
        let request = AuthRequest {
            client_id: "secure".into(),
            redirect_uri: "http://127.0.0.1:9996/cb".into(),
            scope: "openid".into(),
            ..AuthRequest::confidential()
        }
        .with("login_hint", username)
        .with("test_claims", "{}");
        let answer = app.authorize(&request).await;
        assert_eq!(answer.status(), StatusCode::FOUND);
        let to = location(&answer);
        assert!(to.starts_with(&request.redirect_uri), "{username}: {to}");
        let params = location_params(&answer);
        assert!(param(&params, "code").is_some(), "{username}: {to}");
    }
}
