//! The local fields read out of an upstream's claims (the ID token's,
//! merged with userinfo's) by the upstream's claim mapping. A path is a
//! claim name, or dotted names into nested JSON objects (`user.login`), as
//! an OAuth 2.0-only userinfo answer may nest them.

use super::UpstreamError;
use crate::model::ClaimMapping;
use serde_json::{Map, Value};

/// The most upstream groups read from one answer.
pub const MAX_GROUPS: usize = 200;

/// Who the upstream says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The upstream's stable id for the account.
    pub subject: String,
    /// The name it suggests for a local account.
    pub username: Option<String>,
    /// The address it gives.
    pub email: Option<String>,
    /// Whether it says it verified that address.
    pub email_verified: bool,
    /// The display name.
    pub name: Option<String>,
    /// The upstream's group names.
    pub groups: Vec<String>,
}

/// The value at `path` in `claims`: the claim named exactly so first (a
/// claim name may contain dots, as URL-like names do), then dotted steps.
pub fn at<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    let mut steps = path.split('.');
    let mut value = claims.get(steps.next()?)?;
    for step in steps {
        value = value.as_object()?.get(step)?;
    }
    Some(value)
}

/// A string, or a number written out (GitHub's ids are numbers).
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads the local fields out of `claims`; the subject is required.
pub fn identity(
    claims: &Map<String, Value>,
    mapping: &ClaimMapping,
) -> Result<Identity, UpstreamError> {
    // The subject exactly as sent: trimming could make two accounts one.
    let subject = match at(claims, &mapping.subject) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
    .filter(|s| s.len() <= 255)
    .ok_or_else(|| {
        UpstreamError::BadAnswer(format!(
            "no {:?} claim to identify the account",
            mapping.subject
        ))
    })?;
    let email_verified = match at(claims, &mapping.email_verified) {
        Some(Value::Bool(b)) => *b,
        // Some providers send it as a string.
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    let groups = match at(claims, &mapping.groups) {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|g| text(Some(g)))
            .take(MAX_GROUPS)
            .collect(),
        Some(one) => text(Some(one)).into_iter().collect(),
        None => vec![],
    };
    Ok(Identity {
        subject,
        username: text(at(claims, &mapping.username)),
        email: text(at(claims, &mapping.email)),
        email_verified,
        name: text(at(claims, &mapping.name)),
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_reach_into_nested_objects_and_numbers_become_text() {
        let claims = json!({"id": 42, "user": {"login": "octo"}, "email": "o@example.com",
                            "teams": ["a", "b"], "verified": "true"});
        let mapping = ClaimMapping {
            subject: "id".into(),
            username: "user.login".into(),
            email_verified: "verified".into(),
            groups: "teams".into(),
            ..ClaimMapping::standard()
        };
        let found = identity(claims.as_object().unwrap(), &mapping).unwrap();
        assert_eq!(found.subject, "42");
        assert_eq!(found.username.as_deref(), Some("octo"));
        assert_eq!(found.email.as_deref(), Some("o@example.com"));
        assert!(found.email_verified);
        assert_eq!(found.groups, vec!["a", "b"]);
        assert_eq!(found.name, None);
    }

    #[test]
    fn a_subject_is_required() {
        let claims = json!({"email": "x@example.com"});
        assert!(identity(claims.as_object().unwrap(), &ClaimMapping::standard()).is_err());
    }
}
