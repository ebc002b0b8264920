//! What Gatehouse checks of an upstream's answer, against a fake upstream
//! told to misbehave one way at a time (`helpers::mock_upstream`): the ID
//! token's every claim and signature, RFC 9207's `iss`, error answers, a
//! userinfo about someone else, broken keys, a wrong issuer in discovery,
//! an upstream that hangs or is not there. Each failure is a page and an
//! `upstream.failure` event with its reason, and creates or links nothing.
//! Also the well-behaved paths: what Gatehouse sends (PKCE, nonce, client
//! authentication), a GitHub-style OAuth 2.0 upstream, group mapping,
//! caching and signing out there.

use crate::helpers::mock_upstream::{Knobs, MockUpstream, Mode};
use crate::helpers::*;
use reqwest::{Response, StatusCode};

const ID: &str = "mock";

/// A Gatehouse with the fake upstream as `mock` (with `extra` settings),
/// giving up on it after one second.
async fn gatehouse_for(mock: &MockUpstream, extra: &str) -> TestApp {
    let seed = write_seed();
    let mut text = std::fs::read_to_string(&seed).unwrap();
    text.push_str("\n[[groups]]\nname = \"eng\"\n");
    text.push_str(&mock.seed_toml(ID, extra));
    std::fs::write(&seed, text).unwrap();
    spawn_app_with(|c| {
        c.seed = Some(seed);
        c.upstream_timeout_secs = 1;
    })
    .await
}

/// Starts a sign-in at the client and presses the upstream's button.
async fn leave(app: &TestApp, request: &AuthRequest) -> Response {
    let to_login = app.authorize(request).await;
    app.press_upstream(&to_login, ID).await
}

/// Goes to the fake upstream and back: Gatehouse's answer to the way back.
async fn round_trip(app: &TestApp, request: &AuthRequest) -> Response {
    let to_upstream = leave(app, request).await;
    let back = app.visit(&location(&to_upstream)).await;
    assert_eq!(
        back.status(),
        StatusCode::FOUND,
        "the fake upstream answers at once"
    );
    app.visit(&location(&back)).await
}

async fn last_failure(app: &TestApp) -> String {
    let events = app.audit_events("upstream.failure", None).await;
    events.first().map(|e| e.detail.clone()).unwrap_or_default()
}

/// Asserts that `answer` is a failure page saying `sentence`, recorded with
/// `reason`, that left the users as they were (`before`).
async fn refused(
    app: &TestApp,
    answer: Response,
    (status, sentence, reason): (StatusCode, &str, &str),
    before: usize,
) {
    assert_eq!(answer.status(), status, "{reason}");
    let page = answer.text().await.unwrap();
    assert!(page.contains(sentence), "{reason}: {page}");
    assert!(page.contains("Back to sign in"), "{reason}: {page}");
    let detail = last_failure(app).await;
    assert!(
        detail.contains(&format!("reason={reason}")),
        "{reason}: {detail}"
    );
    assert_eq!(app.user_count().await, before, "{reason}: nothing created");
}

/// One way to break the fake upstream.
type Breaks = fn(&mut Knobs);

/// What the page says when a fresh sign-in at the upstream was not shown.
const NOT_FRESH: &str = "did not confirm that you did";

const UNTRUSTED: &str = "could not be trusted, so nothing was done";

#[tokio::test]
async fn every_defect_of_the_id_token_is_refused_and_creates_nothing() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let app = gatehouse_for(&mock, "").await;
    let before = app.user_count().await;
    let cases: [(&str, Breaks); 9] = [
        ("wrong_issuer", |k| k.wrong_iss = true),
        ("wrong_audience", |k| k.wrong_aud = true),
        ("wrong_azp", |k| k.extra_aud_without_azp = true),
        ("bad_signature", |k| k.bad_signature = true),
        ("wrong_nonce", |k| k.stale_nonce = true),
        ("wrong_nonce", |k| k.no_nonce = true),
        ("expired", |k| k.expired = true),
        ("issued_in_future", |k| k.future_iat = true),
        ("malformed", |k| k.alg_none = true),
    ];
    for (reason, knob) in cases {
        mock.set(|k| {
            *k = Knobs::default();
            knob(k);
        });
        let answer = round_trip(&app, &AuthRequest::confidential()).await;
        refused(
            &app,
            answer,
            (StatusCode::BAD_GATEWAY, UNTRUSTED, reason),
            before,
        )
        .await;
    }
    assert!(app
        .provider
        .store
        .upstream_link(ID, "upstream-subject-ada")
        .await
        .unwrap()
        .is_none());
    // Well-behaved again: the same person signs in.
    mock.set(|k| *k = Knobs::default());
    let answer = round_trip(&app, &AuthRequest::confidential()).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.user_count().await, before + 1);
}

#[tokio::test]
async fn broken_keys_and_a_userinfo_about_someone_else_are_refused() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let app = gatehouse_for(&mock, "").await;
    let before = app.user_count().await;
    mock.set(|k| k.broken_jwks = true);
    let answer = round_trip(&app, &AuthRequest::confidential()).await;
    refused(
        &app,
        answer,
        (StatusCode::BAD_GATEWAY, UNTRUSTED, "bad_keys"),
        before,
    )
    .await;
    mock.set(|k| {
        k.broken_jwks = false;
        k.userinfo_sub = Some("somebody-else".into());
    });
    let answer = round_trip(&app, &AuthRequest::confidential()).await;
    refused(
        &app,
        answer,
        (StatusCode::BAD_GATEWAY, UNTRUSTED, "userinfo_sub_mismatch"),
        before,
    )
    .await;
}

#[tokio::test]
async fn error_answers_are_pages() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let app = gatehouse_for(&mock, "").await;
    let before = app.user_count().await;
    mock.set(|k| k.authorize_error = Some("access_denied".into()));
    let answer = round_trip(&app, &AuthRequest::confidential()).await;
    refused(
        &app,
        answer,
        (
            StatusCode::BAD_REQUEST,
            "the request was declined",
            "error_response",
        ),
        before,
    )
    .await;
    mock.set(|k| {
        k.authorize_error = None;
        k.token_error = Some("invalid_grant".into());
    });
    let answer = round_trip(&app, &AuthRequest::confidential()).await;
    refused(
        &app,
        answer,
        (
            StatusCode::BAD_GATEWAY,
            "refused to complete the sign-in (invalid_grant)",
            "error_response",
        ),
        before,
    )
    .await;
}

#[tokio::test]
async fn rfc_9207_iss_must_name_the_upstream_and_be_there_when_promised() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let app = gatehouse_for(&mock, "").await;
    let before = app.user_count().await;
    // A mix-up: the answer says another provider sent it.
    mock.set(|k| k.iss_param = Some("https://other-idp.example".into()));
    let answer = round_trip(&app, &AuthRequest::confidential()).await;
    refused(
        &app,
        answer,
        (StatusCode::BAD_REQUEST, UNTRUSTED, "wrong_iss_parameter"),
        before,
    )
    .await;
    // Promised in the metadata (read fresh: a new Gatehouse), but missing.
    let mock = MockUpstream::start(Mode::Oidc).await;
    mock.set(|k| k.advertise_iss_parameter = true);
    let app = gatehouse_for(&mock, "").await;
    let before = app.user_count().await;
    let answer = round_trip(&app, &AuthRequest::confidential()).await;
    refused(
        &app,
        answer,
        (StatusCode::BAD_REQUEST, UNTRUSTED, "missing_iss_parameter"),
        before,
    )
    .await;
    // An error answer without it is not taken for the upstream's either.
    mock.set(|k| k.authorize_error = Some("access_denied".into()));
    let answer = round_trip(&app, &AuthRequest::confidential()).await;
    refused(
        &app,
        answer,
        (StatusCode::BAD_REQUEST, UNTRUSTED, "missing_iss_parameter"),
        before,
    )
    .await;
    mock.set(|k| k.authorize_error = None);
    // Promised and present.
    let issuer = mock.issuer.clone();
    mock.set(|k| k.iss_param = Some(issuer));
    let answer = round_trip(&app, &AuthRequest::confidential()).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn discovery_that_names_another_issuer_is_refused_before_leaving() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    mock.set(|k| k.metadata_issuer = Some("https://impostor.example".into()));
    let app = gatehouse_for(&mock, "").await;
    let before = app.user_count().await;
    let to_login = app.authorize(&AuthRequest::confidential()).await;
    let page = app.follow(&to_login).await.text().await.unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let request = hidden_field(&page, "request").unwrap();
    let answer = app
        .browser
        .post(app.url(&format!("/upstream/{ID}/start")))
        .form(&[("csrf", csrf.as_str()), ("request", request.as_str())])
        .send()
        .await
        .unwrap();
    refused(
        &app,
        answer,
        (StatusCode::BAD_GATEWAY, UNTRUSTED, "wrong_issuer"),
        before,
    )
    .await;
    assert!(
        mock.authorize_requests().is_empty(),
        "the browser never went there"
    );
}

#[tokio::test]
async fn an_upstream_that_is_not_there_is_a_page() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let app = gatehouse_for(&mock, "").await;
    let before = app.user_count().await;
    drop(mock);
    let to_login = app.authorize(&AuthRequest::confidential()).await;
    let page = app.follow(&to_login).await.text().await.unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let answer = app
        .browser
        .post(app.url(&format!("/upstream/{ID}/start")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    refused(
        &app,
        answer,
        (
            StatusCode::BAD_GATEWAY,
            "could not be reached",
            "unreachable",
        ),
        before,
    )
    .await;
}

#[tokio::test]
async fn a_hanging_upstream_costs_one_sign_in_not_the_server() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let app = gatehouse_for(&mock, "").await;
    let before = app.user_count().await;
    mock.set(|k| k.hang = Some("/token"));
    let to_upstream = leave(&app, &AuthRequest::confidential()).await;
    let back = app.visit(&location(&to_upstream)).await;
    let callback = location(&back);
    let browser = app.browser.clone();
    let waiting = tokio::spawn(async move { browser.get(callback).send().await.unwrap() });
    // While that sign-in waits on the upstream, everyone else is served.
    for path in ["/.well-known/openid-configuration", "/jwks", "/login"] {
        let other = new_browser().get(app.url(path)).send().await.unwrap();
        assert_eq!(other.status(), StatusCode::OK, "{path}");
    }
    assert!(
        !waiting.is_finished(),
        "the hanging sign-in is still waiting"
    );
    let answer = waiting.await.unwrap();
    refused(
        &app,
        answer,
        (
            StatusCode::GATEWAY_TIMEOUT,
            "did not answer in time",
            "timeout",
        ),
        before,
    )
    .await;
}

#[tokio::test]
async fn what_gatehouse_sends_an_openid_connect_upstream() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let app = gatehouse_for(&mock, "").await;
    // A fresh sign-in there, as the client asks: its auth_time shows it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    mock.set(|k| {
        k.claims.insert("auth_time".into(), now.into());
    });
    let request = AuthRequest::confidential()
        .with("prompt", "login")
        .with("login_hint", "ada");
    let answer = round_trip(&app, &request).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let sent = &mock.authorize_requests()[0];
    assert_eq!(sent["response_type"], "code");
    assert_eq!(sent["code_challenge_method"], "S256");
    assert_eq!(sent["code_challenge"].len(), 43);
    assert_eq!(sent["nonce"].len(), 43);
    assert_eq!(sent["scope"], "openid profile email");
    assert_eq!(
        sent["redirect_uri"],
        format!("{}/upstream/{ID}/callback", app.address)
    );
    assert_eq!(sent["prompt"], "login", "the client's prompt=login goes on");
    assert_eq!(
        sent["max_age"], "0",
        "with max_age=0, which makes auth_time required"
    );
    assert!(
        !sent.contains_key("login_hint"),
        "a local name is not passed on"
    );
    let token = &mock.token_requests()[0];
    assert!(token.used_basic(), "client_secret_basic by default");
    assert!(!token.form.contains_key("client_secret"));
    assert_eq!(token.form["code_verifier"].len(), 43);
    // Signed in: a local account with the upstream's claims and groups.
    let user = app
        .provider
        .store
        .user_by_username("ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.email.as_deref(), Some("ada@corp.example"));
    assert!(user.email_verified);
}

#[tokio::test]
async fn a_github_style_oauth2_upstream_signs_people_in_by_its_userinfo() {
    let mock = MockUpstream::start(Mode::OAuth2).await;
    let app = gatehouse_for(&mock, "").await;
    let request = AuthRequest::confidential();
    let answer = round_trip(&app, &request).await;
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "{}",
        last_failure(&app).await
    );
    let sent = &mock.authorize_requests()[0];
    assert_eq!(sent["code_challenge_method"], "S256");
    assert!(!sent.contains_key("nonce"), "no OpenID Connect there");
    let token = &mock.token_requests()[0];
    assert!(!token.used_basic(), "the secret goes in the body");
    assert_eq!(token.form["client_secret"], mock.client_secret);
    let user = app
        .provider
        .store
        .user_by_username("ada")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !user.email_verified,
        "an OAuth 2.0 userinfo vouches for no address"
    );
    let link = app
        .provider
        .store
        .upstream_link(ID, "4242")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.user_id, user.id, "the numeric id is the subject");
    // On to the client: amr says fed.
    let next = app.follow(&answer).await;
    let consent = app.follow(&next).await;
    let done = app
        .submit_form(consent, "/consent", &[("decision", "allow")])
        .await;
    let code = param(&location_params(&done), "code").unwrap();
    let tokens: serde_json::Value = app.redeem(&request, &code).await.json().await.unwrap();
    let claims = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap(), CONFIDENTIAL).await;
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["amr"], serde_json::json!(["fed"]));
}

#[tokio::test]
async fn mapped_groups_follow_the_upstream_and_others_stay() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let app = gatehouse_for(&mock, "[upstreams.group_map]\n\"engineering\" = \"eng\"\n").await;
    assert_eq!(
        round_trip(&app, &AuthRequest::confidential())
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let user = app
        .provider
        .store
        .user_by_username("ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.groups, ["eng"]);
    // The upstream stops naming the group: the next sign-in takes it away.
    mock.set(|k| {
        k.claims
            .insert("groups".into(), serde_json::json!(["marketing"]));
    });
    let browser = new_browser();
    let mut app = app;
    app.browser = browser;
    assert_eq!(
        round_trip(&app, &AuthRequest::confidential())
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let user = app
        .provider
        .store
        .user_by_username("ada")
        .await
        .unwrap()
        .unwrap();
    assert!(user.groups.is_empty(), "{:?}", user.groups);
}

#[tokio::test]
async fn discovery_and_keys_are_read_once_for_many_sign_ins() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let mut app = gatehouse_for(&mock, "").await;
    for _ in 0..3 {
        app.browser = new_browser();
        assert_eq!(
            round_trip(&app, &AuthRequest::confidential())
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(mock.hits("/.well-known/openid-configuration"), 1);
    assert_eq!(mock.hits("/jwks"), 1);
    assert_eq!(mock.hits("/token"), 3);
}

#[tokio::test]
async fn signing_out_goes_through_the_upstreams_end_session_endpoint() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let app = gatehouse_for(&mock, "sign_out_upstream = true").await;
    let answer = round_trip(&app, &AuthRequest::confidential()).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let bye = app.get("/end_session").await;
    // No hint: Gatehouse asks; the person confirms.
    let page = bye.text().await.unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let confirmed = app
        .browser
        .post(app.url("/end_session/confirm"))
        .form(&[("csrf", csrf.as_str()), ("decision", "logout")])
        .send()
        .await
        .unwrap();
    let to = location(&confirmed);
    assert!(to.starts_with(&mock.url("/end_session?")), "{to}");
    let back = app.visit(&to).await;
    let sent = &mock.end_session_requests()[0];
    assert_eq!(
        sent["post_logout_redirect_uri"],
        format!("{}/upstream/{ID}/signed-out", app.address)
    );
    assert!(
        sent["id_token_hint"].starts_with("ey"),
        "the upstream's ID token as hint"
    );
    let home = app.visit(&location(&back)).await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.text().await.unwrap().contains("signed out"));
}

#[tokio::test]
async fn a_fresh_sign_in_asked_for_must_be_fresh_at_the_upstream() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let app = gatehouse_for(&mock, "").await;
    let before = app.user_count().await;
    // The upstream reuses a sign-in from an hour ago.
    let an_hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 3600;
    mock.set(|k| {
        k.claims.insert("auth_time".into(), an_hour_ago.into());
    });
    let answer = round_trip(&app, &AuthRequest::confidential().with("prompt", "login")).await;
    refused(
        &app,
        answer,
        (StatusCode::BAD_GATEWAY, NOT_FRESH, "stale_authentication"),
        before,
    )
    .await;
    // max_age needs auth_time: without one, refused too.
    mock.set(|k| {
        k.claims.remove("auth_time");
    });
    let answer = round_trip(&app, &AuthRequest::confidential().with("max_age", "60")).await;
    refused(
        &app,
        answer,
        (StatusCode::BAD_GATEWAY, NOT_FRESH, "no_auth_time"),
        before,
    )
    .await;
    assert_eq!(mock.authorize_requests()[1]["max_age"], "60");
    // Without either, an old sign-in there is fine.
    mock.set(|k| {
        k.claims.insert("auth_time".into(), an_hour_ago.into());
    });
    let answer = round_trip(&app, &AuthRequest::confidential()).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_answer_that_repeats_a_parameter_is_not_read() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let app = gatehouse_for(&mock, "").await;
    let before = app.user_count().await;
    let to_upstream = leave(&app, &AuthRequest::confidential()).await;
    let back = app.visit(&location(&to_upstream)).await;
    let callback = format!("{}&code=another", location(&back));
    let answer = app.visit(&callback).await;
    refused(
        &app,
        answer,
        (StatusCode::BAD_REQUEST, UNTRUSTED, "repeated_parameter"),
        before,
    )
    .await;
    assert!(mock.token_requests().is_empty(), "no code was exchanged");
}

#[tokio::test]
async fn a_mapped_group_cannot_be_deleted_and_wrong_passwords_do_not_lock_out_the_upstream() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let mut app = gatehouse_for(&mock, "[upstreams.group_map]\n\"engineering\" = \"eng\"\n").await;
    let token = app.admin_token().await;
    let refused = app
        .api
        .delete(app.url("/admin/api/v1/groups/eng"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("upstream mock (group map)"));
    assert_eq!(
        round_trip(&app, &AuthRequest::confidential())
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Someone guesses at ada's (non-existent) password, over and over.
    for _ in 0..8 {
        let guess = app
            .post_password(&new_browser(), "/login", ("ada", "a wrong guess"), None)
            .await;
        assert_ne!(guess.status(), StatusCode::SEE_OTHER);
    }
    let locked = app
        .post_password(&new_browser(), "/login", ("ada", "another guess"), None)
        .await;
    assert_eq!(
        locked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the account is throttled"
    );
    // Ada still signs in through her provider, from a new browser.
    app.browser = new_browser();
    assert_eq!(
        round_trip(&app, &AuthRequest::confidential())
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}
