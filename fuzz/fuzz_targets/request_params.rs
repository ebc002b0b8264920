//! Form and query parsing (RFC 6749 §3.1: no repeated parameters) and the
//! authorization request validation behind it, on arbitrary bytes: never a
//! panic, and an accepted request always names the registered redirect URI.

#![no_main]

use gatehouse::oauth::authorize::validate;
use gatehouse::oauth::params::Params;
use gatehouse::model::{ClientRecord, Lifetimes};
use libfuzzer_sys::fuzz_target;

fn client() -> ClientRecord {
    ClientRecord {
        client_id: "app".into(),
        name: "App".into(),
        secret_hash: None,
        redirect_uris: vec![
            "https://app.example/cb".into(),
            "http://127.0.0.1:8080/cb".into(),
        ],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        scopes: vec!["openid".into(), "profile".into(), "offline_access".into()],
        require_consent: true,
        require_mfa: false,
        is_admin: false,
        lifetimes: Lifetimes::default(),
        apis: vec!["https://api.example/".into()],
        allowed_groups: vec![],
        introspects: vec![],
        roles: Default::default(),
        backchannel_logout_uri: None,
        backchannel_logout_session_required: false,
    }
}

fuzz_target!(|data: &[u8]| {
    let params = Params::parse(data);
    let _ = params.first_defect();
    for name in [
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code",
        "grant_type",
    ] {
        let _ = params.get(name);
    }
    let _ = params.to_query();
    let client = client();
    // RFC 8707 §2: an absolute URI without a fragment, at most once.
    if let Ok(Some(resource)) = gatehouse::oauth::resource::requested(&params) {
        assert!(!resource.contains('#'), "{resource:?}");
    }
    if let Ok(request) = validate(&params, Some(&client), Ok(None)) {
        assert!(client.redirect_uris.contains(&request.redirect_uri));
        assert!(request.scopes.iter().all(|s| client.scopes.contains(s)));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = gatehouse::redirect_uri::validate_redirect_uri(text);
    }
});
