//! The device screens (RFC 8628 §3.3, §5.1): typed codes are read
//! leniently; wrong ones are audited and limited per address and per person; the client's
//! groups and its demand for a second factor hold before allowing; the
//! decision form carries a CSRF token.

use crate::device_grant::*;
use crate::helpers::*;
use reqwest::StatusCode;

/// Signs the app's browser in as `username`, through the device screen.
async fn signed_in_at_device(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    let first = app.get("/device").await;
    assert_eq!(first.status(), StatusCode::FOUND);
    assert!(location(&first).ends_with("/login?then=device"));
    let signed_in = app.sign_in(&first, username, password).await;
    assert!(location(&signed_in).ends_with("/device"));
    app.follow(&signed_in).await
}

/// The device screen with `typed` entered in its form (a GET).
async fn enter(app: &TestApp, typed: &str) -> reqwest::Response {
    app.browser
        .get(app.url("/device"))
        .query(&[("user_code", typed)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_typed_code_is_read_in_any_case_with_or_without_its_dash() {
    let app = device_app().await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    let page = signed_in_at_device(&app, "alice", ALICE_PASSWORD).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Enter the code your device shows"), "{html}");
    let user_code = started["user_code"].as_str().unwrap();
    let sloppy = format!(" {} ", user_code.replace('-', " ").to_lowercase());
    let page = enter(&app, &sloppy).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Allow Living Room TV on your device?"),
        "{html}"
    );
}

#[tokio::test]
async fn wrong_codes_are_audited_and_limited_per_address() {
    let app = device_app().await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    signed_in_at_device(&app, "alice", ALICE_PASSWORD).await;
    for wrong in [
        "BCDF-GHJK",
        "nonsense",
        "ZZZZ-ZZZZ",
        "BCDF-GHJ",
        "XXXX-XXXX",
    ] {
        let page = enter(&app, wrong).await;
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "{wrong:?}");
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("That code is not right"));
    }
    let events = app.audit_events("device.user_code_invalid", None).await;
    assert_eq!(events.len(), 5);
    assert!(
        events.iter().all(|e| e.ip.as_deref() == Some("127.0.0.1")),
        "{events:?}"
    );
    // The budget is spent: even the right code is not looked up now.
    let throttled = enter(&app, started["user_code"].as_str().unwrap()).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().contains_key("retry-after"));
    assert!(throttled
        .text()
        .await
        .unwrap()
        .contains("Too many wrong codes"));
}

/// The device screen with `typed` entered, from `browser` at `address`
/// (read from `X-Forwarded-For`, which the app trusts).
async fn enter_from(
    app: &TestApp,
    browser: &reqwest::Client,
    address: &str,
    typed: &str,
) -> reqwest::Response {
    browser
        .get(app.url("/device"))
        .query(&[("user_code", typed)])
        .header("x-forwarded-for", address)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_wrong_code_budget_follows_the_person_and_holds_for_the_address() {
    let app = device_app_with(|c| c.trust_forwarded_for = true).await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    let right = started["user_code"].as_str().unwrap();
    // Alice guesses from five addresses, one each: no address's budget is
    // spent, hers is.
    let alice = new_browser();
    let csrf = app.csrf_of(&alice, "/login").await;
    let signed_in = alice
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "alice"),
            ("password", ALICE_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    for n in 1..=5 {
        let page = enter_from(&app, &alice, &format!("192.0.2.{n}"), "ZZZZ-ZZZZ").await;
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "guess {n}");
    }
    let held = enter_from(&app, &alice, "192.0.2.9", right).await;
    assert_eq!(
        held.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a new address does not renew her budget"
    );
    let events = app.audit_events("device.user_code_invalid", None).await;
    assert_eq!(events.len(), 5);
    assert!(
        events
            .iter()
            .all(|e| e.actor_name.as_deref() == Some("alice")),
        "the guesser is named: {events:?}"
    );
    // Bob, at an address Alice used once, is not held up by her budget.
    signed_in_at_device(&app, "bob", BOB_PASSWORD).await;
    let page = enter_from(&app, &app.browser, "192.0.2.1", right).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Allow Living Room TV on your device?"));
    // The right code cost him nothing; four wrong ones spend what the
    // address had left, and then the address holds even the right code.
    for n in 1..=4 {
        let page = enter_from(&app, &app.browser, "192.0.2.1", "ZZZZ-ZZZZ").await;
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "guess {n}");
    }
    let held = enter_from(&app, &app.browser, "192.0.2.1", right).await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = enter_from(&app, &app.browser, "192.0.2.2", right).await;
    assert_eq!(
        elsewhere.status(),
        StatusCode::OK,
        "one wrong code left on his own budget, and a right one costs none"
    );
}

#[tokio::test]
async fn the_decision_form_needs_its_csrf_token_and_a_signed_in_browser() {
    let app = device_app().await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    let page = app.confirm_page(&started, "alice", ALICE_PASSWORD).await;
    assert_eq!(page.status(), StatusCode::OK);
    let forged = app
        .browser
        .post(app.url("/device"))
        .form(&[
            ("csrf", "forged"),
            ("user_code", started["user_code"].as_str().unwrap()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged
        .text()
        .await
        .unwrap()
        .contains("This form had expired"));
    let stranger = new_browser();
    let csrf = app.csrf_of(&stranger, "/login").await;
    let signed_out = stranger
        .post(app.url("/device"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("user_code", started["user_code"].as_str().unwrap()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert!(location(&signed_out).ends_with("/login?then=device"));
    let (_, body) = app
        .poll(
            Device::Confidential(TV),
            started["device_code"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        body["error"], "authorization_pending",
        "nothing was decided"
    );
}

#[tokio::test]
async fn a_code_is_decided_once() {
    let app = device_app().await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    let page = app.confirm_page(&started, "alice", ALICE_PASSWORD).await;
    let html = page.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf").unwrap();
    let decide = |decision: &'static str| {
        app.browser
            .post(app.url("/device"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("user_code", started["user_code"].as_str().unwrap()),
                ("decision", decision),
            ])
            .send()
    };
    assert_eq!(decide("deny").await.unwrap().status(), StatusCode::OK);
    let again = decide("allow").await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("This code has already been used"));
    let (_, body) = app
        .poll(
            Device::Confidential(TV),
            started["device_code"].as_str().unwrap(),
        )
        .await;
    assert_eq!(body["error"], "access_denied");
}

#[tokio::test]
async fn only_members_of_the_clients_groups_may_allow_it() {
    let app = device_app().await;
    let device = Device::Public("lab-display");
    let started = app.start_device(device, "openid").await;
    let page = app.confirm_page(&started, "erin", ERIN_PASSWORD).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("have access to Lab Display"));
    // The code kept through the sign-in is forgotten: the screen asks for
    // another instead of refusing this one again.
    let again = app.get("/device").await;
    assert_eq!(again.status(), StatusCode::OK);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("Enter the code your device shows"));
    let (_, body) = app
        .poll(device, started["device_code"].as_str().unwrap())
        .await;
    assert_eq!(body["error"], "authorization_pending");

    let member = device_app().await;
    let started = member.start_device(device, "openid").await;
    member.approve_device(&started, "dana", DANA_PASSWORD).await;
    let (status, _) = member
        .poll(device, started["device_code"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_client_requiring_a_second_factor_needs_a_session_with_one() {
    let app = device_app().await;
    let device = Device::Public("vault-cli");
    // Bob signs in with his password only (for the account page).
    let to_login = app.get("/account").await;
    let page = app.follow(&to_login).await;
    let answer = app
        .submit_form(
            page,
            "/login",
            &[("username", "bob"), ("password", BOB_PASSWORD)],
        )
        .await;
    assert!(location(&answer).contains("/login/totp"), "bob has TOTP");
    // Without finishing, he is not signed in; finishing gives a session with otp.
    let page = app.follow(&answer).await;
    let code = app.totp_code();
    app.submit_form(page, "/login/totp", &[("code", &code)])
        .await;
    let started = app.start_device(device, "openid").await;
    let page = enter(&app, started["user_code"].as_str().unwrap()).await;
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "a session with a second factor"
    );
    app.decide_device(page, &started, "allow").await;
    let (status, tokens) = app
        .poll(device, started["device_code"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    let claims = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), "vault-cli").await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp"]));

    // Alice has no second factor: she is told to set one up, and cannot allow.
    let other = device_app().await;
    let started = other.start_device(device, "openid").await;
    let page = other.confirm_page(&started, "alice", ALICE_PASSWORD).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Vault CLI asks for two-step verification"),
        "{html}"
    );
    assert!(html.contains("Set up two-step verification"));
    let csrf = other.csrf_of(&other.browser, "/account").await;
    let forced = other
        .browser
        .post(other.url("/device"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("user_code", started["user_code"].as_str().unwrap()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        forced.status(),
        StatusCode::FORBIDDEN,
        "the form cannot skip the rule"
    );
    assert!(forced
        .text()
        .await
        .unwrap()
        .contains("Vault CLI asks for two-step verification"));
    let (_, body) = other
        .poll(device, started["device_code"].as_str().unwrap())
        .await;
    assert_eq!(body["error"], "authorization_pending");
}
