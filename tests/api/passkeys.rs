//! Passkeys (W3C Web Authentication Level 3) over HTTP, with a software
//! authenticator: registering one on the account page, signing in with it
//! without a username or as the second step after a password, the `amr`
//! each way gives, and every refusal leaving nothing behind.

use crate::helpers::*;
use reqwest::cookie::Jar;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid};
use webauthn_rs::WebauthnBuilder;

/// The software authenticator's answers verify with webauthn-rs itself, on
/// its own (no server): registration, a sign-in without a username, one
/// with the credential listed, and a copy whose counter fell behind.
#[test]
fn the_test_authenticator_answers_as_webauthn_expects() {
    let origin = Url::parse("http://localhost:8080").unwrap();
    let rp = WebauthnBuilder::new("localhost", &origin)
        .unwrap()
        .rp_name("Test")
        .build()
        .unwrap();
    let handle = Uuid::new_v4();
    let (options, state) = rp
        .start_passkey_registration(handle, "alice", "Alice", None)
        .unwrap();
    let mut key = Authenticator::new("http://localhost:8080");
    let answer = key.register(&serde_json::to_value(&options).unwrap());
    let answer: RegisterPublicKeyCredential = serde_json::from_value(answer).unwrap();
    let mut passkey = rp.finish_passkey_registration(&answer, &state).unwrap();
    assert_eq!(b64url(passkey.cred_id().as_ref()), key.credential_id());
    assert_eq!(key.user_handle(), Some(b64url(handle.as_bytes())));

    let (options, state) = rp.start_discoverable_authentication().unwrap();
    let answer = key.sign(&serde_json::to_value(&options).unwrap());
    let answer: PublicKeyCredential = serde_json::from_value(answer).unwrap();
    let (named, _) = rp.identify_discoverable_authentication(&answer).unwrap();
    assert_eq!(named, handle);
    let result = rp
        .finish_discoverable_authentication_v2(&answer, state, &passkey)
        .unwrap();
    assert!(result.user_verified());
    assert!(!result.backup_eligible());
    assert_eq!(result.counter(), 1);
    passkey.update_credential(&result);

    let (options, state) = rp
        .start_passkey_authentication(std::slice::from_ref(&passkey))
        .unwrap();
    let options = serde_json::to_value(&options).unwrap();
    let answer: PublicKeyCredential = serde_json::from_value(key.sign(&options)).unwrap();
    let result = rp.finish_passkey_authentication(&answer, &state).unwrap();
    assert_eq!(result.counter(), 2);
    assert_eq!(key.counter(), 2);
    passkey.update_credential(&result);

    // A copy that fell behind: its next answer (2) does not grow.
    let mut copy = key.copy();
    copy.set_counter(1);
    let (options, state) = rp
        .start_passkey_authentication(std::slice::from_ref(&passkey))
        .unwrap();
    let options = serde_json::to_value(&options).unwrap();
    let answer: PublicKeyCredential = serde_json::from_value(copy.sign(&options)).unwrap();
    let refused = rp
        .finish_passkey_authentication(&answer, &state)
        .unwrap_err();
    assert!(
        matches!(
            refused,
            webauthn_rs::prelude::WebauthnError::CredentialPossibleCompromise
        ),
        "{refused:?}"
    );

    // A synced passkey says so (flag BE).
    let (options, state) = rp
        .start_passkey_registration(Uuid::new_v4(), "bob", "Bob", None)
        .unwrap();
    let mut synced = Authenticator::synced("http://localhost:8080");
    let answer = synced.register(&serde_json::to_value(&options).unwrap());
    let answer: RegisterPublicKeyCredential = serde_json::from_value(answer).unwrap();
    let passkey = rp.finish_passkey_registration(&answer, &state).unwrap();
    let (options, state) = rp
        .start_passkey_authentication(std::slice::from_ref(&passkey))
        .unwrap();
    let answer = synced.sign(&serde_json::to_value(&options).unwrap());
    let answer: PublicKeyCredential = serde_json::from_value(answer).unwrap();
    let result = rp.finish_passkey_authentication(&answer, &state).unwrap();
    assert!(result.backup_eligible());
}

// The sentences shown, as the person reads them.
const NOT_READ: &str = "Your browser's passkey answer could not be read. Please try again.";
const EXPIRED: &str = "That passkey request expired or was used already. Please try again.";
const ANOTHER_SITE: &str = "That passkey answer was made for another website. Open this page at its usual address and try again.";
const UNKNOWN: &str =
    "That passkey isn't registered here. Sign in another way, then add it on your account page.";
const A_COPY: &str =
    "This passkey can't be used: it looks like a copy of another. Use another way to sign in.";
const REGISTERED_ALREADY: &str = "That passkey is registered already.";
const NO_SUCH_PASSKEY: &str = "There is no such passkey on this account.";
const SIGN_IN_AGAIN: &str =
    "To add or remove a passkey, sign in again first: your last sign-in was more than 10 minutes ago.";

/// The password form, which only the sign-in page has.
const SIGN_IN_FORM: &str = r#"<form method="post" action="/login">"#;
/// The two-step page's heading.
const TWO_STEP: &str = "<h1>Two-step verification</h1>";

/// `sentence` as a page shows it: HTML-escaped like the templates escape.
fn escaped(sentence: &str) -> String {
    sentence
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2F;")
}

/// Checks that `response` is a page with `status` that shows `sentence`.
async fn assert_page(response: Response, status: StatusCode, sentence: &str) -> String {
    let got = response.status();
    let html = response.text().await.unwrap();
    assert_eq!(got, status, "{html}");
    assert!(
        html.contains(&escaped(sentence)),
        "the page does not say {sentence:?}:\n{html}"
    );
    html
}

/// The trusted client (no consent screen) asking for an ID token.
fn trusted() -> AuthRequest {
    AuthRequest {
        client_id: NO_CONSENT.into(),
        redirect_uri: "http://127.0.0.1:9998/cb".into(),
        scope: "openid profile".into(),
        ..AuthRequest::confidential()
    }
}

/// The client that requires a second factor.
fn secure() -> AuthRequest {
    AuthRequest {
        client_id: "secure".into(),
        redirect_uri: "http://127.0.0.1:9996/cb".into(),
        scope: "openid".into(),
        ..AuthRequest::confidential()
    }
}

impl TestApp {
    /// Signs out the app's browser.
    async fn sign_out(&self) {
        let page = self.get("/end_session").await;
        let out = self
            .submit_form(page, "/end_session/confirm", &[("decision", "logout")])
            .await;
        assert_eq!(out.status(), StatusCode::OK, "signed out");
        assert!(!self.is_signed_in(&self.browser).await);
    }

    /// Whether `browser` has a session: the account page opens.
    async fn is_signed_in(&self, browser: &Client) -> bool {
        let account = browser.get(self.url("/account")).send().await.unwrap();
        match account.status() {
            StatusCode::OK => true,
            StatusCode::FOUND => false,
            other => panic!("GET /account answered {other}"),
        }
    }

    /// Alice signs in with her password at the app's browser, adds `key`
    /// as "Laptop", and signs out.
    async fn alice_adds(&self, key: &mut Authenticator) {
        self.sign_in_to_account("alice", ALICE_PASSWORD).await;
        self.register_passkey(&self.browser, key, "Laptop").await;
        self.sign_out().await;
    }

    /// Starts `request` at the app's browser: the id of the pending request
    /// the sign-in page carries.
    async fn pending_request(&self, request: &AuthRequest) -> String {
        let first = self.authorize(request).await;
        assert_eq!(first.status(), StatusCode::FOUND);
        assert!(location(&first).contains("/login?"), "{}", location(&first));
        param(&location_params(&first), "request").expect("a pending request")
    }

    /// Finishes `request` after the sign-in answered with `signed_in` (a
    /// 303 on to the request): the claims of the ID token it ends in.
    async fn id_token_after(&self, request: &AuthRequest, signed_in: Response) -> Value {
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "signed in");
        let to = location(&signed_in);
        assert!(to.contains("/authorize/resume?request="), "{to}");
        let resumed = self.follow(&signed_in).await;
        assert_eq!(resumed.status(), StatusCode::FOUND);
        let to = location(&resumed);
        assert!(
            to.starts_with(&request.redirect_uri),
            "ends at the client: {to}"
        );
        let code = param(&location_params(&resumed), "code").expect("a code");
        let tokens = self.redeem(request, &code).await;
        let status = tokens.status();
        let tokens: Value = tokens.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{tokens}");
        verify_with_jwks(
            self,
            tokens["id_token"].as_str().unwrap(),
            &request.client_id,
        )
        .await
    }

    /// Runs `request` at the app's browser, signing in with `key` alone:
    /// the ID token's claims.
    async fn passkey_flow(&self, request: &AuthRequest, key: &mut Authenticator) -> Value {
        let id = self.pending_request(request).await;
        let signed_in = self
            .sign_in_with_passkey(&self.browser, key, &[("request", &id)])
            .await;
        let to = location(&signed_in);
        assert!(
            to.ends_with(&format!("/authorize/resume?request={id}")),
            "{to}"
        );
        self.id_token_after(request, signed_in).await
    }

    /// Gives `username`'s password for the pending request `id` at the
    /// app's browser: the answer, a 303 to the second step.
    async fn password_for(&self, id: &str, username: &str, password: &str) -> Response {
        let page = self.get(&format!("/login?request={id}")).await;
        let answer = self
            .submit_form(
                page,
                "/login",
                &[("username", username), ("password", password)],
            )
            .await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "password accepted");
        assert_eq!(location(&answer), format!("/login/totp?request={id}"));
        assert!(!self.is_signed_in(&self.browser).await);
        answer
    }

    /// The second step with `key` at the app's browser, for the pending
    /// request `id`: the server's answer.
    async fn second_step_with(&self, key: &mut Authenticator, id: &str) -> Response {
        let options = self.request_options(&self.browser, "second_factor").await;
        assert_eq!(options.status, StatusCode::OK, "{}", options.body);
        let answer = key.sign(&options.body);
        self.post_passkey_answer(
            &self.browser,
            "/login/passkey/second-factor",
            &answer.to_string(),
            &[("request", id)],
        )
        .await
    }
}

/// The `amr` claim of ID token claims.
fn amr(claims: &Value) -> Value {
    claims["amr"].clone()
}

#[tokio::test]
async fn a_passkey_added_on_the_account_page_signs_in_without_a_username() {
    let app = spawn_app_on_localhost().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;

    let options = app.creation_options(&app.browser).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    assert!(
        options.cookie(CEREMONY_COOKIE).is_some(),
        "a ceremony cookie"
    );
    let public_key = &options.body["publicKey"];
    assert_eq!(public_key["rp"]["id"], "localhost");
    assert_eq!(public_key["user"]["name"], "alice");
    assert_eq!(public_key["user"]["displayName"], "Alice Example");
    let handle = from_b64url(public_key["user"]["id"].as_str().unwrap());
    assert_eq!(handle.len(), 16, "a random user handle, not the username");
    let selection = &public_key["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "preferred");
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(public_key["attestation"], "none");

    let mut key = app.authenticator();
    let answer = key.register(&options.body);
    let added = app
        .post_new_passkey(&app.browser, "Laptop", &answer.to_string())
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&added), "/account?done=passkey-added#passkeys");
    let stored = app.passkeys_of("alice").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "Laptop");
    assert_eq!(stored[0].last_used_at, None);
    let added = app.audit_events("passkey.added", Some("alice")).await;
    assert_eq!(added.len(), 1);
    assert_eq!(
        added[0].detail,
        format!("passkey={} name=Laptop", stored[0].id)
    );
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("Laptop"), "{page}");
    app.sign_out().await;

    let options = app.request_options(&app.browser, "sign_in").await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    assert!(
        options.cookie(CEREMONY_COOKIE).is_some(),
        "a ceremony cookie"
    );
    assert_eq!(options.body["publicKey"]["rpId"], "localhost");
    assert_eq!(options.body["publicKey"]["userVerification"], "required");

    let claims = app.passkey_flow(&trusted(), &mut key).await;
    assert_eq!(amr(&claims), json!(["hwk", "pin", "mfa"]));
    let success = app.audit_events("sign_in.success", Some("alice")).await;
    assert_eq!(success[0].detail, "factor=passkey amr=hwk pin mfa");
    assert!(app.is_signed_in(&app.browser).await);
    let used = app.passkeys_of("alice").await;
    assert!(used[0].last_used_at.is_some(), "the use is recorded");
    assert_eq!(app.only_credential_of("alice").await["cred"]["counter"], 1);
}

#[tokio::test]
async fn a_synced_passkey_signs_in_as_a_software_key() {
    let app = spawn_app_on_localhost().await;
    let mut key = Authenticator::synced(&app.address);
    app.alice_adds(&mut key).await;
    let claims = app.passkey_flow(&trusted(), &mut key).await;
    assert_eq!(amr(&claims), json!(["swk", "pin", "mfa"]));
}

#[tokio::test]
async fn a_passkey_is_the_second_step_after_the_password_instead_of_a_code() {
    let app = spawn_app_on_localhost().await;
    app.sign_in_to_account("bob", BOB_PASSWORD).await;
    let mut key = app.authenticator();
    app.register_passkey(&app.browser, &mut key, "Phone").await;
    app.sign_out().await;

    let request = trusted();
    let id = app.pending_request(&request).await;
    app.password_for(&id, "bob", BOB_PASSWORD).await;
    let options = app.request_options(&app.browser, "second_factor").await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let allowed: Vec<&str> = options.body["publicKey"]["allowCredentials"]
        .as_array()
        .expect("the user's passkeys listed")
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, [key.credential_id()]);
    let answer = key.sign(&options.body);
    let confirmed = app
        .post_passkey_answer(
            &app.browser,
            "/login/passkey/second-factor",
            &answer.to_string(),
            &[("request", &id)],
        )
        .await;
    let claims = app.id_token_after(&request, confirmed).await;
    assert_eq!(amr(&claims), json!(["pwd", "hwk", "pin", "mfa"]));
    let mfa = app.audit_events("mfa.success", Some("bob")).await;
    assert_eq!(mfa[0].detail, "factor=passkey");
}

#[tokio::test]
async fn a_user_whose_only_second_factor_is_a_passkey_is_asked_for_it() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;

    let request = trusted();
    let id = app.pending_request(&request).await;
    let second_step = app.password_for(&id, "alice", ALICE_PASSWORD).await;
    let page = app.follow(&second_step).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains(TWO_STEP), "{page}");
    assert!(
        page.contains("<p>Confirm it's you with one of your passkeys.</p>"),
        "{page}"
    );
    assert!(!page.contains(r#"name="code""#), "no code to type: {page}");
    let confirmed = app.second_step_with(&mut key, &id).await;
    let claims = app.id_token_after(&request, confirmed).await;
    assert_eq!(amr(&claims), json!(["pwd", "hwk", "pin", "mfa"]));
}

#[tokio::test]
async fn a_client_requiring_mfa_is_satisfied_by_a_passkey_alone() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;
    let claims = app.passkey_flow(&secure(), &mut key).await;
    assert_eq!(amr(&claims), json!(["hwk", "pin", "mfa"]));
}

/// Alice, signed in, asks to add a passkey; `answer` makes what the browser
/// posts from the creation options. It must be refused with `sentence`,
/// audited with `reason`, and leave no passkey.
async fn refused_registration(
    answer: impl FnOnce(&TestApp, &Value) -> String,
    sentence: &str,
    reason: &str,
) {
    let app = spawn_app_on_localhost().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let options = app.creation_options(&app.browser).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let credential = answer(&app, &options.body);
    let refused = app
        .post_new_passkey(&app.browser, "Laptop", &credential)
        .await;
    assert_page(refused, StatusCode::BAD_REQUEST, sentence).await;
    assert_eq!(app.passkeys_of("alice").await, []);
    let events = app.audit_events("passkey.refused", Some("alice")).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].detail,
        format!("ceremony=register reason={reason}")
    );
    assert_eq!(app.audit_events("passkey.added", None).await.len(), 0);
}

#[tokio::test]
async fn a_registration_answer_that_is_not_json_is_refused() {
    refused_registration(|_, _| "{\"id\": ".into(), NOT_READ, "malformed").await;
}

#[tokio::test]
async fn a_registration_with_broken_cbor_is_refused() {
    refused_registration(
        |app, options| {
            let mut answer = app.authenticator().register(options);
            // A map of three entries that ends after one byte of its first key.
            answer["response"]["attestationObject"] = b64url(&[0xa3, 0x63, b'f']).into();
            answer.to_string()
        },
        NOT_READ,
        "malformed",
    )
    .await;
}

#[tokio::test]
async fn a_registration_made_on_another_origin_is_refused() {
    refused_registration(
        |app, options| {
            let mut key = app.authenticator();
            key.origin = "http://localhost.example.com".into();
            key.register(options).to_string()
        },
        ANOTHER_SITE,
        "wrong_origin",
    )
    .await;
}

#[tokio::test]
async fn a_registration_for_another_rp_id_is_refused() {
    refused_registration(
        |app, options| {
            let mut key = app.authenticator();
            key.rp_id = "example.com".into();
            key.register(options).to_string()
        },
        ANOTHER_SITE,
        "wrong_origin",
    )
    .await;
}

/// A browser whose cookies a test may set, to send a ceremony cookie again.
fn browser_with_jar() -> (Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let browser = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    (browser, jar)
}

#[tokio::test]
async fn a_registration_answer_posted_twice_adds_one_passkey() {
    let app = spawn_app_on_localhost().await;
    let (browser, jar) = browser_with_jar();
    let signed_in = app
        .post_password(&browser, "/login", ("alice", ALICE_PASSWORD), None)
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let options = app.creation_options(&browser).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let ceremony = options.cookie(CEREMONY_COOKIE).unwrap().to_string();
    let answer = app.authenticator().register(&options.body).to_string();
    let added = app.post_new_passkey(&browser, "Laptop", &answer).await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);

    // The same ceremony cookie and the same answer again.
    jar.add_cookie_str(
        &format!("{CEREMONY_COOKIE}={ceremony}; Path=/"),
        &app.address.parse().unwrap(),
    );
    let again = app.post_new_passkey(&browser, "Laptop", &answer).await;
    assert_page(again, StatusCode::BAD_REQUEST, EXPIRED).await;
    assert_eq!(app.passkeys_of("alice").await.len(), 1);
}

#[tokio::test]
async fn a_registration_answered_too_late_is_refused() {
    let app = spawn_app_on_localhost().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let options = app.creation_options(&app.browser).await;
    assert_eq!(options.status, StatusCode::OK);
    let answer = app.authenticator().register(&options.body).to_string();
    app.clock.advance(301);
    let late = app.post_new_passkey(&app.browser, "Laptop", &answer).await;
    assert_page(late, StatusCode::BAD_REQUEST, EXPIRED).await;
    assert_eq!(app.passkeys_of("alice").await, []);
}

#[tokio::test]
async fn adding_a_passkey_needs_a_recent_sign_in() {
    let app = spawn_app_on_localhost().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    app.clock.advance(601);
    assert!(app.is_signed_in(&app.browser).await);
    let options = app.creation_options(&app.browser).await;
    assert_eq!(options.status, StatusCode::FORBIDDEN, "{}", options.body);
    assert_eq!(options.body["error"], "stale_sign_in");
    assert_eq!(options.body["error_description"], SIGN_IN_AGAIN);
    assert_eq!(options.cookie(CEREMONY_COOKIE), None);
    assert_eq!(app.passkeys_of("alice").await, []);
}

#[tokio::test]
async fn the_options_need_the_forms_csrf_token() {
    let app = spawn_app_on_localhost().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    for (path, form) in [
        ("/account/passkeys/options", vec![("csrf", "forged")]),
        (
            "/login/passkey/options",
            vec![("csrf", "forged"), ("purpose", "sign_in")],
        ),
    ] {
        let refused = app.post_for_json(&app.browser, path, &form).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            refused.body
        );
        assert_eq!(refused.body["error"], "invalid_csrf", "{path}");
        assert_eq!(
            refused.body["error_description"],
            "This page had expired. Reload it and try again."
        );
        assert_eq!(refused.cookie(CEREMONY_COOKIE), None, "{path}");
    }
}

#[tokio::test]
async fn a_passkey_is_registered_once_across_accounts() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;

    // Alice again (signed in with it): the options exclude it, and the
    // answer is refused.
    let signed_in = app.sign_in_with_passkey(&app.browser, &mut key, &[]).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let options = app.creation_options(&app.browser).await;
    let excluded: Vec<&str> = options.body["publicKey"]["excludeCredentials"]
        .as_array()
        .expect("excludeCredentials")
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(excluded, [key.credential_id()]);
    let answer = key.register(&options.body).to_string();
    let refused = app.post_new_passkey(&app.browser, "Again", &answer).await;
    assert_page(refused, StatusCode::BAD_REQUEST, REGISTERED_ALREADY).await;
    assert_eq!(app.passkeys_of("alice").await.len(), 1);
    let events = app.audit_events("passkey.refused", Some("alice")).await;
    assert_eq!(events[0].detail, "ceremony=register reason=duplicate");
    app.sign_out().await;

    // Bob, with the same authenticator's credential.
    app.sign_in_to_account("bob", BOB_PASSWORD).await;
    let options = app.creation_options(&app.browser).await;
    assert_eq!(options.status, StatusCode::OK);
    let answer = key.register(&options.body).to_string();
    let refused = app.post_new_passkey(&app.browser, "Stolen", &answer).await;
    assert_page(refused, StatusCode::BAD_REQUEST, REGISTERED_ALREADY).await;
    assert_eq!(app.passkeys_of("bob").await, []);
    assert_eq!(app.passkeys_of("alice").await.len(), 1);
    let events = app.audit_events("passkey.refused", Some("bob")).await;
    assert_eq!(events[0].detail, "ceremony=register reason=duplicate");
}

/// Alice has added a passkey and signed out; a browser asks to sign in and
/// `answer` makes what it posts from the options. It must be refused with
/// `sentence` (401), audited as a failed sign-in with `reason`, and leave
/// the browser signed out and the passkey unused.
async fn refused_sign_in(
    answer: impl FnOnce(&TestApp, &mut Authenticator, &Value) -> String,
    sentence: &str,
    reason: &str,
) -> TestApp {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;
    let options = app.request_options(&app.browser, "sign_in").await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let credential = answer(&app, &mut key, &options.body);
    let refused = app
        .post_passkey_answer(&app.browser, "/login/passkey", &credential, &[])
        .await;
    let page = assert_page(refused, StatusCode::UNAUTHORIZED, sentence).await;
    assert!(
        page.contains(SIGN_IN_FORM),
        "the sign-in page again: {page}"
    );
    assert!(!app.is_signed_in(&app.browser).await);
    let failures = app.audit_events("sign_in.failure", None).await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].detail, format!("reason={reason}"));
    assert_eq!(app.passkeys_of("alice").await[0].last_used_at, None);
    app
}

#[tokio::test]
async fn a_sign_in_answer_that_is_not_json_is_refused() {
    refused_sign_in(|_, _, _| "not json".into(), NOT_READ, "malformed").await;
}

#[tokio::test]
async fn a_sign_in_made_on_another_origin_is_refused() {
    let app = refused_sign_in(
        |_, key, options| {
            key.origin = "http://localhost.example.com".into();
            key.sign(options).to_string()
        },
        ANOTHER_SITE,
        "wrong_origin",
    )
    .await;
    let failures = app.audit_events("sign_in.failure", Some("alice")).await;
    assert_eq!(failures.len(), 1, "counted against the passkey's owner");
}

#[tokio::test]
async fn a_sign_in_for_another_rp_id_is_refused() {
    refused_sign_in(
        |_, key, options| {
            key.rp_id = "example.com".into();
            key.sign(options).to_string()
        },
        ANOTHER_SITE,
        "wrong_origin",
    )
    .await;
}

#[tokio::test]
async fn a_passkey_that_is_not_registered_is_refused() {
    refused_sign_in(
        |_, key, options| Authenticator::new(&key.origin).sign(options).to_string(),
        UNKNOWN,
        "unknown_passkey",
    )
    .await;
}

#[tokio::test]
async fn a_sign_in_answered_too_late_is_refused() {
    refused_sign_in(
        |app, key, options| {
            app.clock.advance(301);
            key.sign(options).to_string()
        },
        EXPIRED,
        "expired_challenge",
    )
    .await;
}

#[tokio::test]
async fn a_sign_in_answer_replayed_with_its_cookie_is_refused() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;
    let (browser, _) = browser_with_jar();
    let options = app.request_options(&browser, "sign_in").await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let ceremony = options.cookie(CEREMONY_COOKIE).unwrap().to_string();
    let answer = key.sign(&options.body).to_string();
    let first = app
        .post_passkey_answer(&browser, "/login/passkey", &answer, &[])
        .await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert!(app.is_signed_in(&browser).await);

    // Someone who caught both the answer and the ceremony cookie.
    let (thief, jar) = browser_with_jar();
    jar.add_cookie_str(
        &format!("{CEREMONY_COOKIE}={ceremony}; Path=/"),
        &app.address.parse().unwrap(),
    );
    let replayed = app
        .post_passkey_answer(&thief, "/login/passkey", &answer, &[])
        .await;
    assert_page(replayed, StatusCode::UNAUTHORIZED, EXPIRED).await;
    assert!(!app.is_signed_in(&thief).await);
    let successes = app.audit_events("sign_in.success", Some("alice")).await;
    assert_eq!(successes.len(), 2, "the password, then the passkey once");
}

#[tokio::test]
async fn another_browser_cannot_answer_this_browsers_ceremony() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;
    let options = app.request_options(&app.browser, "sign_in").await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let answer = key.sign(&options.body).to_string();

    let stranger = new_browser();
    let refused = app
        .post_passkey_answer(&stranger, "/login/passkey", &answer, &[])
        .await;
    assert_page(refused, StatusCode::UNAUTHORIZED, EXPIRED).await;
    assert!(!app.is_signed_in(&stranger).await);

    // The stranger did not use it up: it is still this browser's to finish.
    let mine = app
        .post_passkey_answer(&app.browser, "/login/passkey", &answer, &[])
        .await;
    assert_eq!(mine.status(), StatusCode::SEE_OTHER);
    assert!(app.is_signed_in(&app.browser).await);
}

#[tokio::test]
async fn a_passkey_whose_counter_goes_back_is_refused_as_a_copy() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;
    let signed_in = app.sign_in_with_passkey(&app.browser, &mut key, &[]).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(key.counter(), 1);
    app.sign_out().await;

    // A copy of the key that answers with a counter that did not grow.
    let mut copy = key.copy();
    copy.set_counter(0);
    let refused = app.sign_in_with_passkey(&app.browser, &mut copy, &[]).await;
    assert_page(refused, StatusCode::UNAUTHORIZED, A_COPY).await;
    assert!(!app.is_signed_in(&app.browser).await);
    let passkey = &app.passkeys_of("alice").await[0];
    let cloned = app.audit_events("passkey.cloned", Some("alice")).await;
    assert_eq!(cloned.len(), 1);
    assert_eq!(
        cloned[0].detail,
        format!("passkey={} name=Laptop", passkey.id)
    );
    let failures = app.audit_events("sign_in.failure", Some("alice")).await;
    assert_eq!(failures[0].detail, "reason=cloned_passkey");
    assert_eq!(app.only_credential_of("alice").await["cred"]["counter"], 1);
}

#[tokio::test]
async fn a_removed_passkey_no_longer_signs_in() {
    let app = spawn_app_on_localhost().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let mut key = app.authenticator();
    app.register_passkey(&app.browser, &mut key, "Laptop").await;
    let id = app.passkeys_of("alice").await[0].id.clone();
    let removed = app
        .account_form("/account/passkeys/remove", &[("id", &id)])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&removed), "/account?done=passkey-removed#passkeys");
    assert_eq!(app.passkeys_of("alice").await, []);
    let events = app.audit_events("passkey.removed", Some("alice")).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].detail, format!("passkey={id} name=Laptop"));
    app.sign_out().await;

    let refused = app.sign_in_with_passkey(&app.browser, &mut key, &[]).await;
    assert_page(refused, StatusCode::UNAUTHORIZED, UNKNOWN).await;
    assert!(!app.is_signed_in(&app.browser).await);
}

#[tokio::test]
async fn only_the_owner_renames_or_removes_a_passkey() {
    let app = spawn_app_on_localhost().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    app.register_passkey(&app.browser, &mut app.authenticator(), "Laptop")
        .await;
    let id = app.passkeys_of("alice").await[0].id.clone();
    let renamed = app
        .account_form(
            "/account/passkeys/rename",
            &[("id", &id), ("name", "  Work laptop ")],
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&renamed), "/account?done=passkey-renamed#passkeys");
    assert_eq!(app.passkeys_of("alice").await[0].name, "Work laptop");
    app.sign_out().await;

    app.sign_in_to_account("bob", BOB_PASSWORD).await;
    let rename = app
        .account_form(
            "/account/passkeys/rename",
            &[("id", &id), ("name", "Mine now")],
        )
        .await;
    assert_page(rename, StatusCode::BAD_REQUEST, NO_SUCH_PASSKEY).await;
    let remove = app
        .account_form("/account/passkeys/remove", &[("id", &id)])
        .await;
    assert_page(remove, StatusCode::BAD_REQUEST, NO_SUCH_PASSKEY).await;
    let kept = app.passkeys_of("alice").await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].name, "Work laptop");
    assert_eq!(app.audit_events("passkey.removed", None).await.len(), 0);
}

#[tokio::test]
async fn passkey_failures_are_throttled_like_wrong_passwords() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;
    // A browser Alice never signed in with: three free failures, then a wait.
    let browser = new_browser();
    let mut elsewhere = key.copy();
    elsewhere.origin = "http://localhost.example.com".into();
    for _ in 0..3 {
        let refused = app
            .sign_in_with_passkey(&browser, &mut elsewhere, &[])
            .await;
        assert_page(refused, StatusCode::UNAUTHORIZED, ANOTHER_SITE).await;
    }
    let throttled = app.sign_in_with_passkey(&browser, &mut key, &[]).await;
    assert_page(
        throttled,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many failed attempts. Wait 1 seconds, then try again.",
    )
    .await;
    assert!(!app.is_signed_in(&browser).await);
    assert_eq!(app.passkeys_of("alice").await[0].last_used_at, None);
}

#[tokio::test]
async fn a_second_step_with_someone_elses_passkey_is_refused() {
    let app = spawn_app_on_localhost().await;
    let mut alices = app.authenticator();
    app.alice_adds(&mut alices).await;
    app.sign_in_to_account("bob", BOB_PASSWORD).await;
    app.register_passkey(&app.browser, &mut app.authenticator(), "Phone")
        .await;
    app.sign_out().await;

    let request = trusted();
    let id = app.pending_request(&request).await;
    app.password_for(&id, "bob", BOB_PASSWORD).await;
    let refused = app.second_step_with(&mut alices, &id).await;
    let page = assert_page(refused, StatusCode::UNAUTHORIZED, UNKNOWN).await;
    assert!(page.contains(TWO_STEP), "the two-step page again: {page}");
    assert!(!app.is_signed_in(&app.browser).await);
    let failures = app.audit_events("mfa.failure", Some("bob")).await;
    assert_eq!(failures[0].detail, "reason=unknown_passkey");
    assert_eq!(app.passkeys_of("alice").await[0].last_used_at, None);
}

#[tokio::test]
async fn passkeys_are_off_on_an_ip_address_issuer() {
    let app = spawn_app().await;
    assert!(app.address.starts_with("http://127.0.0.1:"));
    let off = "Passkeys are not available on this server.";
    let options = app.request_options(&app.browser, "sign_in").await;
    assert_eq!(options.status, StatusCode::NOT_FOUND, "{}", options.body);
    assert_eq!(options.body["error"], "off");
    assert_eq!(options.body["error_description"], off);
    assert_eq!(options.cookie(CEREMONY_COOKIE), None);
    let login = app.get("/login").await.text().await.unwrap();
    assert!(
        !login.contains("passkey-form"),
        "no passkey button: {login}"
    );

    let answer = Authenticator::new("http://localhost").sign(&serde_json::json!({
        "publicKey": { "challenge": "AAAA" }
    }));
    let refused = app
        .post_passkey_answer(&app.browser, "/login/passkey", &answer.to_string(), &[])
        .await;
    assert_page(refused, StatusCode::UNAUTHORIZED, off).await;

    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let options = app.creation_options(&app.browser).await;
    assert_eq!(options.status, StatusCode::NOT_FOUND, "{}", options.body);
    assert_eq!(options.body["error_description"], off);
}

#[tokio::test]
async fn the_second_step_needs_the_password_first() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;

    // No second-factor challenge in this browser: no options...
    let options = app.request_options(&app.browser, "second_factor").await;
    assert_eq!(options.status, StatusCode::BAD_REQUEST, "{}", options.body);
    assert_eq!(options.body["error"], "expired_challenge");
    assert_eq!(options.body["error_description"], EXPIRED);
    assert_eq!(options.cookie(CEREMONY_COOKIE), None);

    // ...and an answer goes back to the password.
    let sign_in = app.request_options(&app.browser, "sign_in").await;
    let answer = key.sign(&sign_in.body).to_string();
    let back = app
        .post_passkey_answer(&app.browser, "/login/passkey/second-factor", &answer, &[])
        .await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&back), "/login");
    assert!(!app.is_signed_in(&app.browser).await);
    assert_eq!(app.audit_events("mfa.success", None).await.len(), 0);
}

#[tokio::test]
async fn a_second_step_without_passkeys_has_no_passkey_options() {
    let app = spawn_app_on_localhost().await;
    let request = trusted();
    let id = app.pending_request(&request).await;
    app.password_for(&id, "bob", BOB_PASSWORD).await;
    let options = app.request_options(&app.browser, "second_factor").await;
    assert_eq!(options.status, StatusCode::NOT_FOUND, "{}", options.body);
    assert_eq!(options.body["error"], "not_found");
    assert_eq!(options.cookie(CEREMONY_COOKIE), None);
}

#[tokio::test]
async fn a_passkey_answer_needs_the_forms_csrf_token() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;
    let options = app.request_options(&app.browser, "sign_in").await;
    let answer = key.sign(&options.body).to_string();
    let forged = app
        .browser
        .post(app.url("/login/passkey"))
        .form(&[("csrf", "forged"), ("credential", answer.as_str())])
        .send()
        .await
        .unwrap();
    assert_page(
        forged,
        StatusCode::FORBIDDEN,
        "This form had expired, so nothing was sent. Please sign in again.",
    )
    .await;
    assert!(!app.is_signed_in(&app.browser).await);
    assert_eq!(app.passkeys_of("alice").await[0].last_used_at, None);
}

#[tokio::test]
async fn a_ceremony_answers_only_what_it_was_opened_for() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    app.register_passkey(&app.browser, &mut key, "Laptop").await;

    // A registration's challenge, answered as a sign-in.
    let creation = app.creation_options(&app.browser).await;
    assert_eq!(creation.status, StatusCode::OK, "{}", creation.body);
    let answer = key.sign(&creation.body).to_string();
    let refused = app
        .post_passkey_answer(&app.browser, "/login/passkey", &answer, &[])
        .await;
    assert_page(refused, StatusCode::UNAUTHORIZED, EXPIRED).await;

    // A sign-in's challenge, answered as a registration.
    let request = app.request_options(&app.browser, "sign_in").await;
    assert_eq!(request.status, StatusCode::OK, "{}", request.body);
    let answer = app.authenticator().register(&json!({
        "publicKey": {
            "challenge": request.body["publicKey"]["challenge"],
            "user": { "id": b64url(b"0123456789abcdef") },
        }
    }));
    let refused = app
        .post_new_passkey(&app.browser, "Other", &answer.to_string())
        .await;
    assert_page(refused, StatusCode::BAD_REQUEST, EXPIRED).await;
    assert_eq!(app.passkeys_of("alice").await.len(), 1);
    assert_eq!(key.counter(), 1, "one signature made");
    assert_eq!(app.passkeys_of("alice").await[0].last_used_at, None);
}

/// The second step checks the counter against the last use recorded, not
/// against the copy its ceremony took: a clone that answers after the
/// real key signed in elsewhere is refused.
#[tokio::test]
async fn a_copy_answering_the_second_step_after_the_real_key_is_refused() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;
    let signed_in = app.sign_in_with_passkey(&app.browser, &mut key, &[]).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    app.sign_out().await;
    let mut copy = key.copy();

    // The thief's browser has the password and opens the second step while
    // the stored counter is 1.
    let id = app.pending_request(&trusted()).await;
    app.password_for(&id, "alice", ALICE_PASSWORD).await;
    let options = app.request_options(&app.browser, "second_factor").await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);

    // The owner signs in elsewhere: counter 2.
    let elsewhere = new_browser();
    let owner = app.sign_in_with_passkey(&elsewhere, &mut key, &[]).await;
    assert_eq!(owner.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.only_credential_of("alice").await["cred"]["counter"], 2);

    // The copy answers with 2 as well.
    let answer = copy.sign(&options.body);
    assert_eq!(copy.counter(), 2);
    let refused = app
        .post_passkey_answer(
            &app.browser,
            "/login/passkey/second-factor",
            &answer.to_string(),
            &[("request", &id)],
        )
        .await;
    let page = assert_page(refused, StatusCode::UNAUTHORIZED, A_COPY).await;
    assert!(page.contains(TWO_STEP), "the two-step page again: {page}");
    assert!(!app.is_signed_in(&app.browser).await);
    let cloned = app.audit_events("passkey.cloned", Some("alice")).await;
    assert_eq!(cloned.len(), 1);
    let failures = app.audit_events("mfa.failure", Some("alice")).await;
    assert_eq!(failures[0].detail, "reason=cloned_passkey");
}

#[tokio::test]
async fn a_disabled_users_passkey_signs_in_neither_way() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;
    let alice = app.user_id("alice").await;
    app.provider
        .store
        .set_user_disabled(&alice, true, gatehouse::clock::Clock::now(&app.clock))
        .await
        .unwrap();

    let refused = app.sign_in_with_passkey(&app.browser, &mut key, &[]).await;
    assert_page(
        refused,
        StatusCode::UNAUTHORIZED,
        "That passkey can't be used to sign in here.",
    )
    .await;
    assert!(!app.is_signed_in(&app.browser).await);
    let failures = app.audit_events("sign_in.failure", Some("alice")).await;
    assert_eq!(failures[0].detail, "reason=disabled");
    assert_eq!(app.passkeys_of("alice").await[0].last_used_at, None);
}

#[tokio::test]
async fn removing_a_passkey_needs_a_recent_sign_in() {
    let app = spawn_app_on_localhost().await;
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let mut key = app.authenticator();
    app.register_passkey(&app.browser, &mut key, "Laptop").await;
    let id = app.passkeys_of("alice").await[0].id.clone();
    app.clock.advance(601);
    let refused = app
        .account_form("/account/passkeys/remove", &[("id", &id)])
        .await;
    assert_page(refused, StatusCode::BAD_REQUEST, SIGN_IN_AGAIN).await;
    assert_eq!(app.passkeys_of("alice").await.len(), 1);
    assert!(app
        .audit_events("passkey.removed", Some("alice"))
        .await
        .is_empty());
}

/// Every ceremony asks for user verification: an authenticator that only
/// tests presence registers nothing and signs no one in, either way.
#[tokio::test]
async fn a_passkey_that_does_not_verify_its_user_is_refused() {
    let app = spawn_app_on_localhost().await;
    let not_verified = "Your passkey didn't confirm it was you. Try again, and unlock it with its PIN or biometric when asked.";
    app.sign_in_to_account("alice", ALICE_PASSWORD).await;
    let mut lazy = app.authenticator();
    lazy.presence_only = true;
    let options = app.creation_options(&app.browser).await;
    let answer = lazy.register(&options.body).to_string();
    let refused = app.post_new_passkey(&app.browser, "Lazy", &answer).await;
    assert_page(refused, StatusCode::BAD_REQUEST, not_verified).await;
    assert_eq!(app.passkeys_of("alice").await, []);

    let mut key = app.authenticator();
    app.register_passkey(&app.browser, &mut key, "Laptop").await;
    app.sign_out().await;
    key.presence_only = true;
    let refused = app.sign_in_with_passkey(&app.browser, &mut key, &[]).await;
    assert_page(refused, StatusCode::UNAUTHORIZED, not_verified).await;
    assert!(!app.is_signed_in(&app.browser).await);

    let id = app.pending_request(&trusted()).await;
    app.password_for(&id, "alice", ALICE_PASSWORD).await;
    let refused = app.second_step_with(&mut key, &id).await;
    let page = assert_page(refused, StatusCode::UNAUTHORIZED, not_verified).await;
    assert!(page.contains(TWO_STEP), "the two-step page again: {page}");
    assert!(!app.is_signed_in(&app.browser).await);
    let failures = app.audit_events("mfa.failure", Some("alice")).await;
    assert_eq!(failures[0].detail, "reason=not_verified");
}

/// A browser may have several ceremonies at once (sign-in pages in two
/// tabs): each answers its own challenge, once.
#[tokio::test]
async fn two_tabs_of_one_browser_each_answer_their_own_ceremony() {
    let app = spawn_app_on_localhost().await;
    let mut key = app.authenticator();
    app.alice_adds(&mut key).await;
    let first_tab = app.request_options(&app.browser, "sign_in").await;
    let second_tab = app.request_options(&app.browser, "sign_in").await;
    assert_eq!(first_tab.status, StatusCode::OK);
    assert_eq!(second_tab.status, StatusCode::OK);
    assert_ne!(
        first_tab.body["publicKey"]["challenge"],
        second_tab.body["publicKey"]["challenge"]
    );
    assert_eq!(
        first_tab.cookie(CEREMONY_COOKIE),
        second_tab.cookie(CEREMONY_COOKIE),
        "one browser, one cookie"
    );

    // The first tab answers after the second asked.
    let answer = key.sign(&first_tab.body).to_string();
    let signed_in = app
        .post_passkey_answer(&app.browser, "/login/passkey", &answer, &[])
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert!(app.is_signed_in(&app.browser).await);
    app.sign_out().await;

    // The second tab's ceremony is still there, and answers once.
    let answer = key.sign(&second_tab.body).to_string();
    let signed_in = app
        .post_passkey_answer(&app.browser, "/login/passkey", &answer, &[])
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    app.sign_out().await;
    let replayed = app
        .post_passkey_answer(&app.browser, "/login/passkey", &answer, &[])
        .await;
    assert_page(
        replayed,
        StatusCode::UNAUTHORIZED,
        "That passkey request expired or was used already. Please try again.",
    )
    .await;
}
