//! Device cookies (OWASP "Slow Down Online Guessing Attacks with Device
//! Cookies"): a browser that signed in to an account is trusted for it and
//! is not delayed by failures from elsewhere; unknown browsers and
//! addresses are; a trusted browser that keeps failing is delayed itself; a
//! forged cookie or another account's proves nothing; an administrator
//! clears the delays from the screens, the API and the command line.
//! Addresses come from `X-Forwarded-For` behind `trust_forwarded_for`.

use crate::helpers::*;
use reqwest::{Client, Response, StatusCode};
use std::sync::Arc;

/// Where the owner signs in from.
const HOME: &str = "203.0.113.5";

/// A browser of its own (cookie jar), following no redirects.
fn browser() -> Client {
    browser_with(Arc::new(reqwest::cookie::Jar::default()))
}

fn browser_with(jar: Arc<reqwest::cookie::Jar>) -> Client {
    client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar)
        .build()
        .unwrap()
}

async fn spawn() -> TestApp {
    spawn_app_with(|c| c.trust_forwarded_for = true).await
}

/// Signs in (the password step) with `browser` from `from`.
async fn attempt(
    app: &TestApp,
    browser: &Client,
    username: &str,
    password: &str,
    from: &str,
) -> Response {
    app.post_password(browser, "/login", (username, password), Some(from))
        .await
}

/// The `Set-Cookie` header that sets `name`.
fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// A browser trusted for `username`: it signed in from HOME.
async fn trusted_browser(app: &TestApp, username: &str, password: &str) -> Client {
    let owner = browser();
    let signed_in = attempt(app, &owner, username, password, HOME).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&signed_in, "gatehouse_device").is_some());
    owner
}

/// Bob's second step, after his password, in `browser`.
async fn enter_bobs_code(app: &TestApp, browser: &Client) -> Response {
    let page = browser
        .get(app.url("/login/totp"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let code = app.totp_code();
    browser
        .post(app.url("/login/totp"))
        .header("x-forwarded-for", HOME)
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap()
}

/// Wrong passwords for `username` from unknown browsers at `n` addresses,
/// one each, until unknown browsers must wait.
async fn attack(app: &TestApp, username: &str, n: usize) {
    for i in 0..n {
        let answer = attempt(app, &browser(), username, "wrong", &format!("192.0.2.{i}")).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
}

#[tokio::test]
async fn a_signed_in_browser_gets_a_long_lived_httponly_lax_device_cookie() {
    let app = spawn().await;
    let answer = attempt(&app, &browser(), "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&answer, "gatehouse_device").expect("a device cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Max-Age=31536000"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-http issuer: {cookie}");
    // Only its hash is stored, bound to the account.
    let value = cookie
        .trim_start_matches("gatehouse_device=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(value.len(), 43);
    let hash = gatehouse::crypto::token_hash(&value);
    assert_eq!(
        count_with(
            &app.database_url,
            "SELECT COUNT(*) AS n FROM device_cookies WHERE token_hash = $1",
            &[&hash],
        )
        .await,
        1
    );
    assert_eq!(
        count_with(
            &app.database_url,
            "SELECT COUNT(*) AS n FROM device_cookies WHERE token_hash = $1",
            &[&value],
        )
        .await,
        0
    );
    // A wrong password sets no device cookie.
    let refused = attempt(&app, &browser(), "alice", "wrong", HOME).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(set_cookie(&refused, "gatehouse_device"), None);
}

#[tokio::test]
async fn device_cookies_are_host_prefixed_and_secure_on_https_issuers() {
    let app = spawn_app_with(|c| c.issuer = "https://id.example.test".into()).await;
    let client = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port);
    let page = client.get(format!("{base}/login")).send().await.unwrap();
    let csrf_cookie = set_cookie(&page, "__Host-gatehouse_csrf").expect("a CSRF cookie");
    let csrf_pair = csrf_cookie.split(';').next().unwrap().to_string();
    let csrf = hidden_field(&page.text().await.unwrap(), "csrf").unwrap();
    let answer = client
        .post(format!("{base}/login"))
        .header("cookie", csrf_pair)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "alice"),
            ("password", ALICE_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&answer, "__Host-gatehouse_device").expect("a device cookie");
    for attribute in [
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=31536000",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
}

#[tokio::test]
async fn an_attack_from_other_addresses_does_not_delay_the_owners_trusted_browser() {
    let app = spawn().await;
    let owner = trusted_browser(&app, "alice", ALICE_PASSWORD).await;
    // A distributed attack: one wrong password a minute, each from a new
    // address and a new browser, for half an hour.
    for i in 0..30 {
        attempt(&app, &browser(), "alice", "wrong", &format!("192.0.2.{i}")).await;
        app.clock.advance(61);
    }
    let attacker = attempt(&app, &browser(), "alice", "wrong", "192.0.2.200").await;
    assert_eq!(attacker.status(), StatusCode::TOO_MANY_REQUESTS);
    // An unknown browser waits, even at the owner's address and with the
    // right password...
    let unknown = attempt(&app, &browser(), "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(unknown.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = unknown.text().await.unwrap();
    assert!(page.contains("Too many failed attempts. Wait"), "{page}");
    assert!(page.contains("name=\"password\""), "the sign-in form again");
    // ...while the owner's trusted browser is not delayed at all, at home
    // or anywhere else.
    let typo = attempt(&app, &owner, "alice", "typo", HOME).await;
    assert_eq!(
        typo.status(),
        StatusCode::UNAUTHORIZED,
        "checked, not delayed"
    );
    let home = attempt(&app, &owner, "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    let away = attempt(&app, &owner, "alice", ALICE_PASSWORD, "198.51.100.20").await;
    assert_eq!(away.status(), StatusCode::SEE_OTHER);
    // The owner's sign-ins do not lift the delay on unknown browsers.
    let attacker = attempt(&app, &browser(), "alice", "wrong", "192.0.2.201").await;
    assert_eq!(attacker.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn an_unknown_browser_is_delayed_by_failures_from_its_address_and_from_everywhere() {
    let app = spawn().await;
    // Three failures from one address delay unknown browsers there...
    for _ in 0..3 {
        let answer = attempt(&app, &browser(), "alice", "wrong", "198.51.100.7").await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    let there = attempt(&app, &browser(), "alice", ALICE_PASSWORD, "198.51.100.7").await;
    assert_eq!(there.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...and ten from anywhere delay every unknown browser.
    attack(&app, "alice", 7).await;
    let elsewhere = attempt(&app, &browser(), "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(elsewhere.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(2);
    let later = attempt(&app, &browser(), "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(later.status(), StatusCode::SEE_OTHER, "the delay passes");
}

#[tokio::test]
async fn a_trusted_browser_that_keeps_failing_is_delayed_itself() {
    let app = spawn().await;
    let stolen = trusted_browser(&app, "alice", ALICE_PASSWORD).await;
    for i in 0..5 {
        let from = format!("198.51.100.{i}");
        let answer = attempt(&app, &stolen, "alice", "wrong", &from).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let locked = attempt(&app, &stolen, "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked
        .text()
        .await
        .unwrap()
        .contains("Too many failed attempts. Wait 1 seconds"));
    // Its failures counted against it alone: another browser, at the same
    // address, signs in.
    let other = attempt(&app, &browser(), "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(other.status(), StatusCode::SEE_OTHER);
    // Failing on, it waits longer each time, up to a quarter of an hour.
    for _ in 0..12 {
        app.clock.advance(900);
        let answer = attempt(&app, &stolen, "alice", "wrong", HOME).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = attempt(&app, &stolen, "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked
        .text()
        .await
        .unwrap()
        .contains("Too many failed attempts. Wait 900 seconds"));
    app.clock.advance(899);
    let still = attempt(&app, &stolen, "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(still.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(1);
    let through = attempt(&app, &stolen, "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(through.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_renewed_device_cookie_keeps_its_failures() {
    // A thief holding alice's trusted browser fails until it must wait,
    // then signs in to an account of their own (bob, here), which renews
    // the cookie: the new value inherits the old one's failures.
    let app = spawn().await;
    let stolen = trusted_browser(&app, "alice", ALICE_PASSWORD).await;
    for i in 0..5 {
        let answer = attempt(&app, &stolen, "alice", "wrong", HOME).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let to_code = attempt(&app, &stolen, "bob", BOB_PASSWORD, HOME).await;
    assert_eq!(to_code.status(), StatusCode::SEE_OTHER);
    let renewed = enter_bobs_code(&app, &stolen).await;
    assert_eq!(renewed.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&renewed, "gatehouse_device").is_some());
    let locked = attempt(&app, &stolen, "alice", "wrong", HOME).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn an_account_trusts_its_twenty_newest_browsers() {
    let app = spawn().await;
    let mut browsers = Vec::new();
    for _ in 0..22 {
        browsers.push(trusted_browser(&app, "alice", ALICE_PASSWORD).await);
        app.clock.advance(60);
    }
    let trusted = rows(&app.database_url, "SELECT account FROM device_cookies").await;
    assert_eq!(trusted.len(), 20);
    // The newest is among them: its failures count against it alone (five
    // free), where an unknown browser at one address waits after three.
    let newest = browsers.last().unwrap();
    for i in 0..4 {
        let answer = attempt(&app, newest, "alice", "wrong", "198.51.100.7").await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // The oldest is no longer trusted: an unknown browser again.
    let oldest = browsers.first().unwrap();
    for i in 0..3 {
        let answer = attempt(&app, oldest, "alice", "wrong", "198.51.100.8").await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let delayed = attempt(&app, oldest, "alice", "wrong", "198.51.100.8").await;
    assert_eq!(delayed.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_password_change_distrusts_every_browser_of_the_account() {
    let app = spawn().await;
    let intruders = trusted_browser(&app, "alice", ALICE_PASSWORD).await;
    let trusted = rows(&app.database_url, "SELECT account FROM device_cookies").await;
    assert_eq!(trusted.len(), 1);
    // The owner, from another browser, has an admin reset the password.
    let token = app.admin_token().await;
    let reset = app
        .api
        .post(app.url("/admin/api/v1/users/alice/reset-password"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "password": "a brand new passphrase 9" }))
        .send()
        .await
        .unwrap();
    let status = reset.status();
    assert_eq!(status, StatusCode::OK);
    let trusted = rows(&app.database_url, "SELECT account FROM device_cookies").await;
    assert!(trusted.is_empty(), "no browser stays trusted for alice");
    // The intruder's browser is an unknown browser again: its failures
    // count against its address like anyone's.
    for _ in 0..3 {
        let answer = attempt(&app, &intruders, "alice", "wrong", "203.0.113.9").await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    let delayed = attempt(&app, &intruders, "alice", "wrong", "203.0.113.9").await;
    assert_eq!(delayed.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn forged_leaked_and_other_accounts_device_cookies_are_not_trusted() {
    let app = spawn().await;
    // A browser trusted for alice, and the hash the database keeps of it.
    let alices = trusted_browser(&app, "alice", ALICE_PASSWORD).await;
    let stored = rows(&app.database_url, "SELECT token_hash FROM device_cookies").await;
    assert_eq!(stored.len(), 1);
    let stored_hash: String = sqlx::Row::get(&stored[0], "token_hash");
    // Unknown browsers must wait for alice and for bob.
    attack(&app, "alice", 10).await;
    attack(&app, "bob", 10).await;

    // Alice's browser is not trusted for bob.
    let as_bob = attempt(&app, &alices, "bob", BOB_PASSWORD, HOME).await;
    assert_eq!(as_bob.status(), StatusCode::TOO_MANY_REQUESTS);
    // A made-up value, and the stored hash presented as the value, are
    // not trusted for alice.
    let forged = gatehouse::crypto::random_token();
    for value in [forged.as_str(), stored_hash.as_str(), "x"] {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let url = reqwest::Url::parse(&app.address).unwrap();
        jar.add_cookie_str(&format!("gatehouse_device={value}; Path=/"), &url);
        let answer = attempt(&app, &browser_with(jar), "alice", ALICE_PASSWORD, HOME).await;
        assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS, "{value}");
    }
    // The real one is.
    let alice = attempt(&app, &alices, "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(alice.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn one_browser_stays_trusted_for_each_account_it_signed_in_to() {
    let app = spawn().await;
    let shared = trusted_browser(&app, "alice", ALICE_PASSWORD).await;
    let first = rows(&app.database_url, "SELECT token_hash FROM device_cookies").await;
    let first: String = sqlx::Row::get(&first[0], "token_hash");
    // Signing in as bob (password and code) renews the cookie, which
    // stays trusted for alice too.
    let to_code = attempt(&app, &shared, "bob", BOB_PASSWORD, HOME).await;
    assert_eq!(to_code.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        set_cookie(&to_code, "gatehouse_device"),
        None,
        "not before the second factor"
    );
    let signed_in = enter_bobs_code(&app, &shared).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&signed_in, "gatehouse_device").is_some());
    assert_eq!(
        count_with(
            &app.database_url,
            "SELECT COUNT(*) AS n FROM device_cookies WHERE token_hash = $1",
            &[&first],
        )
        .await,
        0,
        "the old value is retired"
    );
    assert_eq!(
        count(
            &app.database_url,
            "SELECT COUNT(*) AS n FROM device_cookies"
        )
        .await,
        2,
        "one value, trusted for two accounts"
    );
    attack(&app, "alice", 10).await;
    attack(&app, "bob", 10).await;
    let alice = attempt(&app, &shared, "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(alice.status(), StatusCode::SEE_OTHER);
    let bob = attempt(&app, &shared, "bob", BOB_PASSWORD, HOME).await;
    assert_eq!(bob.status(), StatusCode::SEE_OTHER, "on to the code");
    assert!(location(&bob).contains("/login/totp"));
}

/// Locks alice out of unknown browsers, and checks that it holds.
async fn lock_alice(app: &TestApp, round: usize) {
    for i in 0..10 {
        let from = format!("192.0.{round}.{i}");
        let answer = attempt(app, &browser(), "alice", "wrong", &from).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = attempt(app, &browser(), "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Whether an unknown browser signs in as alice (which clears the
/// counters it was checked against, if it does).
async fn alice_unlocked(app: &TestApp) -> bool {
    let probe = attempt(app, &browser(), "alice", ALICE_PASSWORD, "198.51.100.99").await;
    match probe.status() {
        StatusCode::SEE_OTHER => true,
        StatusCode::TOO_MANY_REQUESTS => false,
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn admins_unlock_an_account_from_the_screens_the_api_and_the_cli() {
    let app = spawn().await;
    // The screens: the user page says the account is delayed, and the
    // button clears it.
    let root = "root's long admin passphrase";
    let root_id = app.create_admin_user("root", root).await;
    let admin = trusted_browser(&app, "root", root).await;
    lock_alice(&app, 1).await;
    let alice_id = {
        let found = rows(
            &app.database_url,
            "SELECT id FROM users WHERE username = 'alice'",
        )
        .await;
        sqlx::Row::get::<String, _>(&found[0], "id")
    };
    let page = admin
        .get(app.url(&format!("/admin/users/{alice_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign-in delayed"), "{html}");
    assert!(html.contains(&format!("/admin/users/{alice_id}/unlock")));
    let csrf = hidden_field(&html, "csrf").unwrap();
    let done = admin
        .post(app.url(&format!("/admin/users/{alice_id}/unlock")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(location(&done).ends_with(&format!("/admin/users/{alice_id}?done=user-unlocked")));
    assert!(alice_unlocked(&app).await, "unlocked from the screens");
    let page = admin
        .get(app.url(&location(&done)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("The failed sign-ins were cleared"));
    assert!(!page.contains("Sign-in delayed"));
    // Without the form's token, nothing happens.
    lock_alice(&app, 2).await;
    let forged = admin
        .post(app.url(&format!("/admin/users/{alice_id}/unlock")))
        .form(&[("csrf", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(!alice_unlocked(&app).await);

    // The API.
    let token = app.admin_token().await;
    let unlock = |user: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            app.api
                .post(app.url(&format!("/admin/api/v1/users/{user}/unlock")))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(unlock("alice").await.status(), StatusCode::NO_CONTENT);
    assert!(alice_unlocked(&app).await, "unlocked from the API");
    let missing = unlock("nobody").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    let anonymous = app
        .api
        .post(app.url("/admin/api/v1/users/alice/unlock"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // The command line.
    lock_alice(&app, 3).await;
    let out = gatehouse_cli(&app.database_url, &["user", "unlock", "alice"], &[], None).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Cleared the failed sign-ins of alice"));
    assert!(alice_unlocked(&app).await, "unlocked from the command line");
    let out = gatehouse_cli(&app.database_url, &["user", "unlock", "nobody"], &[], None).await;
    assert_eq!(out.status.code(), Some(3));

    // Each is in the audit log, by whom it was done.
    app.provider.audit.flush().await;
    let events = rows(
        &app.database_url,
        "SELECT actor, user_id FROM audit_events WHERE event = 'admin.user.unlocked'
         ORDER BY at, actor",
    )
    .await;
    let mut actors: Vec<String> = events
        .iter()
        .map(|row| {
            let user: String = sqlx::Row::get(row, "user_id");
            assert_eq!(user, alice_id);
            sqlx::Row::get(row, "actor")
        })
        .collect();
    actors.sort();
    assert_eq!(
        actors,
        [
            "cli".to_string(),
            "client:automation".to_string(),
            format!("user:{root_id}"),
        ]
    );
}

#[tokio::test]
async fn an_unlock_also_frees_a_trusted_browser_that_failed_too_often() {
    let app = spawn().await;
    let owner = trusted_browser(&app, "alice", ALICE_PASSWORD).await;
    for _ in 0..5 {
        attempt(&app, &owner, "alice", "wrong", HOME).await;
    }
    let locked = attempt(&app, &owner, "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let token = app.admin_token().await;
    let unlocked = app
        .api
        .post(app.url("/admin/api/v1/users/alice/unlock"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(unlocked.status(), StatusCode::NO_CONTENT);
    let through = attempt(&app, &owner, "alice", ALICE_PASSWORD, HOME).await;
    assert_eq!(through.status(), StatusCode::SEE_OTHER);
}
