//! Which claims a token or the UserInfo endpoint releases about a user, by
//! scope (OpenID Connect Core §5.4): `profile`, `email`, `phone` and
//! `address` release the standard claims of §5.1; `groups` the names of the
//! user's groups (RFC 9068 §2.2.3.1 for access tokens); `roles` the roles
//! the user holds for the client (RFC 9068 §2.2.3.1 for an API's own
//! roles); a custom scope the user attributes it names. And the names a
//! custom attribute may never take.

use crate::model::{roles_held, ClientRecord, ScopeRecord, UserRecord};
use serde_json::{json, Map, Value};

/// Claims that mean something to the protocol: never a custom attribute.
pub const RESERVED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "nonce",
    "auth_time",
    "amr",
    "acr",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
    "client_id",
    "scope",
    "cnf",
    "act",
    "may_act",
    "groups",
    "roles",
];

/// The standard claims of §5.1, which have fields of their own.
pub const STANDARD: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
];

/// Scopes Gatehouse gives a meaning to: never the name of a custom scope.
pub const STANDARD_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
    "groups",
    "roles",
    crate::oauth::scopes::ADMIN_SCOPE,
];

/// Checks the name of a custom attribute.
pub fn check_claim_name(name: &str) -> Result<(), String> {
    if RESERVED.contains(&name) {
        return Err(format!(
            "{name:?} is a reserved claim name; custom claims cannot use it"
        ));
    }
    if STANDARD.contains(&name) {
        return Err(format!(
            "{name:?} is a standard claim; set it with the profile fields instead"
        ));
    }
    let shaped = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
    if !shaped {
        return Err(format!(
            "claim name {name:?}: use 1 to 64 letters, digits, '_', '-', '.' or ':'"
        ));
    }
    Ok(())
}

/// Checks a group name: `[a-z0-9][a-z0-9._-]*`, at most 64 characters.
pub fn check_group_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest_ok =
        bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !first_ok || !rest_ok || name.len() > 64 {
        return Err(format!(
            "group name {name:?}: use lowercase letters, digits, '.', '_' or '-', starting with a letter or digit (at most 64)"
        ));
    }
    Ok(())
}

/// Checks a role name: what tokens carry in `roles`.
pub fn check_role_name(name: &str) -> Result<(), String> {
    let shaped = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
    if !shaped {
        return Err(format!(
            "role name {name:?}: use 1 to 64 letters, digits, '_', '-', '.' or ':'"
        ));
    }
    Ok(())
}

/// Checks a scope value (RFC 6749 §3.3: printable ASCII but space, `"` and `\`).
pub fn check_scope_name(name: &str) -> Result<(), String> {
    let shaped = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b > b' ' && b != b'"' && b != b'\\' && b < 0x7f);
    if !shaped {
        return Err(format!("scope {name:?} has characters a scope cannot have"));
    }
    Ok(())
}

/// [`released`], and in test mode (`test_mode`) every custom claim of the
/// user as well, whatever the scope: a test that signed in with claims
/// expects to read them back.
pub fn released_for(
    test_mode: bool,
    user: &UserRecord,
    scopes: &[&str],
    client: &ClientRecord,
    custom: &[ScopeRecord],
) -> Map<String, Value> {
    let mut out = released(user, scopes, client, custom);
    if test_mode {
        for (name, value) in &user.claims {
            out.entry(name.clone()).or_insert_with(|| value.clone());
        }
    }
    out
}

/// The claims `scopes` release about `user` to `client`, for the ID token
/// and UserInfo (`sub` is added by the caller).
pub fn released(
    user: &UserRecord,
    scopes: &[&str],
    client: &ClientRecord,
    custom: &[ScopeRecord],
) -> Map<String, Value> {
    let mut out = Map::new();
    let has = |s: &str| scopes.contains(&s);
    if has("profile") {
        out.insert("preferred_username".into(), json!(user.username));
        if let Some(name) = &user.name {
            out.insert("name".into(), json!(name));
        }
        let p = &user.profile;
        for (claim, value) in [
            ("given_name", &p.given_name),
            ("family_name", &p.family_name),
            ("middle_name", &p.middle_name),
            ("nickname", &p.nickname),
            ("picture", &p.picture),
            ("website", &p.website),
            ("gender", &p.gender),
            ("birthdate", &p.birthdate),
            ("zoneinfo", &p.zoneinfo),
            ("locale", &p.locale),
        ] {
            if let Some(v) = value {
                out.insert(claim.into(), json!(v));
            }
        }
        out.insert("updated_at".into(), json!(user.updated_at));
    }
    if has("email") {
        if let Some(email) = &user.email {
            out.insert("email".into(), json!(email));
            out.insert("email_verified".into(), json!(user.email_verified));
        }
    }
    if has("phone") {
        if let Some(phone) = &user.profile.phone_number {
            out.insert("phone_number".into(), json!(phone));
            out.insert(
                "phone_number_verified".into(),
                json!(user.profile.phone_number_verified),
            );
        }
    }
    if has("address") {
        if let Some(address) = user.profile.address.as_ref().filter(|a| !a.is_empty()) {
            out.insert("address".into(), json!(address));
        }
    }
    if has("groups") {
        out.insert("groups".into(), json!(user.groups));
    }
    if has("roles") {
        out.insert(
            "roles".into(),
            json!(roles_held(&client.roles, &user.groups)),
        );
    }
    for scope in custom.iter().filter(|c| has(&c.name)) {
        for claim in &scope.claims {
            if let Some(value) = user.claims.get(claim) {
                out.insert(claim.clone(), value.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_standard_names_are_refused() {
        for name in RESERVED.iter().chain(STANDARD) {
            assert!(check_claim_name(name).is_err(), "{name}");
        }
        assert!(check_claim_name("tenant").is_ok());
        assert!(check_claim_name("").is_err());
        assert!(check_claim_name("has space").is_err());
    }

    #[test]
    fn group_names_follow_the_pattern() {
        for ok in ["engineering", "a", "0ps", "team.a_b-c"] {
            assert!(check_group_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Engineering", "-x", ".x", "a b", "é", &"a".repeat(65)] {
            assert!(check_group_name(bad).is_err(), "{bad}");
        }
    }
}
