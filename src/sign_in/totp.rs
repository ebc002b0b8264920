//! The one-time code method (RFC 6238 TOTP, or a single-use recovery code)
//! as the second factor (RFC 8176 `otp`): each code works once, and a
//! challenge allows `account::mfa::MAX_ATTEMPTS` codes before the password
//! is needed again.

use super::{second_factor, Outcome, Proof, SignInError, Verdict, Visitor};
use crate::account::mfa::{self, CodeCheck, Factor};
use crate::state::Provider;

/// Whether the challenge named by the cookie value is still open, so the
/// code screen is worth showing.
pub async fn challenge_open(provider: &Provider, challenge: &str) -> Result<bool, SignInError> {
    Ok(mfa::challenge(&provider.store, challenge, provider.now())
        .await?
        .is_some())
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
