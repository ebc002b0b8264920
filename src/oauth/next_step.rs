//! What an authorization request needs next once it is valid: a sign-in,
//! consent, or nothing (OpenID Connect Core §3.1.2.1 `prompt` and
//! `max_age`, §3.1.2.4 consent, §3.1.2.6 errors for `prompt=none`), with
//! the client's MFA policy and its access policy (only members of its
//! allowed groups get a code; others `access_denied`).

use super::authorize::{AuthorizeRequest, ErrorRedirect};
use super::error::ErrorCode;
use crate::model::{ClientRecord, SessionRecord};

/// What the user must do before a code can be issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// Sign in (again).
    Login,
    /// Nothing can be done: the user is not in the client's allowed groups.
    NoAccess,
    /// Set up two-step verification, which the client requires and the
    /// user does not have yet.
    EnrolMfa,
    /// Replace a password an admin set.
    ChangePassword,
    /// Agree to share the requested scopes.
    Consent,
    /// Nothing: issue the code.
    Issue,
}

/// The browser's signed-in user, as far as the next step cares.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn<'a> {
    /// The session.
    pub session: &'a SessionRecord,
    /// Whether the user has a second factor enrolled.
    pub has_second_factor: bool,
    /// Whether an admin set the password, which must now be replaced.
    pub must_change_password: bool,
    /// The user's groups.
    pub groups: &'a [String],
}

/// Decides the next step for `request` given the browser's session and the
/// consent already on record; `prompt=none` turns any needed interaction
/// into the matching error (OpenID Connect Core §3.1.2.1, §3.1.2.6).
pub fn next_step(
    request: &AuthorizeRequest,
    client: &ClientRecord,
    signed_in: Option<SignedIn<'_>>,
    consented: &[String],
    now: i64,
) -> Result<NextStep, ErrorRedirect> {
    let login = || {
        if request.prompts("none") {
            Err(request.error(ErrorCode::LoginRequired, "the user must sign in"))
        } else {
            Ok(NextStep::Login)
        }
    };
    let Some(SignedIn {
        session,
        has_second_factor,
        must_change_password,
        groups,
    }) = signed_in
    else {
        return login();
    };
    // The sign-in the request found when it came in, not yet replaced by a
    // fresh one (the sid carries over a re-authentication; the cookie does
    // not).
    let stale = request.reauth_of.as_deref() == Some(session.cookie_hash.as_str());
    let too_old = request.max_age.is_some_and(|max| {
        now - session.auth_time > max && session.auth_time < request.requested_at
    });
    if stale || too_old {
        return login();
    }
    if !client.admits(groups) {
        return if request.prompts("none") {
            Err(request.error(
                ErrorCode::AccessDenied,
                "the user is not allowed to use this application",
            ))
        } else {
            Ok(NextStep::NoAccess)
        };
    }
    if must_change_password {
        return if request.prompts("none") {
            Err(request.error(
                ErrorCode::InteractionRequired,
                "the user must choose a new password first",
            ))
        } else {
            Ok(NextStep::ChangePassword)
        };
    }
    if client.require_mfa && !crate::model::multi_factor(&session.amr) {
        if has_second_factor {
            return login();
        }
        return if request.prompts("none") {
            Err(request.error(
                ErrorCode::InteractionRequired,
                "this client requires two-step verification, which the user must set up first",
            ))
        } else {
            Ok(NextStep::EnrolMfa)
        };
    }
    let covered = request
        .consent_keys(client)
        .iter()
        .all(|s| consented.contains(s));
    let needs_consent = client.require_consent && (request.prompts("consent") || !covered);
    if needs_consent {
        return if request.prompts("none") {
            Err(request.error(
                ErrorCode::ConsentRequired,
                "the user has not consented to these scopes",
            ))
        } else {
            Ok(NextStep::Consent)
        };
    }
    Ok(NextStep::Issue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::authorize::tests::test_fixtures::{client, params};
    use crate::oauth::authorize::validate;

    #[test]
    fn next_step_follows_session_consent_and_prompt() {
        let c = client(true);
        let mut r = validate(&params(""), Some(&c), Ok(None)).unwrap();
        let s = SessionRecord {
            sid: "sid1".into(),
            cookie_hash: "sign-in-1".into(),
            user_id: "u".into(),
            auth_time: 1000,
            amr: "pwd".into(),
            expires_at: 9999,
        };
        let signed = Some(SignedIn {
            session: &s,
            has_second_factor: false,
            must_change_password: false,
            groups: &[],
        });
        let openid = ["openid".to_string()];
        assert_eq!(next_step(&r, &c, None, &[], 1000), Ok(NextStep::Login));
        assert_eq!(next_step(&r, &c, signed, &[], 1000), Ok(NextStep::Consent));
        assert_eq!(
            next_step(&r, &c, signed, &openid, 1000),
            Ok(NextStep::Issue)
        );
        r.max_age = Some(10);
        r.requested_at = 1005;
        assert_eq!(
            next_step(&r, &c, signed, &openid, 1011),
            Ok(NextStep::Login)
        );
        r.requested_at = 999;
        assert_eq!(
            next_step(&r, &c, signed, &openid, 1011),
            Ok(NextStep::Issue),
            "signed in after the request came in"
        );
        r.max_age = None;
        r.reauth_of = Some("sign-in-1".into());
        assert_eq!(
            next_step(&r, &c, signed, &openid, 1000),
            Ok(NextStep::Login)
        );
        // Signed in again, in the same second: the sid carried over, the
        // sign-in is new.
        let again = SessionRecord {
            cookie_hash: "sign-in-2".into(),
            ..s.clone()
        };
        let fresh = Some(SignedIn {
            session: &again,
            has_second_factor: false,
            must_change_password: false,
            groups: &[],
        });
        assert_eq!(next_step(&r, &c, fresh, &openid, 1000), Ok(NextStep::Issue));
        r.reauth_of = None;
        r.prompt = vec!["none".into()];
        let error = |result: Result<NextStep, ErrorRedirect>| result.unwrap_err().error;
        assert_eq!(
            error(next_step(&r, &c, None, &[], 1000)),
            ErrorCode::LoginRequired
        );
        assert_eq!(
            error(next_step(&r, &c, signed, &[], 1000)),
            ErrorCode::ConsentRequired
        );
    }

    #[test]
    fn clients_limited_to_groups_admit_only_members() {
        let mut c = client(true);
        c.allowed_groups = vec!["engineering".into()];
        let mut r = validate(&params(""), Some(&c), Ok(None)).unwrap();
        let s = SessionRecord {
            sid: "sid1".into(),
            cookie_hash: "sign-in-1".into(),
            user_id: "u".into(),
            auth_time: 1000,
            amr: "pwd".into(),
            expires_at: 9999,
        };
        let openid = ["openid".to_string()];
        let member = ["engineering".to_string()];
        let outsider = ["sales".to_string()];
        let as_member = |groups| {
            Some(SignedIn {
                session: &s,
                has_second_factor: false,
                must_change_password: false,
                groups,
            })
        };
        assert_eq!(
            next_step(&r, &c, as_member(&member), &openid, 1000),
            Ok(NextStep::Issue)
        );
        assert_eq!(
            next_step(&r, &c, as_member(&outsider), &openid, 1000),
            Ok(NextStep::NoAccess)
        );
        assert_eq!(
            next_step(&r, &c, as_member(&[]), &openid, 1000),
            Ok(NextStep::NoAccess)
        );
        r.prompt = vec!["none".into()];
        assert_eq!(
            next_step(&r, &c, as_member(&outsider), &openid, 1000)
                .unwrap_err()
                .error,
            ErrorCode::AccessDenied
        );
    }

    #[test]
    fn clients_requiring_mfa_need_an_otp_session() {
        let mut c = client(true);
        c.require_mfa = true;
        let r = validate(&params(""), Some(&c), Ok(None)).unwrap();
        let mut s = SessionRecord {
            sid: "sid1".into(),
            cookie_hash: "sign-in-1".into(),
            user_id: "u".into(),
            auth_time: 1000,
            amr: "pwd".into(),
            expires_at: 9999,
        };
        let openid = ["openid".to_string()];
        let with_totp = Some(SignedIn {
            session: &s,
            has_second_factor: true,
            must_change_password: false,
            groups: &[],
        });
        assert_eq!(
            next_step(&r, &c, with_totp, &openid, 1000),
            Ok(NextStep::Login),
            "step up"
        );
        let without = Some(SignedIn {
            session: &s,
            has_second_factor: false,
            must_change_password: false,
            groups: &[],
        });
        assert_eq!(
            next_step(&r, &c, without, &openid, 1000),
            Ok(NextStep::EnrolMfa),
            "taken through enrolment first"
        );
        let mut silent = r.clone();
        silent.prompt = vec!["none".into()];
        assert_eq!(
            next_step(&silent, &c, without, &openid, 1000)
                .unwrap_err()
                .error,
            ErrorCode::InteractionRequired
        );
        s.amr = "pwd otp".into();
        let strong = Some(SignedIn {
            session: &s,
            has_second_factor: true,
            must_change_password: false,
            groups: &[],
        });
        assert_eq!(
            next_step(&r, &c, strong, &openid, 1000),
            Ok(NextStep::Issue)
        );
    }
}
