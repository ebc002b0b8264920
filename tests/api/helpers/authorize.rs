//! Authorization requests and the sign-in flow that answers them, from
//! GET /authorize to the code redeemed at the token endpoint.

use super::app::TestApp;
use super::http::{location, location_params, param};
use super::seed::{
    BOB_TOTP, CONFIDENTIAL, CONFIDENTIAL_REDIRECT, CONFIDENTIAL_SECRET, INTRANET, KIOSK,
    KIOSK_SECRET, NO_CONSENT, PORTAL, PUBLIC, PUBLIC_REDIRECT,
};
use reqwest::{Response, StatusCode};
use serde_json::Value;

/// PKCE verifier and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    let verifier = gatehouse::crypto::random_token();
    let challenge = gatehouse::oauth::pkce::challenge_of(&verifier);
    (verifier, challenge)
}

/// What a test asks the authorization endpoint for.
#[derive(Clone)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub nonce: String,
    pub verifier: Option<String>,
    pub extra: Vec<(String, String)>,
}

impl AuthRequest {
    /// The webapp client asking for offline access (a refresh token).
    pub fn offline() -> AuthRequest {
        AuthRequest {
            scope: "openid profile email offline_access".into(),
            ..AuthRequest::confidential()
        }
    }

    pub fn confidential() -> AuthRequest {
        let (verifier, _) = pkce_pair();
        AuthRequest {
            client_id: CONFIDENTIAL.into(),
            redirect_uri: CONFIDENTIAL_REDIRECT.into(),
            scope: "openid profile email".into(),
            state: gatehouse::crypto::random_token(),
            nonce: gatehouse::crypto::random_token(),
            verifier: Some(verifier),
            extra: Vec::new(),
        }
    }

    pub fn public() -> AuthRequest {
        AuthRequest {
            client_id: PUBLIC.into(),
            redirect_uri: PUBLIC_REDIRECT.into(),
            ..AuthRequest::confidential()
        }
    }

    /// The portal client (groups, roles, custom claims and APIs) asking for `scope`.
    pub fn portal(scope: &str) -> AuthRequest {
        AuthRequest {
            client_id: PORTAL.0.into(),
            redirect_uri: "http://127.0.0.1:9995/cb".into(),
            scope: scope.into(),
            ..AuthRequest::confidential()
        }
    }

    /// The intranet client, open to the engineering group only.
    pub fn intranet() -> AuthRequest {
        AuthRequest {
            client_id: INTRANET.0.into(),
            redirect_uri: "http://127.0.0.1:9994/cb".into(),
            scope: "openid profile offline_access".into(),
            ..AuthRequest::confidential()
        }
    }

    pub fn with(mut self, name: &str, value: &str) -> AuthRequest {
        self.extra.push((name.into(), value.into()));
        self
    }

    pub fn params(&self) -> Vec<(String, String)> {
        let mut p = vec![
            ("response_type".to_string(), "code".to_string()),
            ("client_id".into(), self.client_id.clone()),
            ("redirect_uri".into(), self.redirect_uri.clone()),
            ("scope".into(), self.scope.clone()),
            ("state".into(), self.state.clone()),
            ("nonce".into(), self.nonce.clone()),
        ];
        if let Some(v) = &self.verifier {
            p.push((
                "code_challenge".into(),
                gatehouse::oauth::pkce::challenge_of(v),
            ));
            p.push(("code_challenge_method".into(), "S256".into()));
        }
        p.extend(self.extra.iter().cloned());
        p
    }
}

impl TestApp {
    /// GET /authorize with the request's parameters.
    pub async fn authorize(&self, request: &AuthRequest) -> Response {
        self.browser
            .get(self.url("/authorize"))
            .query(&request.params())
            .send()
            .await
            .unwrap()
    }

    /// Signs in on the login page that `to_login` redirects to; returns the
    /// answer to the last form (password, or TOTP for users who have one).
    pub async fn sign_in(&self, to_login: &Response, username: &str, password: &str) -> Response {
        let page = self.follow(to_login).await;
        let answer = self
            .submit_form(
                page,
                "/login",
                &[("username", username), ("password", password)],
            )
            .await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "password accepted");
        if location(&answer).contains("/login/totp") {
            let page = self.follow(&answer).await;
            let code = self.totp_code();
            return self
                .submit_form(page, "/login/totp", &[("code", &code)])
                .await;
        }
        answer
    }

    /// The current TOTP code for bob at the server's clock.
    pub fn totp_code(&self) -> String {
        use gatehouse::clock::Clock;
        gatehouse::crypto::totp::code_at(BOB_TOTP, self.clock.now() as u64).unwrap()
    }

    /// Runs authorize → login (→ TOTP) → consent and returns the redirect
    /// to the client, with its parameters.
    pub async fn authorize_through(
        &self,
        request: &AuthRequest,
        username: &str,
        password: &str,
    ) -> Vec<(String, String)> {
        let first = self.authorize(request).await;
        assert_eq!(first.status(), StatusCode::FOUND, "authorize redirects");
        let mut current = if location(&first).contains("/login") {
            let signed_in = self.sign_in(&first, username, password).await;
            assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
            self.follow(&signed_in).await
        } else {
            first
        };
        if location(&current).contains("/consent") {
            let page = self.follow(&current).await;
            current = self
                .submit_form(page, "/consent", &[("decision", "allow")])
                .await;
        }
        let to = location(&current);
        assert!(
            to.starts_with(&request.redirect_uri),
            "ends at the client: {to}"
        );
        location_params(&current)
    }

    /// Completes the flow and redeems the code; returns the token response.
    pub async fn tokens_for(&self, request: &AuthRequest, username: &str, password: &str) -> Value {
        let params = self.authorize_through(request, username, password).await;
        let code = param(&params, "code").expect("a code");
        let response = self.redeem(request, &code).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// POSTs the code to the token endpoint as the request's client.
    pub async fn redeem(&self, request: &AuthRequest, code: &str) -> Response {
        let mut form = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code.to_string()),
            ("redirect_uri", request.redirect_uri.clone()),
        ];
        if let Some(v) = &request.verifier {
            form.push(("code_verifier", v.clone()));
        }
        let builder = self.api.post(self.url("/token"));
        let builder = match request.client_id.as_str() {
            CONFIDENTIAL => builder.basic_auth(CONFIDENTIAL, Some(CONFIDENTIAL_SECRET)),
            NO_CONSENT => builder.basic_auth(NO_CONSENT, Some("trusted-secret-0123456789")),
            KIOSK => builder.basic_auth(KIOSK, Some(KIOSK_SECRET)),
            "secure" => builder.basic_auth("secure", Some("secure-secret-0123456789")),
            "portal" => builder.basic_auth(PORTAL.0, Some(PORTAL.1)),
            "intranet" => builder.basic_auth(INTRANET.0, Some(INTRANET.1)),
            other => {
                form.push(("client_id", other.to_string()));
                builder
            }
        };
        builder.form(&form).send().await.unwrap()
    }
}
