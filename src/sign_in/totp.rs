//! The one-time code method (RFC 6238 TOTP, or a single-use recovery code)
//! as the second factor (RFC 8176 `otp`): each code works once, and a
//! challenge allows `account::mfa::MAX_ATTEMPTS` codes before the password
//! is needed again.

use super::{second_factor, Outcome, Proof, SignInError, Verdict, Visitor};
use crate::account::mfa::{self, CodeCheck, Factor};
use crate::state::Provider;

/// The second factors the user of an open challenge may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offered {
    /// A code from an authenticator app (or a recovery code).
    pub code: bool,
    /// One of their passkeys (when passkeys are on).
    pub passkey: bool,
}

/// What the challenge named by the cookie value offers; `None` when it is
/// closed (expired, used up) or its user is gone, so the screen is not
/// worth showing.
pub async fn offered(provider: &Provider, challenge: &str) -> Result<Option<Offered>, SignInError> {
    let Some(open) = mfa::challenge(&provider.store, challenge, provider.now()).await? else {
        return Ok(None);
    };
    Ok(provider
        .store
        .user_by_id(&open.user_id)
        .await?
        .filter(|user| !user.disabled)
        .map(|user| Offered {
            code: user.totp_secret.is_some(),
            passkey: user.passkeys > 0 && provider.passkeys.is_ok(),
        }))
}

/// Confirms the challenge's user with `code`.
pub async fn sign_in(
    provider: &Provider,
    visitor: &Visitor,
    challenge: &str,
    code: &str,
) -> Result<Outcome, SignInError> {
    second_factor(provider, visitor, challenge, |user| async move {
        let now = provider.now();
        Ok(
            match mfa::check_code(&provider.store, challenge, &user, code, now).await? {
                CodeCheck::Accepted(factor) => Verdict::Proved(Proof {
                    user,
                    amr: &["otp"],
                    multi_factor: false,
                    factor: if factor == Factor::RecoveryCode {
                        "recovery_code"
                    } else {
                        "totp"
                    },
                    federation: Default::default(),
                }),
                CodeCheck::Rejected(factor) => Verdict::Refused {
                    user: Some(user),
                    reason: factor.reason(),
                    problem: factor.problem(),
                },
                CodeCheck::Exhausted => Verdict::StartAgain,
            },
        )
    })
    .await
}
