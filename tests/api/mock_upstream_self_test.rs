//! The fake upstream provider on its own, with no Gatehouse server: that it
//! answers as an OpenID Connect or OAuth 2.0 provider does, checks what a
//! real one checks, and that each knob breaks what it says. The last tests
//! hand it to Gatehouse's own upstream client, to show that each broken
//! ID token is refused for the reason the knob names.

use crate::helpers::client_builder;
use crate::helpers::mock_upstream::{MockUpstream, Mode, TokenRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use reqwest::{Client, StatusCode};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const REDIRECT: &str = "http://127.0.0.1:9/upstream/callback";

fn client() -> Client {
    client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The query of a redirect's `Location`.
fn location_query(response: &reqwest::Response) -> (String, HashMap<String, String>) {
    let location = response.headers()["location"].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    let base = format!("{}{}", url.origin().ascii_serialization(), url.path());
    (base, url.query_pairs().into_owned().collect())
}

/// A browser's trip through `/authorize`: the code, and the PKCE verifier
/// and nonce that go with it.
async fn authorize(mock: &MockUpstream, http: &Client) -> (String, String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let nonce = format!("n-{}", rand::random::<u32>());
    let response = http
        .get(mock.url("/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", &mock.client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile email"),
            ("state", "st-1"),
            ("nonce", &nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let (_, query) = location_query(&response);
    (query["code"].clone(), verifier, nonce)
}

/// `/token` for `code`, the client authenticating with HTTP Basic (each
/// part form-urlencoded first, RFC 6749 §2.3.1).
async fn exchange(
    mock: &MockUpstream,
    http: &Client,
    code: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let response = http
        .post(mock.url("/token"))
        .basic_auth(encode(&mock.client_id), Some(encode(&mock.client_secret)))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// The ID token's claims, verified against the published JWKS.
async fn verified(
    mock: &MockUpstream,
    http: &Client,
    token: &str,
) -> Result<Map<String, Value>, jsonwebtoken::errors::Error> {
    let set: JwkSet = http
        .get(mock.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = decode_header(token)?;
    let jwk = set
        .find(header.kid.as_deref().unwrap())
        .expect("the kid is published");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[&mock.client_id]);
    validation.set_issuer(&[&mock.issuer]);
    decode::<Map<String, Value>>(token, &DecodingKey::from_jwk(jwk)?, &validation).map(|t| t.claims)
}

#[tokio::test]
async fn discovery_describes_the_mock_and_only_in_oidc_mode() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let http = client();
    let url = mock.url("/.well-known/openid-configuration");
    let metadata: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["issuer"], mock.issuer);
    assert_eq!(metadata["authorization_endpoint"], mock.url("/authorize"));
    assert_eq!(metadata["token_endpoint"], mock.url("/token"));
    assert_eq!(metadata["userinfo_endpoint"], mock.url("/userinfo"));
    assert_eq!(metadata["jwks_uri"], mock.url("/jwks"));
    assert_eq!(metadata["end_session_endpoint"], mock.url("/end_session"));
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert!(metadata
        .get("authorization_response_iss_parameter_supported")
        .is_none());

    mock.set(|k| {
        k.metadata_issuer = Some("https://elsewhere.example".into());
        k.advertise_end_session = false;
        k.advertise_iss_parameter = true;
    });
    let metadata: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["issuer"], "https://elsewhere.example");
    assert!(metadata.get("end_session_endpoint").is_none());
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(mock.hits("/.well-known/openid-configuration"), 2);

    let oauth2 = MockUpstream::start(Mode::OAuth2).await;
    assert_eq!(oauth2.mode, Mode::OAuth2);
    let response = http
        .get(oauth2.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn authorize_redirects_with_a_code_the_state_and_the_iss_asked_for() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let http = client();
    let (code, _, nonce) = authorize(&mock, &http).await;
    assert!(!code.is_empty());
    let seen = mock.authorize_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["nonce"], nonce);
    assert_eq!(seen[0]["code_challenge_method"], "S256");

    let query = [
        ("response_type", "code"),
        ("client_id", "gatehouse"),
        ("redirect_uri", REDIRECT),
        ("state", "st-2"),
    ];
    mock.set(|k| k.iss_param = Some(mock.issuer.clone()));
    let response = http
        .get(mock.url("/authorize"))
        .query(&query)
        .send()
        .await
        .unwrap();
    let (target, params) = location_query(&response);
    assert_eq!(target, REDIRECT);
    assert_eq!(params["state"], "st-2");
    assert_eq!(params["iss"], mock.issuer);
    assert!(params.contains_key("code"));

    mock.set(|k| k.authorize_error = Some("access_denied".into()));
    let response = http
        .get(mock.url("/authorize"))
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let (_, params) = location_query(&response);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st-2");
    assert!(!params.contains_key("code"));

    // An unknown client is not redirected.
    let response = http
        .get(mock.url("/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", "nobody"),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_code_is_exchanged_once_with_the_right_verifier_and_client() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let http = client();

    let (code, verifier, _) = authorize(&mock, &http).await;
    let (status, answer) = exchange(&mock, &http, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 300);
    assert!(answer["access_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(answer["id_token"].is_string());
    let requests: Vec<TokenRequest> = mock.token_requests();
    assert!(requests[0].used_basic());
    assert_eq!(requests[0].basic.as_ref().unwrap().1, mock.client_secret);
    assert_eq!(requests[0].form["code_verifier"], verifier);

    // Used once.
    let (status, answer) = exchange(&mock, &http, &code, &verifier).await;
    assert_eq!(
        (status, answer),
        (StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"}))
    );

    // A wrong verifier.
    let (code, _, _) = authorize(&mock, &http).await;
    let (status, answer) = exchange(
        &mock,
        &http,
        &code,
        "not-the-verifier-0123456789-0123456789-abc",
    )
    .await;
    assert_eq!(
        (status, answer),
        (StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"}))
    );

    // The secret in the body works too; a wrong one does not.
    let (code, verifier, _) = authorize(&mock, &http).await;
    let form = |secret: &str| {
        vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code.clone()),
            ("redirect_uri", REDIRECT.to_string()),
            ("code_verifier", verifier.clone()),
            ("client_id", mock.client_id.clone()),
            ("client_secret", secret.to_string()),
        ]
    };
    let response = http
        .post(mock.url("/token"))
        .form(&form("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (code, verifier, _) = authorize(&mock, &http).await;
    let response = http
        .post(mock.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", &mock.client_id),
            ("client_secret", &mock.client_secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!mock.token_requests().last().unwrap().used_basic());

    // Basic without the §2.3.1 encoding: the secret's `+` becomes a space.
    let (code, verifier, _) = authorize(&mock, &http).await;
    let response = http
        .post(mock.url("/token"))
        .basic_auth(&mock.client_id, Some(&mock.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    mock.set(|k| k.token_error = Some("temporarily_unavailable".into()));
    let (code, verifier, _) = authorize(&mock, &http).await;
    let (status, answer) = exchange(&mock, &http, &code, &verifier).await;
    assert_eq!(
        (status, answer),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "temporarily_unavailable"})
        )
    );
}

#[tokio::test]
async fn the_id_token_verifies_against_the_jwks_and_knobs_break_it() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let http = client();
    let (code, verifier, nonce) = authorize(&mock, &http).await;
    let (_, answer) = exchange(&mock, &http, &code, &verifier).await;
    let claims = verified(&mock, &http, answer["id_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims["sub"], mock.knobs().subject);
    assert_eq!(claims["aud"], mock.client_id);
    assert_eq!(claims["azp"], mock.client_id);
    assert_eq!(claims["nonce"], nonce);
    assert_eq!(claims["email"], "ada@corp.example");
    assert_eq!(claims["preferred_username"], "ada");
    let exp = claims["exp"].as_i64().unwrap();
    assert_eq!(exp - claims["iat"].as_i64().unwrap(), 300);

    mock.set(|k| k.wrong_aud = true);
    let (code, verifier, _) = authorize(&mock, &http).await;
    let (_, answer) = exchange(&mock, &http, &code, &verifier).await;
    let token = answer["id_token"].as_str().unwrap();
    let error = verified(&mock, &http, token).await.unwrap_err();
    assert_eq!(
        *error.kind(),
        jsonwebtoken::errors::ErrorKind::InvalidAudience
    );

    mock.set(|k| {
        k.wrong_aud = false;
        k.bad_signature = true;
    });
    let error = verified(&mock, &http, &mock.id_token(Some("n")))
        .await
        .unwrap_err();
    assert_eq!(
        *error.kind(),
        jsonwebtoken::errors::ErrorKind::InvalidSignature
    );

    mock.set(|k| {
        k.bad_signature = false;
        k.extra_aud_without_azp = true;
        k.stale_nonce = true;
        k.claims.insert("amr".into(), json!(["pwd", "otp"]));
        k.claims.insert("email".into(), Value::Null);
    });
    let claims = verified(&mock, &http, &mock.id_token(Some("n")))
        .await
        .unwrap();
    assert_eq!(claims["aud"], json!([mock.client_id, "other"]));
    assert!(claims.get("azp").is_none());
    assert_eq!(claims["nonce"], "a-nonce-from-another-sign-in");
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));
    assert!(claims.get("email").is_none());

    mock.set(|k| k.alg_none = true);
    let token = mock.id_token(Some("n"));
    assert!(token.ends_with('.'));
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "none");

    mock.set(|k| k.broken_jwks = true);
    let set: Value = http
        .get(mock.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(set, json!({"keys": "garbage"}));
}

#[tokio::test]
async fn userinfo_answers_for_an_issued_access_token_only() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let http = client();
    let (code, verifier, _) = authorize(&mock, &http).await;
    let (_, answer) = exchange(&mock, &http, &code, &verifier).await;
    let access_token = answer["access_token"].as_str().unwrap();

    let response = http
        .get(mock.url("/userinfo"))
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = http.get(mock.url("/userinfo")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let read = || async {
        let response = http
            .get(mock.url("/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<Value>().await.unwrap()
    };
    let claims = read().await;
    assert_eq!(claims["sub"], mock.knobs().subject);
    assert_eq!(claims["groups"], json!(["engineering"]));
    mock.set(|k| k.userinfo_sub = Some("someone-else".into()));
    assert_eq!(read().await["sub"], "someone-else");

    // OAuth 2.0, GitHub-style: no ID token, a numeric id.
    let github = MockUpstream::start(Mode::OAuth2).await;
    let (code, verifier, _) = authorize(&github, &http).await;
    let (status, answer) = exchange(&github, &http, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK);
    assert!(answer.get("id_token").is_none());
    let user: Value = http
        .get(github.url("/userinfo"))
        .bearer_auth(answer["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["id"], 4242);
    assert_eq!(user["login"], "ada");
}

#[tokio::test]
async fn end_session_is_recorded_and_redirects_back_with_the_state() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    let response = client()
        .get(mock.url("/end_session"))
        .query(&[
            ("id_token_hint", "a.b.c"),
            ("post_logout_redirect_uri", "http://127.0.0.1:9/signed-out"),
            ("state", "bye"),
            ("client_id", "gatehouse"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        response.headers()["location"],
        "http://127.0.0.1:9/signed-out?state=bye"
    );
    let seen = mock.end_session_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["id_token_hint"], "a.b.c");
}

#[tokio::test]
async fn a_hanging_token_endpoint_does_not_hold_up_the_others() {
    let mock = MockUpstream::start(Mode::Oidc).await;
    mock.set(|k| k.hang = Some("/token"));
    let impatient = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let (code, verifier, _) = authorize(&mock, &impatient).await;
    let started = Instant::now();
    let slow = impatient
        .post(mock.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &verifier),
        ])
        .send();
    let fast = async {
        // Asked while /token hangs.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let response = impatient.get(mock.url("/jwks")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        started.elapsed()
    };
    let (slow, fast) = tokio::join!(slow, fast);
    assert!(slow.unwrap_err().is_timeout());
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(fast < Duration::from_millis(400), "/jwks took {fast:?}");
}

#[tokio::test]
async fn seed_blocks_pass_gatehouses_own_checks() {
    let oidc = MockUpstream::start(Mode::Oidc).await;
    let github = MockUpstream::start(Mode::OAuth2).await;
    let read = |text: &str| {
        let path = std::env::temp_dir().join(format!(
            "gh-upstream-seed-{}.toml",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, text).unwrap();
        let result = gatehouse::seed::read(&path);
        let _ = std::fs::remove_file(&path);
        result
    };

    let block = oidc.seed_toml("corp", "");
    assert!(block.contains(&format!("issuer = \"{}\"", oidc.issuer)));
    assert!(block.contains("jit = true\n") && block.contains("mfa = false\n"));
    read(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));

    let block = oidc.seed_toml("corp", "jit = false\nmfa = true\nname = \"Corp\"");
    let lines = |key: &str| block.lines().filter(|l| l.starts_with(key)).count();
    assert_eq!(lines("jit ="), 1);
    assert_eq!(lines("mfa ="), 1);
    assert_eq!(lines("name ="), 2, "the upstream's and the claim's");
    assert!(block.contains("jit = false\n") && block.contains("mfa = true\n"));

    let both = format!(
        "{block}{}",
        github.seed_toml("hub", "link_by_verified_email = true")
    );
    assert!(both.contains(&format!("token_endpoint = \"{}\"", github.url("/token"))));
    assert!(both.contains("subject = \"id\"\nusername = \"login\""));
    read(&both).unwrap_or_else(|e| panic!("{e}\n{both}"));
}

/// The upstream record Gatehouse makes of the mock's seed block.
fn record(mock: &MockUpstream) -> gatehouse::model::UpstreamRecord {
    let file: toml::Value = toml::from_str(&mock.seed_toml("corp", "")).unwrap();
    let settings: gatehouse::admin::upstreams::UpstreamSettings =
        file["upstreams"][0].clone().try_into().unwrap();
    gatehouse::admin::upstreams::checked(&settings, None, 0).unwrap()
}

#[tokio::test]
async fn gatehouses_upstream_client_accepts_the_mock_and_refuses_each_broken_token() {
    use gatehouse::upstream_client::{id_token, UpstreamClient};
    let mock = MockUpstream::start(Mode::Oidc).await;
    let http = client();
    let upstream = record(&mock);
    // One sign-in's upstream half, as Gatehouse does it: the ID token's
    // claims, or the audit log's reason for refusing.
    let sign_in = || async {
        let gatehouse = UpstreamClient::new(5).expect("an HTTP client");
        let endpoints = gatehouse
            .endpoints(&upstream)
            .await
            .map_err(|e| e.reason())?;
        let (code, verifier, nonce) = authorize(&mock, &http).await;
        let tokens = gatehouse
            .exchange(&upstream, &endpoints, &code, &verifier, REDIRECT)
            .await
            .map_err(|e| e.reason())?;
        let expected = id_token::Expected {
            client_id: &mock.client_id,
            nonce: &nonce,
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64,
            auth_after: None,
        };
        let token = tokens.id_token.expect("an ID token");
        let claims = id_token::validate(&gatehouse, &endpoints, &token, &expected)
            .await
            .map_err(|e| e.reason())?;
        let userinfo = gatehouse
            .userinfo(endpoints.userinfo.as_deref().unwrap(), &tokens.access_token)
            .await
            .map_err(|e| e.reason())?;
        Ok::<_, &'static str>((claims, userinfo))
    };

    let (claims, userinfo) = sign_in().await.unwrap();
    assert_eq!(claims["sub"], mock.knobs().subject);
    assert_eq!(userinfo["sub"], claims["sub"]);
    assert!(
        mock.token_requests()[0].used_basic(),
        "Gatehouse's Basic credentials decode to the secret"
    );

    type Break = fn(&mut crate::helpers::mock_upstream::Knobs);
    let cases: [(Break, &str); 11] = [
        (
            |k| k.metadata_issuer = Some("https://evil.example".into()),
            "wrong_issuer",
        ),
        (|k| k.wrong_iss = true, "wrong_issuer"),
        (|k| k.wrong_aud = true, "wrong_audience"),
        (|k| k.extra_aud_without_azp = true, "wrong_azp"),
        (|k| k.bad_signature = true, "bad_signature"),
        (|k| k.stale_nonce = true, "wrong_nonce"),
        (|k| k.no_nonce = true, "wrong_nonce"),
        (|k| k.expired = true, "expired"),
        (|k| k.future_iat = true, "issued_in_future"),
        (|k| k.alg_none = true, "malformed"),
        (|k| k.broken_jwks = true, "bad_keys"),
    ];
    for (change, reason) in cases {
        mock.set(|k| *k = Default::default());
        mock.set(change);
        assert_eq!(sign_in().await.unwrap_err(), reason);
    }
    mock.set(|k| {
        *k = Default::default();
        k.token_error = Some("invalid_grant".into());
    });
    assert_eq!(sign_in().await.unwrap_err(), "error_response");
}

#[tokio::test]
async fn gatehouses_upstream_client_reads_the_github_style_user() {
    use gatehouse::upstream_client::{identity::identity, UpstreamClient};
    let github = MockUpstream::start(Mode::OAuth2).await;
    let http = client();
    let upstream = record(&github);
    let gatehouse = UpstreamClient::new(5).expect("an HTTP client");
    let endpoints = gatehouse.endpoints(&upstream).await.unwrap();
    let (code, verifier, _) = authorize(&github, &http).await;
    let tokens = gatehouse
        .exchange(&upstream, &endpoints, &code, &verifier, REDIRECT)
        .await
        .unwrap();
    assert!(tokens.id_token.is_none());
    assert!(
        !github.token_requests()[0].used_basic(),
        "OAuth 2.0-only: the secret in the body"
    );
    let user = gatehouse
        .userinfo(endpoints.userinfo.as_deref().unwrap(), &tokens.access_token)
        .await
        .unwrap();
    let found = identity(&user, &upstream.claims).unwrap();
    assert_eq!(found.subject, "4242");
    assert_eq!(found.username.as_deref(), Some("ada"));
    assert_eq!(found.email.as_deref(), Some("ada@corp.example"));
}
