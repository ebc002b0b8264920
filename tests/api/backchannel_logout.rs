//! OpenID Connect Back-Channel Logout 1.0: every way a browser session ends
//! — RP-initiated logout, the account page (this session, another one, all
//! others), an admin ending it, disabling or deleting the user, a password
//! reset by link or by an admin, a password change on the account page —
//! sends a valid logout token (§2.4) to each client that got tokens in that
//! session and registered a `backchannel_logout_uri`, and to no other
//! client; a later session lives on and tells no one. Retries and failures are in `backchannel_logout_delivery`.

use crate::helpers::smtp::{link, SmtpSink};
use crate::helpers::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

/// The redirect URI every client registered here uses.
pub(crate) const RP_REDIRECT: &str = "http://127.0.0.1:9990/cb";

/// Registers a public client (PKCE, no consent) with `uri` as its
/// back-channel logout URI through the admin API.
pub(crate) async fn register_rp(
    app: &TestApp,
    token: &str,
    client_id: &str,
    uri: &str,
    session_required: bool,
) {
    let (status, body) = app
        .api_json(
            Method::POST,
            "/clients",
            token,
            Some(json!({
                "client_id": client_id,
                "public": true,
                "redirect_uris": [RP_REDIRECT],
                "scopes": ["openid"],
                "require_consent": false,
                "backchannel_logout_uri": uri,
                "backchannel_logout_session_required": session_required,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// An authorization request of a client registered by [`register_rp`].
pub(crate) fn rp_request(client_id: &str) -> AuthRequest {
    AuthRequest {
        client_id: client_id.into(),
        redirect_uri: RP_REDIRECT.into(),
        scope: "openid".into(),
        ..AuthRequest::confidential()
    }
}

/// Signs alice in with the app's browser and gets `client_id` tokens in
/// that session; returns the ID token's claims (with `sid` and `sub`).
pub(crate) async fn tokens_in_session(app: &TestApp, client_id: &str) -> Value {
    let tokens = app
        .tokens_for(&rp_request(client_id), "alice", ALICE_PASSWORD)
        .await;
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    verify_with_jwks(app, id_token, client_id).await
}

/// Logout rows queued for `uri`.
pub(crate) async fn queued_for(app: &TestApp, uri: &str) -> i64 {
    count_with(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM outbox WHERE channel = 'backchannel_logout' AND recipient = $1",
        &[uri],
    )
    .await
}

/// Two relying parties with receivers: `a` (needs `sid`) gets tokens in
/// alice's session, `b` (registered, but not used in it) does not.
struct Rig {
    app: TestApp,
    admin: String,
    a: LogoutReceiver,
    b: LogoutReceiver,
    id_claims: Value,
}

async fn rig_with(app: TestApp) -> Rig {
    let admin = app.admin_token().await;
    let a = LogoutReceiver::start().await;
    let b = LogoutReceiver::start().await;
    register_rp(&app, &admin, "rp-a", &a.url(), true).await;
    register_rp(&app, &admin, "rp-b", &b.url(), false).await;
    let id_claims = tokens_in_session(&app, "rp-a").await;
    Rig {
        app,
        admin,
        a,
        b,
        id_claims,
    }
}

async fn rig() -> Rig {
    rig_with(spawn_app().await).await
}

impl Rig {
    /// Checks that `a` got one valid logout token for alice's session, and
    /// that nothing was queued for `b`.
    async fn a_is_told_and_b_is_not(&self) -> Value {
        let posts = self.a.wait_for(1).await;
        assert_eq!(posts.len(), 1, "one logout token");
        assert_eq!(
            queued_for(&self.app, &self.a.url()).await,
            1,
            "exactly one row queued for a"
        );
        let claims = validated_logout(&self.app, &posts[0], "rp-a").await;
        assert_eq!(claims["sid"], self.id_claims["sid"], "the session's sid");
        assert_eq!(claims["sub"], self.id_claims["sub"], "the user");
        assert_eq!(claims["aud"], "rp-a");
        assert_eq!(
            queued_for(&self.app, &self.b.url()).await,
            0,
            "b had no grant"
        );
        assert!(self.b.posts().is_empty());
        claims
    }

    fn alice(&self) -> String {
        self.id_claims["sub"].as_str().unwrap().to_string()
    }

    fn sid(&self) -> String {
        self.id_claims["sid"].as_str().unwrap().to_string()
    }
}

/// Gets `client_id` tokens in the session of `browser`, which is signed
/// in already; returns the ID token's claims.
pub(crate) async fn tokens_in_browser(app: &TestApp, browser: &Client, client_id: &str) -> Value {
    let request = rp_request(client_id);
    let answer = browser
        .get(app.url("/authorize"))
        .query(&request.params())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND);
    let code = param(&location_params(&answer), "code").expect("a code");
    let response = app.redeem(&request, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    verify_with_jwks(app, tokens["id_token"].as_str().unwrap(), client_id).await
}

/// Signs alice in with a new browser and returns it.
async fn another_browser(app: &TestApp) -> Client {
    let other = new_browser();
    let answer = app
        .post_password(&other, "/login", ("alice", ALICE_PASSWORD), None)
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    other
}

/// Posts the account page's sessions form from `browser`.
async fn end_sessions_from(app: &TestApp, browser: &Client, field: (&str, &str)) {
    let csrf = app.csrf_of(browser, "/account").await;
    let answer = browser
        .post(app.url("/account/sessions/end"))
        .form(&[("csrf", csrf.as_str()), field])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn rp_initiated_logout_tells_the_clients_of_the_session() {
    let rig = rig().await;
    let tokens = rig
        .app
        .tokens_for(&rp_request("rp-a"), "alice", ALICE_PASSWORD)
        .await;
    let response = rig
        .app
        .browser
        .get(rig.app.url("/end_session"))
        .query(&[("id_token_hint", tokens["id_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "signed out");
    rig.a_is_told_and_b_is_not().await;
}

#[tokio::test]
async fn signing_out_of_this_browser_on_the_account_page_tells_the_clients() {
    let rig = rig().await;
    // The account page's "Sign out" leads to the end_session confirmation.
    let page = rig.app.get("/end_session").await;
    assert_eq!(page.status(), StatusCode::OK);
    let answer = rig
        .app
        .submit_form(page, "/end_session/confirm", &[("decision", "logout")])
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    rig.a_is_told_and_b_is_not().await;
}

#[tokio::test]
async fn signing_out_another_session_on_the_account_page_tells_its_clients() {
    let rig = rig().await;
    let other = another_browser(&rig.app).await;
    end_sessions_from(&rig.app, &other, ("sid", &rig.sid())).await;
    rig.a_is_told_and_b_is_not().await;
}

#[tokio::test]
async fn signing_out_everywhere_else_tells_the_clients_of_each_session() {
    let rig = rig().await;
    let other = another_browser(&rig.app).await;
    end_sessions_from(&rig.app, &other, ("scope", "others")).await;
    rig.a_is_told_and_b_is_not().await;
    // The session that asked goes on, and no client of it is told.
    let account = other.get(rig.app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_admin_ending_the_session_tells_its_clients() {
    let rig = rig().await;
    let path = format!("/users/{}/sessions/{}", rig.alice(), rig.sid());
    let response = rig.app.api(Method::DELETE, &path, &rig.admin, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    rig.a_is_told_and_b_is_not().await;
}

#[tokio::test]
async fn disabling_the_user_tells_the_clients_of_every_session() {
    let rig = rig().await;
    let path = format!("/users/{}/disable", rig.alice());
    let response = rig.app.api(Method::POST, &path, &rig.admin, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    rig.a_is_told_and_b_is_not().await;
}

#[tokio::test]
async fn deleting_the_user_tells_the_clients_of_every_session() {
    let rig = rig().await;
    let path = format!("/users/{}", rig.alice());
    let response = rig.app.api(Method::DELETE, &path, &rig.admin, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    rig.a_is_told_and_b_is_not().await;
}

#[tokio::test]
async fn a_password_reset_tells_the_clients_of_every_session() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| c.smtp_url = Some(url.as_str().into())).await;
    let rig = rig_with(app).await;
    let app = &rig.app;
    let stranger = new_browser();
    let csrf = app.csrf_of(&stranger, "/forgot-password").await;
    let asked = stranger
        .post(app.url("/forgot-password"))
        .form(&[("csrf", csrf.as_str()), ("identifier", "alice")])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::OK);
    let mails = sink.wait_for("alice@example.com", 1).await;
    let reset = link(&mails[0].text, &app.url("/reset-password?token="));
    let page = stranger.get(&reset).send().await.unwrap();
    let html = page.text().await.unwrap();
    let new_password = "a completely new passphrase";
    let done = stranger
        .post(app.url("/reset-password"))
        .form(&[
            ("csrf", hidden_field(&html, "csrf").unwrap().as_str()),
            ("token", hidden_field(&html, "token").unwrap().as_str()),
            ("new_password", new_password),
            ("repeat_password", new_password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    rig.a_is_told_and_b_is_not().await;
}

#[tokio::test]
async fn each_client_of_the_session_is_told_once_and_a_later_session_is_not_ended() {
    let rig = rig().await;
    // Tokens for b too in the same session, and for a again (one grant
    // more): one token each.
    tokens_in_session(&rig.app, "rp-b").await;
    let again = tokens_in_session(&rig.app, "rp-a").await;
    assert_eq!(again["sid"], rig.id_claims["sid"], "the same session");
    // A later session of alice's, in another browser, with a tokens of a.
    let later_browser = another_browser(&rig.app).await;
    let later = tokens_in_browser(&rig.app, &later_browser, "rp-a").await;
    assert_ne!(later["sid"], rig.id_claims["sid"], "another session");
    let path = format!("/users/{}/sessions/{}", rig.alice(), rig.sid());
    let response = rig.app.api(Method::DELETE, &path, &rig.admin, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let to_b = rig.b.wait_for(1).await;
    let claims = validated_logout(&rig.app, &to_b[0], "rp-b").await;
    assert_eq!(claims["sid"], rig.id_claims["sid"]);
    let to_a = rig.a.wait_for(1).await;
    validated_logout(&rig.app, &to_a[0], "rp-a").await;
    assert_eq!(
        queued_for(&rig.app, &rig.a.url()).await,
        1,
        "one per client"
    );
    assert_eq!(
        queued_for(&rig.app, &rig.b.url()).await,
        1,
        "one per client"
    );
    // The later session is untouched: still signed in, and no token names it.
    let account = later_browser
        .get(rig.app.url("/account"))
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), StatusCode::OK, "still signed in");
    let claims = validated_logout(&rig.app, &rig.a.posts()[0], "rp-a").await;
    assert_eq!(claims["sid"], rig.id_claims["sid"], "only the ended one");
    let (status, sessions) = rig
        .app
        .api_json(
            Method::GET,
            &format!("/users/{}/sessions", rig.alice()),
            &rig.admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sessions}");
    let sids: Vec<&str> = sessions["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {sessions}"))
        .iter()
        .map(|s| s["sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, vec![later["sid"].as_str().unwrap()], "{sessions}");
}

#[tokio::test]
async fn a_password_change_on_the_account_page_tells_the_clients_of_the_other_sessions() {
    let rig = rig().await;
    let other = another_browser(&rig.app).await;
    let csrf = rig.app.csrf_of(&other, "/account").await;
    let new_password = "a completely new passphrase";
    let changed = other
        .post(rig.app.url("/account/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", ALICE_PASSWORD),
            ("new_password", new_password),
            ("repeat_password", new_password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    rig.a_is_told_and_b_is_not().await;
}

#[tokio::test]
async fn an_admin_resetting_the_password_tells_the_clients_of_every_session() {
    let rig = rig().await;
    let path = format!("/users/{}/reset-password", rig.alice());
    let (status, answer) = rig
        .app
        .api_json(Method::POST, &path, &rig.admin, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    rig.a_is_told_and_b_is_not().await;
}

#[tokio::test]
async fn a_code_issued_in_a_session_cannot_be_redeemed_after_it_ended() {
    let rig = rig().await;
    let request = rp_request("rp-a");
    let params = rig
        .app
        .authorize_through(&request, "alice", ALICE_PASSWORD)
        .await;
    let code = param(&params, "code").expect("a code");
    let path = format!("/users/{}/sessions/{}", rig.alice(), rig.sid());
    let response = rig.app.api(Method::DELETE, &path, &rig.admin, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    rig.a_is_told_and_b_is_not().await;

    let late = rig.app.redeem(&request, &code).await;
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    let body: Value = late.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let grants = count_with(
        &rig.app.database_url,
        "SELECT COUNT(*) AS n FROM grants WHERE sid = $1",
        &[&rig.sid()],
    )
    .await;
    assert_eq!(grants, 1, "no grant was made in the ended session");
}
