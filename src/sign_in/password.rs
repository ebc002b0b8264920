//! The password method: a username and a password, as the first factor
//! (RFC 8176 `pwd`). An unknown name, a disabled account and a wrong
//! password take the same time and get the same sentence; only the audit
//! log tells them apart.

use super::{first_factor, Outcome, Proof, Refusal, SignInError, Verdict, Visitor};
use crate::account::password::check_password;
use crate::model::limits;
use crate::state::Provider;

/// What the person is told for any refused username and password.
pub const WRONG_CREDENTIALS: &str =
    "That username and password don't match. Check them and try again.";

/// Checks the pair, without any side effect.
async fn check(
    provider: &Provider,
    username: &str,
    password: &str,
) -> Result<Verdict, SignInError> {
    let (user, matches) = check_password(&provider.store, username, password).await?;
    let reason = match &user {
        None => "unknown_user",
        Some(u) if u.disabled => "disabled",
        Some(_) if !matches => "wrong_password",
        Some(_) => "",
    };
    match user {
        Some(user) if reason.is_empty() => Ok(Verdict::Proved(Proof {
            user,
            amr: &["pwd"],
            multi_factor: false,
            factor: "password",
            federation: Default::default(),
        })),
        user => Ok(Verdict::Refused {
            user,
            reason,
            problem: WRONG_CREDENTIALS,
        }),
    }
}

/// Signs in with a username and password.
#[tracing::instrument(skip(provider, visitor, password), fields(username = %username))]
pub async fn sign_in(
    provider: &Provider,
    visitor: &Visitor,
    username: &str,
    password: &str,
) -> Result<Outcome, SignInError> {
    // No account has a longer username or password: refused before the
    // attempt counts against anyone or argon2 hashes anything.
    if username.chars().count() > limits::USERNAME || password.len() > limits::PASSWORD {
        return Ok(Outcome::Refused(Refusal::TooLong));
    }
    first_factor(
        provider,
        visitor,
        username,
        check(provider, username, password),
    )
    .await
}
