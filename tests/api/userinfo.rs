//! UserInfo (OpenID Connect Core §5.3) and its Bearer errors (RFC 6750 §3).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn claims_follow_the_scopes() {
    let app = spawn_app().await;
    let mut request = AuthRequest::confidential();
    request.scope = "openid".into();
    let tokens = app.tokens_for(&request, "alice", ALICE_PASSWORD).await;
    let info: Value = app
        .userinfo(tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert!(info["sub"].is_string());
    assert!(
        info.get("email").is_none() && info.get("name").is_none(),
        "{info}"
    );
}

#[tokio::test]
async fn post_with_a_form_token_works() {
    let app = spawn_app().await;
    let tokens = app
        .tokens_for(&AuthRequest::confidential(), "alice", ALICE_PASSWORD)
        .await;
    let access = tokens["access_token"].as_str().unwrap();
    let response = app
        .api
        .post(app.url("/userinfo"))
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .api
        .post(app.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn bearer_errors() {
    let app = spawn_app().await;
    let missing = app.api.get(app.url("/userinfo")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let challenge = missing.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        challenge.starts_with("Bearer") && !challenge.contains("error="),
        "{challenge}"
    );

    let tokens = app
        .tokens_for(&AuthRequest::confidential(), "alice", ALICE_PASSWORD)
        .await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let id_token = tokens["id_token"].as_str().unwrap().to_string();
    let mut tampered = access.clone();
    tampered.insert(access.find('.').unwrap() + 5, 'x');
    for (name, token) in [
        ("garbage", "not-a-jwt".to_string()),
        ("tampered", tampered),
        ("an ID token is no access token", id_token),
    ] {
        let response = app.userinfo(&token).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains(r#"error="invalid_token""#),
            "{name}"
        );
    }

    let basic = app
        .api
        .get(app.url("/userinfo"))
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::BAD_REQUEST);

    app.clock.advance(3600);
    let expired = app.userinfo(&access).await;
    assert_eq!(
        expired.status(),
        StatusCode::UNAUTHORIZED,
        "expired access token"
    );
}

#[tokio::test]
async fn tokens_without_openid_get_insufficient_scope() {
    let app = spawn_app().await;
    let mut request = AuthRequest::confidential();
    request.scope = "api:read".into();
    let tokens = app.tokens_for(&request, "alice", ALICE_PASSWORD).await;
    assert!(tokens.get("id_token").is_none(), "no openid, no ID token");
    let response = app.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_scope"));
}
