//! The token endpoint's answers to bad requests (RFC 6749 §5.2).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn error_of(response: reqwest::Response) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let status = response.status();
    let headers = response.headers().clone();
    assert_eq!(headers["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap().to_string(), headers)
}

async fn fresh_code(app: &TestApp, request: &AuthRequest) -> String {
    let params = app
        .authorize_through(request, "alice", ALICE_PASSWORD)
        .await;
    param(&params, "code").unwrap()
}

#[tokio::test]
async fn a_code_works_once_and_replay_revokes_its_tokens() {
    let app = spawn_app().await;
    let request = AuthRequest::confidential();
    let code = fresh_code(&app, &request).await;
    let first = app.redeem(&request, &code).await;
    assert_eq!(first.status(), StatusCode::OK);
    let tokens: Value = first.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.userinfo(access).await.status(), StatusCode::OK);

    let (status, error, _) = error_of(app.redeem(&request, &code).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert_eq!(
        app.userinfo(access).await.status(),
        StatusCode::UNAUTHORIZED,
        "replay revoked the first tokens"
    );
}

#[tokio::test]
async fn codes_are_bound_to_verifier_redirect_client_and_time() {
    let app = spawn_app().await;
    let request = AuthRequest::confidential();
    let code = fresh_code(&app, &request).await;

    let mut wrong_verifier = request.clone();
    wrong_verifier.verifier = Some(pkce_pair().0);
    let (_, error, _) = error_of(app.redeem(&wrong_verifier, &code).await).await;
    assert_eq!(error, "invalid_grant");

    let mut no_verifier = request.clone();
    no_verifier.verifier = None;
    let (_, error, _) = error_of(app.redeem(&no_verifier, &code).await).await;
    assert_eq!(error, "invalid_request");

    let mut other_redirect = request.clone();
    other_redirect.redirect_uri = "http://127.0.0.1:9999/other".into();
    let (_, error, _) = error_of(app.redeem(&other_redirect, &code).await).await;
    assert_eq!(error, "invalid_grant");

    let mut other_client = request.clone();
    other_client.client_id = NO_CONSENT.into();
    let (_, error, _) = error_of(app.redeem(&other_client, &code).await).await;
    assert_eq!(error, "invalid_grant");

    // None of those attempts used the code up.
    assert_eq!(app.redeem(&request, &code).await.status(), StatusCode::OK);

    let late = fresh_code(&app, &request).await;
    app.clock.advance(61);
    let (_, error, _) = error_of(app.redeem(&request, &late).await).await;
    assert_eq!(error, "invalid_grant", "codes live at most 60 s");
}

#[tokio::test]
async fn unknown_codes_and_missing_fields() {
    let app = spawn_app().await;
    let basic = Some((CONFIDENTIAL, CONFIDENTIAL_SECRET));
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("grant_type", "authorization_code"),
                ("code", "nope"),
                ("redirect_uri", CONFIDENTIAL_REDIRECT),
            ],
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("redirect_uri", CONFIDENTIAL_REDIRECT),
            ],
            "invalid_request",
        ),
        (
            vec![("grant_type", "authorization_code"), ("code", "x")],
            "invalid_request",
        ),
        (vec![("code", "x")], "invalid_request"),
        (
            vec![("grant_type", "password"), ("username", "alice")],
            "unsupported_grant_type",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("redirect_uri", CONFIDENTIAL_REDIRECT),
            ],
            "invalid_request",
        ),
    ];
    for (form, expected) in cases {
        let (status, error, _) = error_of(app.token_form(&form, basic).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}");
        assert_eq!(error, expected, "{form:?}");
    }
}

#[tokio::test]
async fn public_client_codes_need_their_verifier() {
    let app = spawn_app().await;
    let request = AuthRequest::public();
    let code = fresh_code(&app, &request).await;
    let (status, error, _) = error_of(
        app.token_form(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", PUBLIC_REDIRECT),
                ("client_id", PUBLIC),
            ],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    assert_eq!(app.redeem(&request, &code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn client_authentication_failures() {
    let app = spawn_app().await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "x"),
        ("redirect_uri", CONFIDENTIAL_REDIRECT),
    ];

    let (status, error, headers) =
        error_of(app.token_form(&form, Some((CONFIDENTIAL, "wrong"))).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));

    let (status, error, headers) =
        error_of(app.token_form(&form, Some(("nobody", "x"))).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    assert!(headers.contains_key("www-authenticate"));

    for header in [
        "Basic !!!notbase64",
        "Basic bm9jb2xvbg==",
        "Basic",
        "Basic Og==",
    ] {
        let response = app
            .api
            .post(app.url("/token"))
            .header("Authorization", header)
            .form(&form)
            .send()
            .await
            .unwrap();
        let (status, error, headers) = error_of(response).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_client"),
            "{header}"
        );
        assert!(headers.contains_key("www-authenticate"), "{header}");
    }

    let mut post = form.to_vec();
    post.extend([("client_id", CONFIDENTIAL), ("client_secret", "wrong")]);
    let (status, error, _) = error_of(app.token_form(&post, None).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );

    let (status, error, _) = error_of(app.token_form(&form, None).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client"),
        "no authentication at all"
    );

    let mut both = form.to_vec();
    both.push(("client_secret", CONFIDENTIAL_SECRET));
    let (_, error, _) = error_of(
        app.token_form(&both, Some((CONFIDENTIAL, CONFIDENTIAL_SECRET)))
            .await,
    )
    .await;
    assert_eq!(error, "invalid_request", "two authentication methods");

    let mut confidential_as_public = form.to_vec();
    confidential_as_public.push(("client_id", CONFIDENTIAL));
    let (_, error, _) = error_of(app.token_form(&confidential_as_public, None).await).await;
    assert_eq!(
        error, "invalid_client",
        "a confidential client must authenticate"
    );
}

#[tokio::test]
async fn client_secret_post_works() {
    let app = spawn_app().await;
    let request = AuthRequest::confidential();
    let code = fresh_code(&app, &request).await;
    let verifier = request.verifier.clone().unwrap();
    let response = app
        .token_form(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CONFIDENTIAL_REDIRECT),
                ("code_verifier", &verifier),
                ("client_id", CONFIDENTIAL),
                ("client_secret", CONFIDENTIAL_SECRET),
            ],
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_content_types_and_methods() {
    let app = spawn_app().await;
    let json = app
        .api
        .post(app.url("/token"))
        .basic_auth(CONFIDENTIAL, Some(CONFIDENTIAL_SECRET))
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    let (status, error, _) = error_of(json).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );

    let get = app.api.get(app.url("/token")).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = get.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn concurrent_redemptions_of_one_code_yield_one_success() {
    let app = spawn_app().await;
    let request = AuthRequest::confidential();
    let code = fresh_code(&app, &request).await;
    let attempts = (0..10).map(|_| app.redeem(&request, &code));
    let results = futures_join_all(attempts).await;
    let ok = results.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST),
        "{results:?}"
    );
}

async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<StatusCode>
where
    F: std::future::Future<Output = reqwest::Response>,
{
    let responses = futures_util::future::join_all(futures).await;
    responses.iter().map(|r| r.status()).collect()
}

#[tokio::test]
async fn a_late_replay_of_a_used_code_still_revokes() {
    let app = spawn_app().await;
    let request = AuthRequest::confidential();
    let code = fresh_code(&app, &request).await;
    let tokens: Value = app.redeem(&request, &code).await.json().await.unwrap();
    app.clock.advance(120);
    let (_, error, _) = error_of(app.redeem(&request, &code).await).await;
    assert_eq!(error, "invalid_grant");
    assert_eq!(
        app.introspect(tokens["access_token"].as_str().unwrap(), WEBAPP)
            .await["active"],
        false
    );
}
