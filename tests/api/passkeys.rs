//! Passkeys (W3C Web Authentication Level 3), with a software authenticator.

use crate::helpers::*;
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
