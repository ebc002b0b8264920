//! The longest values Gatehouse accepts, in one place (README "Limits").
//! RFC 6749 §4.1.1 and OpenID Connect Core §3.1.2.1 set no maximum for
//! `state`, `nonce` or `login_hint`, but every one of them is kept with a
//! pending sign-in and `state` is echoed back to the client, so each has a
//! bound; a value over it is refused with a clear error, never stored,
//! truncated or echoed. They live with the plain values because every
//! layer checks some of them: the protocol (`oauth`), accounts, the admin
//! use cases and the screens. Lengths are in bytes of UTF-8 unless a
//! constant says characters.

/// `state` at `/authorize` and `/end_session`: room for a signed,
/// base64-encoded return address, as some client libraries send.
pub const STATE: usize = 2048;
/// `nonce` at `/authorize`; it is copied into the ID token.
pub const NONCE: usize = 512;
/// `login_hint` at `/authorize`: a username or an email address (RFC 5321
/// §4.5.3.1 allows 254 characters).
pub const LOGIN_HINT: usize = 256;
/// `code_challenge` at `/authorize` and `code_verifier` at `/token`
/// (RFC 7636 §4.1: a verifier has at most 128 characters; an S256
/// challenge has exactly 43).
pub const CODE_CHALLENGE: usize = 128;
/// `scope`, the whole space-separated list.
pub const SCOPE: usize = 2048;
/// `redirect_uri` and `post_logout_redirect_uri`.
pub const REDIRECT_URI: usize = 2048;
/// `client_id`; registered ids have at most 100 characters.
pub const CLIENT_ID: usize = 128;
/// A username, in characters.
pub const USERNAME: usize = 64;
/// A password: argon2 hashes anything, but a megabyte password is an
/// attack on the CPU, not a password.
pub const PASSWORD: usize = 1024;
/// Any one field of a form posted to the screens (the admin screens'
/// lists and claims included); the whole body is limited to
/// `web::MAX_BODY` (64 KiB).
pub const FORM_FIELD: usize = 16 * 1024;

/// The name and limit of the first `(name, value, limit)` whose value is
/// longer than its limit, if any.
pub fn first_too_long<'a>(checks: &[(&'a str, Option<&str>, usize)]) -> Option<(&'a str, usize)> {
    checks
        .iter()
        .find(|(_, value, limit)| value.is_some_and(|v| v.len() > *limit))
        .map(|(name, _, limit)| (*name, *limit))
}

/// A user code typed on the device screen (RFC 8628 §6.1: eight letters,
/// shown with a dash; room for spaces and dashes people add). A wrong
/// code this long or shorter is shown back for correcting; a longer one
/// is not looked up.
pub const USER_CODE_TYPED: usize = 20;

/// Whether `username` is one a user may have: 1 to [`USERNAME`] characters,
/// no spaces or control characters.
pub fn username_ok(username: &str) -> bool {
    !username.is_empty()
        && username.chars().count() <= USERNAME
        && !username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_value_over_its_limit_is_named() {
        let long = "x".repeat(NONCE + 1);
        let exact = "x".repeat(NONCE);
        assert_eq!(first_too_long(&[("nonce", Some(&exact), NONCE)]), None);
        assert_eq!(first_too_long(&[("nonce", None, NONCE)]), None);
        assert_eq!(
            first_too_long(&[
                ("state", Some("s"), STATE),
                ("nonce", Some(&long), NONCE),
                ("login_hint", Some(&long), LOGIN_HINT),
            ]),
            Some(("nonce", NONCE))
        );
    }
}
