//! The profile and password a user manages from the account page. Inputs
//! are checked here, so the screens only have to show the sentence.

use super::{password, AccountError};
use crate::model::UserRecord;
use crate::store::Store;

/// Shortest password accepted (NIST SP 800-63B §5.1.1.2: at least 8).
pub const MIN_PASSWORD: usize = 8;
/// Longest password accepted, in bytes: argon2 hashes anything, but a
/// megabyte password is an attack on the CPU, not a password.
pub const MAX_PASSWORD: usize = 1024;

/// A checked display name and email address (either may be cleared).
pub fn check_profile(
    name: Option<&str>,
    email: Option<&str>,
) -> Result<(Option<String>, Option<String>), &'static str> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    if let Some(n) = name {
        if n.chars().count() > 200 || n.chars().any(char::is_control) {
            return Err("Your name can have up to 200 characters, without line breaks.");
        }
    }
    if let Some(e) = email {
        if !looks_like_email(e) {
            return Err(
                "That email address doesn't look right. It should be like name@example.com.",
            );
        }
    }
    Ok((name.map(str::to_string), email.map(str::to_string)))
}

/// A deliberately loose check (one `@`, something on each side, a dot in
/// the domain, no spaces): the real test of an address is mail reaching it.
fn looks_like_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    e.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether `new` is acceptable as the password of `username`; the sentence
/// if not.
pub fn check_new_password(username: &str, new: &str, repeated: &str) -> Result<(), &'static str> {
    if new != repeated {
        return Err("The two new passwords are different. Type the same password twice.");
    }
    if new.chars().count() < MIN_PASSWORD {
        return Err("Choose a password of at least 8 characters.");
    }
    if new.len() > MAX_PASSWORD {
        return Err("That password is too long: use at most 1024 characters.");
    }
    if new.eq_ignore_ascii_case(username) {
        return Err("Your password can't be your username.");
    }
    Ok(())
}

/// How a password change went.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordChange {
    /// The new password is in place.
    Changed,
    /// The current password was wrong (a failed attempt, to be throttled).
    WrongCurrent,
    /// The new password was not acceptable: the sentence to show.
    Refused(&'static str),
}

/// Changes the password after checking the current one.
pub async fn change_password(
    store: &Store,
    user: &UserRecord,
    current: &str,
    new: &str,
    repeated: &str,
    now: i64,
) -> Result<PasswordChange, AccountError> {
    let current_ok = password::verify_hash(user.password_hash.clone(), current.to_string()).await?;
    if !current_ok {
        return Ok(PasswordChange::WrongCurrent);
    }
    if let Err(why) = check_new_password(&user.username, new, repeated) {
        return Ok(PasswordChange::Refused(why));
    }
    let hash = password::hash_password(new.to_string()).await?;
    store.set_password_hash(&user.id, &hash, now).await?;
    tracing::info!(user_id = %user.id, "password changed");
    Ok(PasswordChange::Changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_checks() {
        assert_eq!(
            check_profile(Some("  Ada  "), Some("ada@example.com")),
            Ok((Some("Ada".into()), Some("ada@example.com".into())))
        );
        assert_eq!(check_profile(Some(""), None), Ok((None, None)));
        assert!(check_profile(None, Some("ada")).is_err());
        assert!(check_profile(None, Some("ada@example")).is_err());
        assert!(check_profile(None, Some("a@@example.com")).is_err());
        assert!(check_profile(None, Some("a b@example.com")).is_err());
        assert!(check_profile(Some("line\nbreak"), None).is_err());
    }
}
