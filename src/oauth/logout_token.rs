//! The logout token (OpenID Connect Back-Channel Logout 1.0 §2.4): a JWT
//! signed with the provider's ID-token key, `typ: logout+jwt` (§2.4, and
//! RFC 8725 §3.11 explicit typing), with `iss`, `aud`, `iat`, `exp`, `jti`,
//! the back-channel logout event, `sid` and `sub`, and never a `nonce`
//! (§2.4: its presence would let it pass for an ID token).

use crate::crypto::jwt;
use crate::crypto::key_set::{KeyError, SigningKey};
use crate::model::LogoutNotice;
use serde::Serialize;
use serde_json::{json, Value};

/// The `typ` header of a logout token.
pub const TYP: &str = "logout+jwt";
/// The event a logout token carries (§2.4 `events`).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// How long a logout token is good for, in seconds: long enough for the
/// request carrying it, short enough that a captured one is soon useless.
pub const LIFETIME: i64 = 120;

/// The claims of a logout token.
#[derive(Debug, Clone, Serialize)]
pub struct LogoutClaims {
    /// The issuer.
    pub iss: String,
    /// The client told.
    pub aud: String,
    /// When it was signed.
    pub iat: i64,
    /// `iat` + [`LIFETIME`].
    pub exp: i64,
    /// The same on every attempt at one delivery, so a client told twice
    /// can drop the copy.
    pub jti: String,
    /// `{EVENT: {}}`.
    pub events: Value,
    /// The session that ended.
    pub sid: String,
    /// The user whose session it was.
    pub sub: String,
}

impl LogoutClaims {
    /// The claims for `notice`, signed at `now` under `jti`.
    pub fn new(issuer: &str, notice: &LogoutNotice, jti: &str, now: i64) -> LogoutClaims {
        LogoutClaims {
            iss: issuer.to_string(),
            aud: notice.client_id.clone(),
            iat: now,
            exp: now + LIFETIME,
            jti: jti.to_string(),
            events: json!({ EVENT: {} }),
            sid: notice.sid.clone(),
            sub: notice.sub.clone(),
        }
    }
}

/// Signs a logout token.
pub fn mint(key: &SigningKey, claims: &LogoutClaims) -> Result<String, KeyError> {
    jwt::sign(key, TYP, claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claims_carry_the_event_and_no_nonce() {
        let notice = LogoutNotice {
            client_id: "app".into(),
            sub: "user-1".into(),
            sid: "sid-1".into(),
        };
        let claims = LogoutClaims::new("https://id.example", &notice, "jti-1", 1000);
        let value = serde_json::to_value(&claims).unwrap();
        assert_eq!(value["aud"], "app");
        assert_eq!(value["exp"], 1120);
        assert_eq!(value["events"], json!({ EVENT: {} }));
        assert!(value.get("nonce").is_none());
    }
}
