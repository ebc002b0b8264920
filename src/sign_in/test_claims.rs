//! Signing in as anyone without a browser, in test mode only: an
//! authorization request that carries `login_hint` and `test_claims` (the
//! text of a JSON object, `{}` for none) signs in as that persona
//! ([`anyone`]) at once, and goes on as a request resumed after the
//! sign-in screen would: to consent when the client asks for it, else back
//! to the client with a code. `groups` inside the claims sets the groups.
//!
//! A `test_claims` this cannot use (not JSON, not an object, a reserved
//! claim such as `sub`), or one without `login_hint`, is the client's
//! error: the client and its redirect URI are known good by then, so it
//! gets `invalid_request` at its redirect URI (RFC 6749 §4.1.2.1). Outside
//! test mode the parameter means nothing and is never read here.

use super::{anyone, Outcome, SignInError, SignedIn, Visitor};
use crate::oauth::error::ErrorCode;
use crate::oauth::journey::{self, Begin, Checked};
use crate::oauth::params::Params;
use crate::state::Provider;
use crate::store::StoreError;

/// The parameter that carries the claims.
pub const PARAMETER: &str = "test_claims";

/// Whether this request asks to sign in with its claims: in test mode, with
/// the parameter given.
pub fn asked(provider: &Provider, params: &Params) -> bool {
    provider.test_mode() && !matches!(params.get(PARAMETER), Ok(None))
}

/// Validates the authorization request, signs in as the persona it names
/// and moves it on. The new session, when there is one, goes with the
/// answer (its cookies are the browser's).
pub async fn authorize(
    provider: &Provider,
    visitor: &Visitor,
    params: &Params,
) -> Result<(Begin, Option<SignedIn>), SignInError> {
    let valid = match journey::check(provider, params).await? {
        Checked::Valid(valid) => valid,
        Checked::Ends(begin) => return Ok((begin, None)),
    };
    let to_client = |error: ErrorCode, description: &str| {
        let onward = journey::refuse(provider, &valid, error, &describable(description));
        Ok((Begin::Onward(onward), None))
    };
    if !provider.test_mode() {
        return to_client(
            ErrorCode::InvalidRequest,
            "test_claims works only in test mode",
        );
    }
    // `check` refused a repeated parameter already.
    let claims = params.get(PARAMETER).ok().flatten();
    let Some(username) = valid.request.login_hint.as_deref() else {
        return to_client(
            ErrorCode::InvalidRequest,
            "test_claims needs login_hint: the username to sign in as",
        );
    };
    let persona = match anyone::Persona::read(username, None, claims) {
        Ok(persona) => persona,
        Err(why) => return to_client(ErrorCode::InvalidRequest, &format!("test_claims: {why}")),
    };
    let done = match anyone::sign_in(provider, visitor, &persona).await? {
        Outcome::SignedIn(done) => done,
        Outcome::Refused(why) => return to_client(ErrorCode::AccessDenied, &why.message()),
        Outcome::SecondFactorDue { .. } | Outcome::StartAgain => {
            return Err(SignInError::Store(StoreError::Corrupt(
                "a test-mode sign-in did not end in a session".into(),
            )))
        }
    };
    let Some(session) = crate::account::session::current(provider, &done.cookie).await? else {
        return Err(SignInError::Store(StoreError::Corrupt(
            "the session a test-mode sign-in opened is gone".into(),
        )));
    };
    let onward = journey::continue_signed_in(provider, &valid, &session).await?;
    Ok((Begin::Onward(onward), Some(done)))
}

/// `text` as an `error_description` may carry it (RFC 6749 §4.1.2.1:
/// printable ASCII without `"` and `\`).
fn describable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c == ' ' || c.is_ascii_graphic() => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::describable;

    #[test]
    fn descriptions_keep_to_the_characters_rfc_6749_allows() {
        assert_eq!(
            describable("\"sub\" comes from the username\\ é"),
            "'sub' comes from the username/ ?"
        );
    }
}
