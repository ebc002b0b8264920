//! The sign-in screens: same message for unknown users and wrong passwords,
//! CSRF, TOTP with replay refused, sessions behind cookies.

use crate::helpers::*;
use reqwest::StatusCode;

async fn login_page(app: &TestApp) -> reqwest::Response {
    let to_login = app.authorize(&AuthRequest::confidential()).await;
    app.follow(&to_login).await
}

#[tokio::test]
async fn unknown_user_and_wrong_password_look_the_same() {
    let app = spawn_app().await;
    let mut bodies = Vec::new();
    for (user, password) in [("alice", "wrong password"), ("mallory", "whatever")] {
        let page = login_page(&app).await;
        let response = app
            .submit_form(
                page,
                "/login",
                &[("username", user), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let html = response.text().await.unwrap();
        assert!(html.contains("don&#x27;t match"), "{html}");
        bodies.push(html.replace(user, "USER"));
    }
    let strip = |s: &str| s.replace(&hidden_field(s, "request").unwrap_or_default(), "");
    assert_eq!(strip(&bodies[0]), strip(&bodies[1]));
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    let page = login_page(&app).await;
    let html = page.text().await.unwrap();
    let request = hidden_field(&html, "request").unwrap();
    let response = app
        .browser
        .post(app.url("/login"))
        .form(&[
            ("request", request.as_str()),
            ("username", "alice"),
            ("password", ALICE_PASSWORD),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn the_session_cookie_is_httponly_and_lax() {
    let app = spawn_app().await;
    let page = login_page(&app).await;
    let response = app
        .submit_form(
            page,
            "/login",
            &[("username", "alice"), ("password", ALICE_PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("gatehouse_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(
        !cookie.contains("Secure"),
        "plain-http issuer: no Secure flag"
    );
}

#[tokio::test]
async fn session_cookies_are_secure_on_https_issuers() {
    // The issuer says https (a TLS proxy in front); the test still talks http.
    let app = spawn_app_with(|c| c.issuer = "https://id.example.test".into()).await;
    let addr = format!("http://127.0.0.1:{}", app.port);
    let client = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(format!("{addr}/login")).send().await.unwrap();
    let cookie = page
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.starts_with("__Host-"), "{cookie}");
}

#[tokio::test]
async fn totp_codes_work_once_and_wrong_codes_are_refused() {
    let app = spawn_app().await;
    let to_login = app.authorize(&AuthRequest::confidential()).await;
    let page = app.follow(&to_login).await;
    let answer = app
        .submit_form(
            page,
            "/login",
            &[("username", "bob"), ("password", BOB_PASSWORD)],
        )
        .await;
    assert!(location(&answer).contains("/login/totp"));
    let page = app.follow(&answer).await;
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"autocomplete="one-time-code""#));
    assert!(html.contains(r#"name="code""#));

    let page = app.follow(&answer).await;
    let wrong = app
        .submit_form(page, "/login/totp", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let code = app.totp_code();
    let page = app.follow(&answer).await;
    let ok = app
        .submit_form(page, "/login/totp", &[("code", &code)])
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert!(location(&ok).contains("/authorize/resume"));

    // A second sign-in within the same 30 s cannot reuse that code.
    let to_login = app
        .authorize(&AuthRequest::confidential().with("prompt", "login"))
        .await;
    let page = app.follow(&to_login).await;
    let answer = app
        .submit_form(
            page,
            "/login",
            &[("username", "bob"), ("password", BOB_PASSWORD)],
        )
        .await;
    let page = app.follow(&answer).await;
    let replay = app
        .submit_form(page, "/login/totp", &[("code", &code)])
        .await;
    assert_eq!(
        replay.status(),
        StatusCode::UNAUTHORIZED,
        "a used code is refused"
    );
    app.clock.advance(30);
    let page = app.follow(&answer).await;
    let next = app
        .submit_form(page, "/login/totp", &[("code", &app.totp_code())])
        .await;
    assert_eq!(
        next.status(),
        StatusCode::SEE_OTHER,
        "the next step's code works"
    );
}

#[tokio::test]
async fn the_totp_screen_needs_a_password_first() {
    let app = spawn_app().await;
    let response = app.get("/login/totp").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).ends_with("/login"));
}

#[tokio::test]
async fn direct_sign_in_lands_on_the_home_page() {
    let app = spawn_app().await;
    let page = app.get("/login").await;
    let response = app
        .submit_form(
            page,
            "/login",
            &[("username", "alice"), ("password", ALICE_PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let home = app.follow(&response).await;
    assert!(home
        .text()
        .await
        .unwrap()
        .contains("signed in as <strong>alice</strong>"));
}

#[tokio::test]
async fn every_page_renders_and_unknown_paths_are_404_pages() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/login",
        "/static/gatehouse.css",
        "/static/form_post.js",
    ] {
        assert_eq!(app.get(path).await.status(), StatusCode::OK, "{path}");
    }
    let missing = app.get("/nothing-here").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn parallel_totp_guesses_count_like_sequential_ones() {
    let app = spawn_app().await;
    // Bob's own browser, trusted since a first sign-in: its first five
    // failures cost no delay, so every guess below reaches the challenge
    // and none is held back by the account throttle (tested on its own in
    // `lockout`), whatever order the server takes them in.
    let first = app.authorize(&AuthRequest::confidential()).await;
    let signed_in = app.sign_in(&first, "bob", BOB_PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    app.clock.advance(30);
    let to_login = app
        .authorize(&AuthRequest::confidential().with("prompt", "login"))
        .await;
    let page = app.follow(&to_login).await;
    let answer = app
        .submit_form(
            page,
            "/login",
            &[("username", "bob"), ("password", BOB_PASSWORD)],
        )
        .await;
    let totp_page = app.follow(&answer).await.text().await.unwrap();
    let csrf = hidden_field(&totp_page, "csrf").unwrap();
    let request = hidden_field(&totp_page, "request").unwrap();
    let guesses = (0..8).map(|i| {
        let code = format!("{:06}", 111_111 * (i % 9));
        let form = vec![
            ("csrf", csrf.clone()),
            ("request", request.clone()),
            ("code", code),
        ];
        app.browser.post(app.url("/login/totp")).form(&form).send()
    });
    let answers = futures_util::future::join_all(guesses).await;
    let wrong = answers
        .iter()
        .filter(|r| r.as_ref().unwrap().status() == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        wrong <= 4,
        "at most five attempts, the last of which ends the challenge: {wrong}"
    );
    let code = app.totp_code();
    let last = app
        .browser
        .post(app.url("/login/totp"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("request", request.as_str()),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    // The right code comes too late: eight guesses drew on five attempts,
    // each taken before its code was compared, so the challenge is used up
    // whatever the order, and the password is needed again.
    assert_eq!(last.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&last).contains("/login?request="),
        "the password is needed again: {}",
        location(&last)
    );
}

#[tokio::test]
async fn malformed_request_ids_get_a_page_not_an_error() {
    let app = spawn_app().await;
    for path in [
        "/login/totp?request=%0Aevil",
        "/login?request=%0D%0ASet-Cookie:x",
        "/consent?request=..%2F",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
    }
}

async fn try_password(
    app: &TestApp,
    username: &str,
    password: &str,
    from: &str,
) -> reqwest::Response {
    app.post_password(&app.browser, "/login", (username, password), Some(from))
        .await
}

#[tokio::test]
async fn repeated_failures_slow_an_account_down_and_success_clears_it() {
    let app = spawn_app_with(|c| c.trust_forwarded_for = true).await;
    let here = "198.51.100.7";
    for _ in 0..3 {
        assert_eq!(
            try_password(&app, "alice", "wrong", here).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let blocked = try_password(&app, "alice", ALICE_PASSWORD, here).await;
    assert_eq!(
        blocked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(blocked
        .text()
        .await
        .unwrap()
        .contains("Too many failed attempts"));
    // Another address is not slowed down by this one's failures.
    assert_eq!(
        try_password(&app, "alice", ALICE_PASSWORD, "203.0.113.9")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // That success cleared the counters.
    assert_eq!(
        try_password(&app, "alice", "wrong", here).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Unknown usernames are throttled exactly like real ones.
    for _ in 0..3 {
        try_password(&app, "nobody-here", "x", here).await;
    }
    assert_eq!(
        try_password(&app, "nobody-here", "x", here).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.clock.advance(2);
    assert_eq!(
        try_password(&app, "nobody-here", "x", here).await.status(),
        StatusCode::UNAUTHORIZED,
        "the delay passes"
    );
}

#[tokio::test]
async fn a_distributed_attack_delays_unknown_browsers_but_never_locks_them_out() {
    let app = spawn_app_with(|c| c.trust_forwarded_for = true).await;
    for i in 0..30 {
        try_password(&app, "alice", "wrong", &format!("192.0.2.{i}")).await;
        app.clock.advance(61);
    }
    // Right after a failure from anywhere, every unknown browser waits...
    try_password(&app, "alice", "wrong", "192.0.2.200").await;
    let owner = try_password(&app, "alice", ALICE_PASSWORD, "203.0.113.50").await;
    assert_eq!(owner.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...longer than a minute now (the owner's trusted browsers do not:
    // see `lockout`)...
    app.clock.advance(61);
    let owner = try_password(&app, "alice", ALICE_PASSWORD, "203.0.113.50").await;
    assert_eq!(owner.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...but never more than a quarter of an hour after the last failure.
    app.clock.advance(900);
    let owner = try_password(&app, "alice", ALICE_PASSWORD, "203.0.113.50").await;
    assert_eq!(owner.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_new_sign_in_replaces_the_browser_session() {
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::confidential(), "alice", ALICE_PASSWORD)
        .await;
    let id = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), CONFIDENTIAL).await;
    let old_sid = id["sid"].as_str().unwrap().to_string();

    let again = app
        .authorize(&AuthRequest::confidential().with("prompt", "login"))
        .await;
    let signed_in = app.sign_in(&again, "alice", ALICE_PASSWORD).await;
    let back = app.follow(&signed_in).await;
    assert!(param(&location_params(&back), "code").is_some());

    // The same user signed in again: the session is replaced under the
    // same sid (the clients signed in through it are not logged out).
    let others = count_with(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM browser_sessions WHERE sid <> $1",
        &[&old_sid],
    )
    .await;
    let same = count_with(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM browser_sessions WHERE sid = $1",
        &[&old_sid],
    )
    .await;
    assert_eq!(others, 0, "one browser, one session");
    assert_eq!(same, 1, "under the old sid");
}
