//! Discovery (OpenID Connect Discovery 1.0, RFC 8414) and the JWKS.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn both_metadata_documents_describe_this_provider() {
    let app = spawn_app().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK);
        let meta: Value = response.json().await.unwrap();
        assert_eq!(meta["issuer"], app.address);
        for (field, path) in [
            ("authorization_endpoint", "/authorize"),
            ("token_endpoint", "/token"),
            ("userinfo_endpoint", "/userinfo"),
            ("jwks_uri", "/jwks"),
        ] {
            assert_eq!(meta[field], app.url(path), "{field}");
        }
        assert_eq!(
            meta["response_types_supported"],
            serde_json::json!(["code"])
        );
        assert_eq!(
            meta["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
        assert_eq!(
            meta["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256"])
        );
        for scope in ["phone", "address", "groups", "roles"] {
            assert!(
                meta["scopes_supported"]
                    .as_array()
                    .unwrap()
                    .contains(&scope.into()),
                "{scope}"
            );
        }
        for claim in ["given_name", "phone_number", "address", "groups", "roles"] {
            assert!(
                meta["claims_supported"]
                    .as_array()
                    .unwrap()
                    .contains(&claim.into()),
                "{claim}"
            );
        }
    }
}

#[tokio::test]
async fn every_advertised_endpoint_answers() {
    let app = spawn_app().await;
    let meta: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    for field in ["authorization_endpoint", "jwks_uri", "userinfo_endpoint"] {
        let url = meta[field].as_str().unwrap();
        let status = app.api.get(url).send().await.unwrap().status();
        assert_ne!(status, StatusCode::NOT_FOUND, "{field}");
        assert!(!status.is_server_error(), "{field}");
    }
    let token = app
        .api
        .post(meta["token_endpoint"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn jwks_publishes_the_current_and_the_next_rsa_key() {
    let app = spawn_app().await;
    let jwks: Value = app.get("/jwks").await.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(
        keys.len(),
        2,
        "the signing key and the next one, published ahead of use"
    );
    for key in keys {
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none(), "no private parts");
        let n = key["n"].as_str().unwrap();
        assert_eq!(
            key["kid"],
            gatehouse::crypto::key_set::rsa_thumbprint(n, key["e"].as_str().unwrap())
        );
        use base64::Engine;
        let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(n)
            .unwrap();
        assert_eq!(modulus.len(), 256, "RSA-2048");
    }
    let signing = app.provider.keys().await.signing.kid.clone();
    assert!(keys.iter().any(|k| k["kid"] == signing.as_str()));
}
