//! The profile and password a user manages from the account page. Inputs
//! are checked here, so the screens only have to show the sentence.

use super::{password, AccountError};
use crate::model::{Address, Profile, UserRecord};
use crate::store::Store;

/// Shortest password accepted (NIST SP 800-63B §5.1.1.2: at least 8).
pub const MIN_PASSWORD: usize = 8;
/// Longest password accepted, in bytes (`model::limits::PASSWORD`).
pub const MAX_PASSWORD: usize = crate::model::limits::PASSWORD;

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

/// Checks the standard claims (OpenID Connect Core §5.1) and puts them in
/// canonical form: trimmed, empty values dropped. The sentence if one is
/// not acceptable.
pub fn check_standard_claims(mut p: Profile) -> Result<Profile, String> {
    fn tidy(value: &mut Option<String>) {
        *value = value
            .take()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
    }
    let plain = |label: &str, value: &Option<String>| -> Result<(), String> {
        match value {
            Some(v) if v.chars().count() > 200 || v.chars().any(char::is_control) => Err(format!(
                "The {label} can have up to 200 characters, without line breaks."
            )),
            _ => Ok(()),
        }
    };
    for value in [
        &mut p.given_name,
        &mut p.family_name,
        &mut p.middle_name,
        &mut p.nickname,
        &mut p.picture,
        &mut p.website,
        &mut p.gender,
        &mut p.birthdate,
        &mut p.zoneinfo,
        &mut p.locale,
        &mut p.phone_number,
    ] {
        tidy(value);
    }
    for (label, value) in [
        ("given name", &p.given_name),
        ("family name", &p.family_name),
        ("middle name", &p.middle_name),
        ("nickname", &p.nickname),
        ("gender", &p.gender),
    ] {
        plain(label, value)?;
    }
    for (label, value) in [("picture", &p.picture), ("website", &p.website)] {
        if let Some(v) = value {
            let web = url::Url::parse(v)
                .ok()
                .is_some_and(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
            if !web || v.len() > 2000 {
                return Err(format!(
                    "The {label} must be a web address starting with https:// (or http://)."
                ));
            }
        }
    }
    if let Some(b) = &p.birthdate {
        if !is_birthdate(b) {
            return Err(
                "The birthdate must be written YYYY-MM-DD (or 0000-MM-DD, or just the year)."
                    .into(),
            );
        }
    }
    if let Some(z) = &p.zoneinfo {
        let shaped = z.len() <= 64
            && z.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
        if !shaped {
            return Err("The time zone must be a name like Europe/Paris.".into());
        }
    }
    if let Some(l) = &p.locale {
        let shaped = l.len() <= 35
            && l.split(['-', '_']).all(|part| {
                !part.is_empty()
                    && part.len() <= 8
                    && part.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        if !shaped {
            return Err("The locale must be a language tag like en-US.".into());
        }
    }
    if let Some(n) = &p.phone_number {
        let digits = n.chars().filter(char::is_ascii_digit).count();
        let shaped = (4..=20).contains(&digits)
            && n.len() <= 40
            && n.chars()
                .all(|c| c.is_ascii_digit() || " +-().;=x".contains(c) || c.is_ascii_alphabetic());
        if !shaped {
            return Err("The phone number must be like +1 555 123 4567.".into());
        }
    } else {
        p.phone_number_verified = false;
    }
    if let Some(a) = &mut p.address {
        for value in [
            &mut a.formatted,
            &mut a.street_address,
            &mut a.locality,
            &mut a.region,
            &mut a.postal_code,
            &mut a.country,
        ] {
            tidy(value);
        }
        let parts = [
            &a.formatted,
            &a.street_address,
            &a.locality,
            &a.region,
            &a.postal_code,
            &a.country,
        ];
        if parts
            .iter()
            .flat_map(|v| v.iter())
            .any(|v| v.chars().count() > 500 || v.chars().any(|c| c.is_control() && c != '\n'))
        {
            return Err("Each part of the address can have up to 500 characters.".into());
        }
    }
    if p.address.as_ref().is_some_and(Address::is_empty) {
        p.address = None;
    }
    Ok(p)
}

/// `YYYY-MM-DD`, `0000-MM-DD` (year withheld) or `YYYY` (§5.1).
fn is_birthdate(b: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|c| c.is_ascii_digit());
    match b.split('-').collect::<Vec<_>>().as_slice() {
        [y] => digits(y, 4),
        [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => {
            let (m, d): (u32, u32) = (m.parse().unwrap_or(0), d.parse().unwrap_or(0));
            (1..=12).contains(&m) && (1..=31).contains(&d)
        }
        _ => false,
    }
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

/// Changes the password after checking the current one. An account made
/// through an upstream provider has none: its first is set without one,
/// from a sign-in at most `passkeys::REAUTH_WINDOW` old (`recent`), like
/// adding a passkey.
pub async fn change_password(
    store: &Store,
    (user, recent): (&UserRecord, bool),
    current: &str,
    (new, repeated): (&str, &str),
    notice: Option<&crate::model::NewMail>,
    now: i64,
) -> Result<PasswordChange, AccountError> {
    if user.password_hash.is_empty() {
        if !recent {
            return Ok(PasswordChange::Refused(
                "To set a password, sign in again first: your last sign-in was more than 10 minutes ago.",
            ));
        }
    } else {
        let current_ok =
            password::verify_hash(user.password_hash.clone(), current.to_string()).await?;
        if !current_ok {
            return Ok(PasswordChange::WrongCurrent);
        }
    }
    if let Err(why) = check_new_password(&user.username, new, repeated) {
        return Ok(PasswordChange::Refused(why));
    }
    let hash = password::hash_password(new.to_string()).await?;
    store
        .set_password_hash(&user.id, &hash, notice, now)
        .await?;
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
