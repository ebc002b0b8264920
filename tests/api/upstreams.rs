//! Signing in through an upstream OpenID Connect provider: a second
//! Gatehouse (the same code on another port, with its own database) as the
//! upstream. Accounts made just in time or refused, linking by a verified
//! address, linking and unlinking on the account page, the hint on
//! `/authorize`, `amr` and `require_mfa`, and signing out at the upstream.

use crate::helpers::*;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::Value;

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// From the downstream's answer to the way back, on through consent to the
/// client; returns the client's tokens.
async fn finish_at_client(app: &TestApp, request: &AuthRequest, back: reqwest::Response) -> Value {
    assert_eq!(back.status(), StatusCode::SEE_OTHER, "signed in downstream");
    let mut current = app.follow(&back).await;
    if location(&current).contains("/consent") {
        let page = app.follow(&current).await;
        current = app
            .submit_form(page, "/consent", &[("decision", "allow")])
            .await;
    }
    let to = location(&current);
    assert!(
        to.starts_with(&request.redirect_uri),
        "ends at the client: {to}"
    );
    let code = param(&location_params(&current), "code").expect("a code");
    let answer = app.redeem(request, &code).await;
    assert_eq!(answer.status(), StatusCode::OK);
    answer.json().await.unwrap()
}

/// Signs in at the downstream's client through the upstream as `username`.
async fn tokens_through_upstream(f: &Federation, username: &str, password: &str) -> Value {
    let request = AuthRequest::confidential();
    let to_login = f.downstream.authorize(&request).await;
    let back = f.sign_in_upstream(&to_login, username, password).await;
    finish_at_client(&f.downstream, &request, back).await
}

#[tokio::test]
async fn a_first_sign_in_creates_a_local_account_with_its_own_subject() {
    let f = federation(|_| {}).await;
    let upstream_alice = f
        .upstream
        .provider
        .store
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    let local_alice = f
        .downstream
        .provider
        .store
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    let tokens = tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    let sub = claims["sub"].as_str().unwrap();
    assert_ne!(sub, upstream_alice.id, "the downstream's own subject");
    // The same name downstream is someone else's account: never linked
    // by name, so the new account gets another.
    assert_ne!(sub, local_alice.id);
    assert_eq!(claims["amr"], serde_json::json!(["fed"]));
    let created = f
        .downstream
        .provider
        .store
        .user_by_id(sub)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.username, "alice-2");
    assert_eq!(created.email.as_deref(), Some("alice@example.com"));
    // The upstream vouched for the address, but the local alice holds it
    // verified: the new account gets it unverified, so no client takes the
    // two for one person.
    assert!(!created.email_verified);
    assert_eq!(created.name.as_deref(), Some("Alice Example"));
    assert!(created.password_hash.is_empty(), "no password of its own");
    let links = f
        .downstream
        .provider
        .store
        .upstream_links_of(sub)
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].subject, upstream_alice.id);
}

#[tokio::test]
async fn the_next_sign_in_uses_the_link() {
    let f = federation(|_| {}).await;
    let first = tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let users = f.downstream.user_count().await;
    // A new browser: signed out of both.
    let mut f = f;
    let browser = new_browser();
    f.downstream.browser = browser.clone();
    f.upstream.browser = browser;
    let second = tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let sub = |t: &Value| claims_of(t["id_token"].as_str().unwrap())["sub"].clone();
    assert_eq!(sub(&first), sub(&second));
    assert_eq!(f.downstream.user_count().await, users, "no second account");
}

#[tokio::test]
async fn without_just_in_time_accounts_an_unlinked_person_is_refused() {
    let f = federation(|s| s.jit = Some(false)).await;
    let users = f.downstream.user_count().await;
    let to_login = f.downstream.authorize(&AuthRequest::confidential()).await;
    let back = f.sign_in_upstream(&to_login, "alice", ALICE_PASSWORD).await;
    assert_eq!(back.status(), StatusCode::FORBIDDEN);
    let page = back.text().await.unwrap();
    assert!(page.contains("not linked to an account here"), "{page}");
    assert!(
        page.contains("Back to sign in"),
        "a way back to sign in: {page}"
    );
    assert!(
        page.contains("login?request="),
        "to the same request: {page}"
    );
    assert_eq!(f.downstream.user_count().await, users, "nothing created");
    let events = f.downstream.audit_events("upstream.failure", None).await;
    assert_eq!(events.len(), 1);
    assert!(
        events[0].detail.contains("reason=no_account"),
        "{}",
        events[0].detail
    );
}

#[tokio::test]
async fn a_verified_address_links_to_the_local_account_only_when_allowed() {
    let f = federation(|s| s.link_by_verified_email = true).await;
    let local_alice = f
        .downstream
        .provider
        .store
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    let tokens = tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["sub"], local_alice.id.as_str());
    // Bob's address is not verified on either side: a new account.
    let mut f = f;
    let browser = new_browser();
    f.downstream.browser = browser.clone();
    f.upstream.browser = browser;
    let local_bob = f
        .downstream
        .provider
        .store
        .user_by_username("bob")
        .await
        .unwrap()
        .unwrap();
    let request = AuthRequest::confidential();
    let to_login = f.downstream.authorize(&request).await;
    let back = f.sign_in_upstream(&to_login, "bob", BOB_PASSWORD).await;
    let tokens = finish_at_client(&f.downstream, &request, back).await;
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_ne!(claims["sub"], local_bob.id.as_str());
}

#[tokio::test]
async fn the_hint_sends_the_browser_straight_to_the_upstream() {
    for name in ["idp_hint", "kc_idp_hint"] {
        let f = federation(|_| {}).await;
        let request = AuthRequest::confidential().with(name, "corp");
        let first = f.downstream.authorize(&request).await;
        assert_eq!(first.status(), StatusCode::FOUND);
        let to_upstream = f.downstream.follow(&first).await;
        assert_eq!(to_upstream.status(), StatusCode::SEE_OTHER, "{name}");
        let back = f
            .through_upstream(&to_upstream, "alice", ALICE_PASSWORD)
            .await;
        finish_at_client(&f.downstream, &request, back).await;
    }
    // A hint naming no upstream is no more than that: the sign-in page.
    let f = federation(|_| {}).await;
    let first = f
        .downstream
        .authorize(&AuthRequest::confidential().with("idp_hint", "nowhere"))
        .await;
    let page = f.downstream.follow(&first).await;
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_upstream_marked_as_doing_mfa_satisfies_require_mfa_and_others_do_not() {
    let request = AuthRequest {
        client_id: "secure".into(),
        redirect_uri: "http://127.0.0.1:9996/cb".into(),
        scope: "openid".into(),
        ..AuthRequest::confidential()
    };
    // Not marked: the fresh account must set up two-step verification here.
    let f = federation(|_| {}).await;
    let to_login = f.downstream.authorize(&request).await;
    let back = f.sign_in_upstream(&to_login, "alice", ALICE_PASSWORD).await;
    let next = f.downstream.follow(&back).await;
    assert!(
        location(&next).contains("/account/mfa/enrol"),
        "{}",
        location(&next)
    );
    // Marked: the upstream's sign-in counts.
    let f = federation(|s| s.mfa = true).await;
    let to_login = f.downstream.authorize(&request).await;
    let back = f.sign_in_upstream(&to_login, "alice", ALICE_PASSWORD).await;
    let tokens = finish_at_client(&f.downstream, &request, back).await;
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], serde_json::json!(["fed", "mfa"]));
}

#[tokio::test]
async fn a_user_with_a_second_factor_here_is_asked_for_it_after_the_upstream() {
    let f = federation(|s| s.link_by_verified_email = true).await;
    // Bob has TOTP downstream; verify his address on both sides so the
    // upstream sign-in lands on his account.
    for app in [&f.upstream, &f.downstream] {
        let bob = app
            .provider
            .store
            .user_by_username("bob")
            .await
            .unwrap()
            .unwrap();
        let update = gatehouse::model::NewUser {
            username: bob.username.clone(),
            email: bob.email.clone(),
            email_verified: true,
            name: bob.name.clone(),
            ..Default::default()
        };
        app.provider
            .store
            .update_user(&bob.id, &update, 1)
            .await
            .unwrap();
    }
    let request = AuthRequest::confidential();
    let to_login = f.downstream.authorize(&request).await;
    let back = f.sign_in_upstream(&to_login, "bob", BOB_PASSWORD).await;
    assert!(
        location(&back).contains("/login/totp"),
        "{}",
        location(&back)
    );
    let page = f.downstream.follow(&back).await;
    let code = f.downstream.totp_code();
    let answer = f
        .downstream
        .submit_form(page, "/login/totp", &[("code", &code)])
        .await;
    let tokens = finish_at_client(&f.downstream, &request, answer).await;
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], serde_json::json!(["fed", "otp"]));
}

#[tokio::test]
async fn linking_on_the_account_page_then_signing_in_through_the_link() {
    let f = federation(|_| {}).await;
    let d = &f.downstream;
    let local_alice = d
        .provider
        .store
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    // Signed in here with her password, Alice links the upstream account
    // "bob" (as the account page's Link button does).
    let signed_in = d
        .post_password(&d.browser, "/login", ("alice", ALICE_PASSWORD), None)
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let to_upstream = d
        .account_form("/account/upstreams/link", &[("upstream", "corp")])
        .await;
    assert_eq!(to_upstream.status(), StatusCode::SEE_OTHER);
    let back = f.through_upstream(&to_upstream, "bob", BOB_PASSWORD).await;
    let status = back.status();
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{}",
        back.text().await.unwrap()
    );
    assert!(location(&back).ends_with("/account?done=upstream-linked#upstreams"));
    let page = d.follow(&back).await.text().await.unwrap();
    assert!(page.contains("Linked. You can now sign in with that provider too."));
    assert!(page.contains("as bob@example.com"), "{page}");
    // A new browser signing in through the upstream as bob is Alice here
    // (a new TOTP time step upstream: a code answers once).
    f.upstream.clock.advance(30);
    let mut f = f;
    let browser = new_browser();
    f.downstream.browser = browser.clone();
    f.upstream.browser = browser;
    let tokens = tokens_through_upstream(&f, "bob", BOB_PASSWORD).await;
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["sub"], local_alice.id.as_str());
    // She has a password too, so she may unlink it.
    let d = &f.downstream;
    let unlinked = d
        .account_form("/account/upstreams/unlink", &[("upstream", "corp")])
        .await;
    assert_eq!(unlinked.status(), StatusCode::SEE_OTHER);
    assert!(location(&unlinked).contains("done=upstream-unlinked"));
    assert!(d
        .provider
        .store
        .upstream_links_of(&local_alice.id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_last_way_to_sign_in_cannot_be_unlinked() {
    let f = federation(|_| {}).await;
    let tokens = tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let sub = id_token_sub(&tokens);
    let d = &f.downstream;
    let page = d.get("/account").await.text().await.unwrap();
    assert!(page.contains("Your only way to sign in"), "{page}");
    let csrf = hidden_field(&page, "csrf").unwrap();
    let refused = d
        .browser
        .post(d.url("/account/upstreams/unlink"))
        .form(&[("csrf", csrf.as_str()), ("upstream", "corp")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let page = refused.text().await.unwrap();
    assert!(page.contains("the only way you can sign in"), "{page}");
    assert_eq!(
        d.provider
            .store
            .upstream_links_of(&sub)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_way_back_that_is_not_this_browsers_is_refused_and_changes_nothing() {
    let f = federation(|_| {}).await;
    let users = f.downstream.user_count().await;
    let to_login = f.downstream.authorize(&AuthRequest::confidential()).await;
    let to_upstream = f.downstream.press_upstream(&to_login, "corp").await;
    let at_upstream = f.upstream.visit(&location(&to_upstream)).await;
    let signed_in = f
        .upstream
        .sign_in(&at_upstream, "alice", ALICE_PASSWORD)
        .await;
    let back = f.upstream.follow(&signed_in).await;
    let callback = location(&back);
    // Another browser with the same answer: not the one that left.
    let stranger = new_browser();
    let refused = stranger.get(&callback).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("does not match a sign-in started in this browser"));
    // The state answered once: the right browser now finds it gone too.
    let again = f.downstream.visit(&callback).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    // A made-up state.
    let made_up = f
        .downstream
        .get("/upstream/corp/callback?code=x&state=made-up")
        .await;
    assert_eq!(made_up.status(), StatusCode::BAD_REQUEST);
    assert_eq!(f.downstream.user_count().await, users, "nothing created");
}

#[tokio::test]
async fn an_error_answer_from_the_upstream_is_a_page_not_a_sign_in() {
    let f = federation(|_| {}).await;
    let to_login = f.downstream.authorize(&AuthRequest::confidential()).await;
    let to_upstream = f.downstream.press_upstream(&to_login, "corp").await;
    let sent = url::Url::parse(&location(&to_upstream)).unwrap();
    let state = sent
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    let denied = f
        .downstream
        .visit(&format!(
            "{}/upstream/corp/callback?error=access_denied&state={state}&iss={}",
            f.downstream.address, f.upstream.address
        ))
        .await;
    assert_eq!(denied.status(), StatusCode::BAD_REQUEST);
    assert!(denied
        .text()
        .await
        .unwrap()
        .contains("the request was declined"));
}

#[tokio::test]
async fn signing_out_here_signs_out_at_the_upstream_when_asked_to() {
    let f = federation(|s| s.sign_out_upstream = true).await;
    let tokens = tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let bye = f
        .downstream
        .browser
        .get(f.downstream.url("/end_session"))
        .query(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "http://127.0.0.1:9999/"),
            ("state", "bye"),
        ])
        .send()
        .await
        .unwrap();
    let to = location(&bye);
    assert!(
        to.starts_with(&format!("{}/end_session?", f.upstream.address)),
        "{to}"
    );
    assert!(to.contains("id_token_hint="), "{to}");
    let at_upstream = f.upstream.visit(&to).await;
    let back = location(&at_upstream);
    assert!(
        back.starts_with(&format!(
            "{}/upstream/corp/signed-out?",
            f.downstream.address
        )),
        "{back}"
    );
    let onward = f.downstream.visit(&back).await;
    assert_eq!(location(&onward), "http://127.0.0.1:9999/?state=bye");
    // Signed out at the upstream too: its sign-in page again.
    let silent = f
        .upstream
        .visit(&format!("{}/account", f.upstream.address))
        .await;
    assert!(
        location(&silent).contains("/login"),
        "{}",
        location(&silent)
    );
}

#[tokio::test]
async fn without_the_setting_signing_out_stays_here() {
    let f = federation(|_| {}).await;
    let tokens = tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let bye = f
        .downstream
        .browser
        .get(f.downstream.url("/end_session"))
        .query(&[
            ("id_token_hint", tokens["id_token"].as_str().unwrap()),
            ("post_logout_redirect_uri", "http://127.0.0.1:9999/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&bye), "http://127.0.0.1:9999/");
    let still = f
        .upstream
        .visit(&format!("{}/account", f.upstream.address))
        .await;
    assert_eq!(still.status(), StatusCode::OK, "still signed in upstream");
}

#[tokio::test]
async fn linking_needs_a_recent_sign_in() {
    let f = federation(|_| {}).await;
    let d = &f.downstream;
    let signed_in = d
        .post_password(&d.browser, "/login", ("alice", ALICE_PASSWORD), None)
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    d.clock.advance(601);
    let page = d.get("/account").await.text().await.unwrap();
    assert!(page.contains("Sign in again to link"), "{page}");
    let csrf = hidden_field(&page, "csrf").unwrap();
    let refused = d
        .browser
        .post(d.url("/account/upstreams/link"))
        .form(&[("csrf", csrf.as_str()), ("upstream", "corp")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let page = refused.text().await.unwrap();
    assert!(page.contains("sign in again first"), "{page}");
    assert!(d
        .provider
        .store
        .upstream_links_of(&d.user_id("alice").await)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn an_account_made_through_an_upstream_sets_its_first_password_then_may_unlink() {
    let f = federation(|_| {}).await;
    let tokens = tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let sub = id_token_sub(&tokens);
    let d = &f.downstream;
    let page = d.get("/account").await.text().await.unwrap();
    assert!(page.contains("Your account has no password"), "{page}");
    assert!(
        !page.contains("current_password"),
        "no current password to give"
    );
    let new_password = "a first password for alice-2";
    let set = |csrf: String| {
        d.browser
            .post(d.url("/account/password"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("new_password", new_password),
                ("repeat_password", new_password),
            ])
            .send()
    };
    // From a sign-in more than ten minutes old: sign in again first.
    d.clock.advance(601);
    f.upstream.clock.advance(601);
    let stale = set(hidden_field(&page, "csrf").unwrap()).await.unwrap();
    assert_eq!(stale.status(), StatusCode::BAD_REQUEST);
    assert!(stale.text().await.unwrap().contains("sign in again first"));
    assert!(d
        .provider
        .store
        .user_by_id(&sub)
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .is_empty());
    // Signed in again through the upstream (a new time at the upstream: its
    // session is older now too, but still live), the password is set.
    let to_login = d
        .authorize(&AuthRequest::confidential().with("prompt", "login"))
        .await;
    let back = f.sign_in_upstream(&to_login, "alice", ALICE_PASSWORD).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let csrf = d.csrf_of(&d.browser, "/account").await;
    let done = set(csrf).await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let fresh = new_browser();
    let signed_in = d
        .post_password(&fresh, "/login", ("alice-2", new_password), None)
        .await;
    assert_eq!(
        signed_in.status(),
        StatusCode::SEE_OTHER,
        "the new password signs in"
    );
    let page = d.get("/account").await.text().await.unwrap();
    assert!(
        page.contains("Unlink Corp SSO"),
        "no longer the only way in: {page}"
    );
}

#[tokio::test]
async fn the_last_passkey_of_an_account_without_a_password_stays() {
    let f = federation(|_| {}).await;
    let tokens = tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let sub = id_token_sub(&tokens);
    let d = &f.downstream;
    let mut key = d.authenticator();
    d.register_passkey(&d.browser, &mut key, "Laptop").await;
    // The passkey is a way in: the upstream may be unlinked now.
    let unlinked = d
        .account_form("/account/upstreams/unlink", &[("upstream", "corp")])
        .await;
    assert_eq!(unlinked.status(), StatusCode::SEE_OTHER);
    // But the passkey, now the only way in, stays.
    let passkey = d.passkeys_of("alice-2").await.remove(0);
    let refused = d
        .account_form("/account/passkeys/remove", &[("id", passkey.id.as_str())])
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("the only way you can sign in"));
    assert_eq!(d.passkeys_of("alice-2").await.len(), 1);
    assert!(d
        .provider
        .store
        .upstream_links_of(&sub)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn an_admin_account_is_never_linked_by_its_address() {
    let f = federation(|s| s.link_by_verified_email = true).await;
    let d = &f.downstream;
    let alice = d
        .provider
        .store
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    let admin = gatehouse::model::NewUser {
        username: alice.username.clone(),
        email: alice.email.clone(),
        email_verified: true,
        name: alice.name.clone(),
        is_admin: true,
        ..Default::default()
    };
    d.provider
        .store
        .update_user(&alice.id, &admin, 1)
        .await
        .unwrap();
    let tokens = tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_ne!(
        claims["sub"],
        alice.id.as_str(),
        "a new account, not the admin"
    );
    assert!(d
        .provider
        .store
        .upstream_links_of(&alice.id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn an_upstream_with_linked_accounts_keeps_its_issuer() {
    let f = federation(|_| {}).await;
    let d = &f.downstream;
    let token = d.admin_token().await;
    let change = |issuer: &str| {
        d.api
            .put(d.url("/admin/api/v1/upstreams/corp"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "id": "corp", "kind": "oidc", "name": "Corp SSO",
                "issuer": issuer, "client_id": "downstream",
            }))
            .send()
    };
    // Nobody linked yet: it may point elsewhere (and back).
    assert_eq!(
        change("https://elsewhere.example.com")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        change(&f.upstream.address).await.unwrap().status(),
        StatusCode::OK
    );
    tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let refused = change("https://elsewhere.example.com").await.unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused.text().await.unwrap().contains("linked account"));
    let stored = d.provider.store.upstream("corp").await.unwrap().unwrap();
    assert_eq!(stored.issuer.as_deref(), Some(f.upstream.address.as_str()));
}

#[tokio::test]
async fn a_link_to_a_disabled_upstream_is_no_way_in_on_the_account_page() {
    let f = federation(|_| {}).await;
    let tokens = tokens_through_upstream(&f, "alice", ALICE_PASSWORD).await;
    let sub = id_token_sub(&tokens);
    let d = &f.downstream;
    // A second link, to an upstream that is then turned off.
    let mut off = d.provider.store.upstream("corp").await.unwrap().unwrap();
    off.id = "old".into();
    off.enabled = false;
    d.provider.store.insert_upstream(&off).await.unwrap();
    let link = gatehouse::model::UpstreamLink {
        upstream_id: "old".into(),
        subject: "old-subject".into(),
        user_id: sub.clone(),
        email: None,
        created_at: 1,
        last_used_at: None,
    };
    assert!(d
        .provider
        .store
        .insert_upstream_link(&link, None)
        .await
        .unwrap());
    // The enabled one is the only way in: refused.
    let refused = d
        .account_form("/account/upstreams/unlink", &[("upstream", "corp")])
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // The disabled one may go.
    let done = d
        .account_form("/account/upstreams/unlink", &[("upstream", "old")])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let left = d.provider.store.upstream_links_of(&sub).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].upstream_id, "corp");
}
