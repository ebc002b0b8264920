//! The documented maximum lengths (README "Limits", `model::limits`): a
//! value of exactly the limit is accepted, one byte more is refused with a
//! clear error, and an oversized `state` is neither stored nor echoed.

use super::Expect::{ClientError, Json, Page, Redirect};
use super::*;
use gatehouse::model::limits;

fn authorize(extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id=webapp&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcallback&scope=openid&state=s1{extra}"
    )
}

#[tokio::test]
async fn each_authorization_parameter_is_accepted_up_to_its_limit() {
    let app = spawn_app().await;
    let at = |n: usize| "x".repeat(n);
    let over = |n: usize| "x".repeat(n + 1);
    // An S256 challenge is 43 characters; the limit is checked first, so
    // one of 128 gets the shape error, one of 129 the length error.
    #[rustfmt::skip]
    let cases = vec![
        get(authorize(&format!("&nonce={}", at(limits::NONCE)))).named("nonce at the limit").then(Redirect(302, "/login?request=")),
        get(authorize(&format!("&nonce={}", over(limits::NONCE)))).named("nonce over").then(ClientError("invalid_request")),
        get(authorize(&format!("&login_hint={}", at(limits::LOGIN_HINT)))).named("login_hint at the limit").then(Redirect(302, "/login?request=")),
        get(authorize(&format!("&login_hint={}", over(limits::LOGIN_HINT)))).named("login_hint over").then(ClientError("invalid_request")),
        get(authorize(&format!("&code_challenge_method=S256&code_challenge={}", at(limits::CODE_CHALLENGE)))).named("challenge at the limit").then(ClientError("invalid_request")),
        get(authorize(&format!("&code_challenge_method=S256&code_challenge={}", over(limits::CODE_CHALLENGE)))).named("challenge over").then(ClientError("invalid_request")),
        get(authorize("").replace("scope=openid", &format!("scope=openid{}", "+openid".repeat((limits::SCOPE - 6) / 7)))).named("scope near the limit").then(Redirect(302, "/login?request=")),
        get(authorize("").replace("scope=openid", &format!("scope=openid{}", "+".repeat(limits::SCOPE - 5)))).named("scope over").then(ClientError("invalid_request")),
        get(format!("{}&state={}", authorize("").replace("&state=s1", ""), at(limits::STATE))).named("state at the limit").then(Redirect(302, "/login?request=")),
    ];
    run(&app, &anonymous(), None, cases).await;
    // The descriptions name the parameter and the limit.
    let nonce = app
        .get(&authorize(&format!("&nonce={}", over(limits::NONCE))))
        .await;
    let described = param(&location_params(&nonce), "error_description").unwrap();
    assert_eq!(described, "nonce is longer than 512 bytes");
    // A challenge at the limit is refused for its shape, one over it for
    // its length: the length check comes first and says so.
    let app = &app;
    let described = |extra: String| async move {
        let answer = app.get(&authorize(&extra)).await;
        param(&location_params(&answer), "error_description").unwrap()
    };
    let challenge = |n: usize| {
        format!(
            "&code_challenge_method=S256&code_challenge={}",
            "x".repeat(n)
        )
    };
    assert!(described(challenge(limits::CODE_CHALLENGE))
        .await
        .starts_with("code_challenge must be a base64url SHA-256 digest"),);
    assert_eq!(
        described(challenge(limits::CODE_CHALLENGE + 1)).await,
        "code_challenge is longer than 128 bytes"
    );
    // Limits count bytes: 170 euro signs (510 bytes) pass, 171 (513) do not.
    let euros = |n: usize| format!("&nonce={}", "%E2%82%AC".repeat(n));
    let under = app.get(&authorize(&euros(170))).await;
    assert!(
        location(&under).contains("/login?request="),
        "{}",
        location(&under)
    );
    assert_eq!(
        described(euros(171)).await,
        "nonce is longer than 512 bytes"
    );
}

#[tokio::test]
async fn an_oversized_state_is_neither_stored_nor_echoed() {
    let app = spawn_app().await;
    let state = "S".repeat(limits::STATE + 1);
    let saved = "SELECT COUNT(*) AS n FROM auth_requests";
    let before = count(&app.database_url, saved).await;
    let path = format!("{}&state={state}", authorize("").replace("&state=s1", ""));
    let answer = app.get(&path).await;
    // RFC 6749 §4.1.2.1 wants the exact state in an error redirect; since
    // it is not echoed, there is no redirect at all: the user is told.
    assert_eq!(answer.status(), reqwest::StatusCode::BAD_REQUEST);
    assert!(answer.headers().get("location").is_none());
    let page = answer.text().await.unwrap();
    assert!(page.contains("This sign-in request cannot be trusted"));
    assert!(page.contains("state value longer than 2048 bytes"));
    assert!(
        !page.contains(&state[..100]),
        "the page does not echo the state"
    );
    assert_eq!(
        count(&app.database_url, saved).await,
        before,
        "nothing saved"
    );
    // Even with an error that would go to the client, the state wins.
    let answer = app.get(&format!("{path}&response_type=token")).await;
    assert_eq!(answer.status(), reqwest::StatusCode::BAD_REQUEST);
    assert!(answer.headers().get("location").is_none());

    // At /end_session, where state goes back with the redirect.
    let back = "client_id=webapp&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2F";
    let at_limit = "s".repeat(limits::STATE);
    let answer = app
        .get(&format!("/end_session?{back}&state={at_limit}"))
        .await;
    assert_eq!(answer.status(), reqwest::StatusCode::FOUND);
    assert_eq!(
        param(&location_params(&answer), "state").as_deref(),
        Some(at_limit.as_str())
    );
    let answer = app.get(&format!("/end_session?{back}&state={state}")).await;
    assert_eq!(answer.status(), reqwest::StatusCode::BAD_REQUEST);
    assert!(answer.headers().get("location").is_none());
    let page = answer.text().await.unwrap();
    assert!(page.contains("state is longer than 2048 bytes"));
    assert!(!page.contains(&state[..100]));
}

#[tokio::test]
async fn usernames_passwords_and_form_fields_have_limits() {
    let app = spawn_app().await;
    let (browser, csrf) = with_csrf_only(&app).await;
    let username = |n: usize| "u".repeat(n);
    let password = |n: usize| "p".repeat(n);
    #[rustfmt::skip]
    let cases = vec![
        post("/login").form(format!("csrf={{csrf}}&username={}&password=x", username(limits::USERNAME))).named("username at the limit").then(Page(401, "Sign in")),
        post("/login").form(format!("csrf={{csrf}}&username={}&password=x", username(limits::USERNAME + 1))).named("username over").then(Page(400, "A username has at most 64 characters")),
        post("/login").form(format!("csrf={{csrf}}&username=alice&password={}", password(limits::PASSWORD))).named("password at the limit").then(Page(401, "Sign in")),
        post("/login").form(format!("csrf={{csrf}}&username=alice&password={}", password(limits::PASSWORD + 1))).named("password over").then(Page(400, "a password at most 1024")),
    ];
    run(&app, &browser, Some(&csrf), cases).await;
    let field = |n: usize| "f".repeat(n);
    #[rustfmt::skip]
    let cases = vec![
        post("/token").form(format!("grant_type=client_credentials&scope={}", field(limits::FORM_FIELD))).basic((SERVICE, SERVICE_SECRET)).named("field at the limit").then(Json(400, "invalid_scope")),
        post("/token").form(format!("grant_type=client_credentials&scope={}", field(limits::FORM_FIELD + 1))).basic((SERVICE, SERVICE_SECRET)).named("field over").then(Json(400, "invalid_request")),
    ];
    run(&app, &app.api, None, cases).await;
    let over = app
        .token_form(
            &[
                ("grant_type", "client_credentials"),
                ("scope", &field(limits::FORM_FIELD + 1)),
            ],
            Some((SERVICE, SERVICE_SECRET)),
        )
        .await;
    let body: Value = over.json().await.unwrap();
    assert_eq!(
        body["error_description"],
        "parameter scope is longer than 16384 bytes"
    );
}

#[tokio::test]
async fn seed_users_follow_the_sign_in_limits() {
    // A seed cannot create an account nobody could sign in to.
    let seed = |username: &str, password: &str| {
        let path = std::env::temp_dir().join(format!(
            "gh-bad-seed-{}.toml",
            uuid::Uuid::new_v4().simple()
        ));
        let text = format!("[[users]]\nusername = {username:?}\npassword = {password:?}\n");
        std::fs::write(&path, text).unwrap();
        let read = gatehouse::seed::read(&path).map(|_| ());
        std::fs::remove_file(&path).unwrap();
        read.map_err(|e| e.to_string())
    };
    let longest = "u".repeat(limits::USERNAME);
    let password = "p".repeat(limits::PASSWORD);
    assert_eq!(seed(&longest, &password), Ok(()));
    for (username, password) in [
        (
            "u".repeat(limits::USERNAME + 1),
            "a long passphrase".to_string(),
        ),
        ("two words".to_string(), "a long passphrase".to_string()),
        ("zed".to_string(), "p".repeat(limits::PASSWORD + 1)),
    ] {
        let error = seed(&username, &password).unwrap_err();
        let expected = if username == "zed" {
            "password is longer than 1024 bytes"
        } else {
            "A username has 1 to 64 characters and no spaces."
        };
        assert!(error.contains(expected), "{username}: {error}");
    }
}
