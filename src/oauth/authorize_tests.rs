//! Unit tests of request validation, and the fixtures the next-step tests
//! share.

/// Fixtures shared by the authorize and next-step unit tests.
pub(crate) mod test_fixtures {
    use super::super::*;

    /// A client registered for `https://app.example/cb`.
    pub(crate) fn client(public: bool) -> ClientRecord {
        ClientRecord {
            client_id: "app".into(),
            name: "App".into(),
            secret_hash: (!public).then(|| "h".into()),
            redirect_uris: vec!["https://app.example/cb".into()],
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: vec!["openid".into(), "profile".into(), "offline_access".into()],
            require_consent: true,
            require_mfa: false,
            is_admin: false,
            lifetimes: Default::default(),
            apis: vec![],
            allowed_groups: vec![],
            introspects: vec![],
            roles: Default::default(),
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
        }
    }

    /// The RFC 7636 Appendix B challenge.
    pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    /// A valid request for that client, plus `extra` query text.
    pub(crate) fn params(extra: &str) -> Params {
        Params::parse(
            format!(
                "client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code&scope=openid&state=s1&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}"
            )
            .as_bytes(),
        )
    }
}

mod validation {
    use super::super::*;
    use super::test_fixtures::*;

    fn redirect_error(result: Result<AuthorizeRequest, AuthorizeError>) -> ErrorCode {
        match result {
            Err(AuthorizeError::Redirect(e)) => {
                assert_eq!(e.state.as_deref(), Some("s1"));
                e.error
            }
            other => panic!("expected a redirect error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_request_validates() {
        let r = validate(
            &params("&nonce=n&prompt=login&max_age=60"),
            Some(&client(true)),
            Ok(None),
        )
        .unwrap();
        assert_eq!(r.scopes, vec!["openid"]);
        assert_eq!(r.max_age, Some(60));
        assert!(r.prompts("login"));
    }

    #[test]
    fn untrusted_redirects_are_never_followed() {
        for bad in [
            "client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%2F",
            "client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1",
            "client_id=app&redirect_uri=https%3A%2F%2Fapp.example%3A444%2Fcb",
            "client_id=app",
        ] {
            let r = validate(
                &Params::parse(bad.as_bytes()),
                Some(&client(false)),
                Ok(None),
            );
            assert!(matches!(r, Err(AuthorizeError::Untrusted(_))), "{bad}");
        }
        assert!(matches!(
            validate(&params(""), None, Ok(None)),
            Err(AuthorizeError::Untrusted(_))
        ));
    }

    #[test]
    fn errors_after_validation_redirect() {
        let c = client(true);
        assert_eq!(
            redirect_error(validate(&params("&scope=admin"), Some(&c), Ok(None))),
            ErrorCode::InvalidRequest
        );
        let only = |q: &str| {
            Params::parse(
                format!("client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=s1{q}")
                    .as_bytes(),
            )
        };
        assert_eq!(
            redirect_error(validate(
                &only("&response_type=token&scope=openid"),
                Some(&c),
                Ok(None)
            )),
            ErrorCode::UnsupportedResponseType
        );
        assert_eq!(
            redirect_error(validate(
                &only("&response_type=code&scope=openid"),
                Some(&c),
                Ok(None)
            )),
            ErrorCode::InvalidRequest,
            "a public client without PKCE"
        );
        assert_eq!(
            redirect_error(validate(
                &only("&response_type=code&scope=email"),
                Some(&c),
                Ok(None)
            )),
            ErrorCode::InvalidScope
        );
        assert_eq!(
            redirect_error(validate(
                &only(&format!("&response_type=code&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=plain")),
                Some(&c),
                Ok(None)
            )),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirect_error(validate(
                &params("&prompt=none%20login"),
                Some(&c),
                Ok(None)
            )),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirect_error(validate(&params("&max_age=-1"), Some(&c), Ok(None))),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            redirect_error(validate(&params("&request=x"), Some(&c), Ok(None))),
            ErrorCode::RequestNotSupported
        );
    }

    #[test]
    fn confidential_clients_may_skip_pkce() {
        let p = Params::parse(b"client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code&scope=openid");
        assert!(validate(&p, Some(&client(false)), Ok(None)).is_ok());
    }
}
