//! Client authentication at the token endpoint (RFC 6749 §2.3.1, OpenID
//! Connect Core §9): `client_secret_basic`, `client_secret_post`, and `none`
//! for public clients. Secrets are compared by SHA-256 in constant time.

use super::params::Params;
use super::token_error::TokenError;
use crate::crypto::{constant_time_eq, token_hash};
use crate::model::ClientRecord;
use crate::store::Store;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Credentials as presented, before they are checked.
#[derive(Debug, Default)]
pub struct Presented {
    /// From `Authorization: Basic`, already decoded.
    pub basic: Option<(String, String)>,
    /// `client_id` form parameter.
    pub client_id: Option<String>,
    /// `client_secret` form parameter.
    pub client_secret: Option<String>,
}

impl Presented {
    /// The client id claimed, whichever way it came ("" if none).
    pub fn client_id(&self) -> &str {
        self.basic
            .as_ref()
            .map(|(id, _)| id.as_str())
            .or(self.client_id.as_deref())
            .unwrap_or("")
    }
}

/// Authenticates the client as [`authenticate`] does, and records a failed
/// attempt in the audit log (a secret being guessed), whichever endpoint
/// it came to.
pub async fn authenticate_recorded(
    provider: &crate::state::Provider,
    presented: &Presented,
    ip: &str,
) -> Result<ClientRecord, TokenError> {
    let result = authenticate(&provider.store, presented).await;
    if let Err(TokenError::InvalidClient { .. }) = &result {
        let event = crate::audit_log::Event::new(
            "token.client_auth_failure",
            crate::audit_log::Actor::Anonymous,
        )
        .client(presented.client_id())
        .ip(ip);
        provider.audit.record(provider.now(), event).await;
    }
    result
}

/// Parses an `Authorization` header value that uses the Basic scheme: base64
/// of `client_id:client_secret`, each form-urlencoded (RFC 6749 §2.3.1).
/// Returns `Ok(None)` for other schemes.
pub fn parse_basic(header: &str) -> Result<Option<(String, String)>, TokenError> {
    let Some((scheme, value)) = header.trim().split_once(' ') else {
        return if header.trim().eq_ignore_ascii_case("basic") {
            Err(TokenError::basic("empty Basic credentials"))
        } else {
            Ok(None)
        };
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let bad = || TokenError::basic("malformed Basic credentials");
    let decoded = STANDARD.decode(value.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> Result<String, TokenError> {
        let plus_as_space = s.replace('+', " ");
        url_decode(&plus_as_space).ok_or_else(bad)
    };
    let (id, secret) = (unescape(id)?, unescape(secret)?);
    if id.is_empty() || id.contains('\0') || secret.contains('\0') {
        return Err(bad());
    }
    Ok(Some((id, secret)))
}

fn url_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Presented {
    /// Collects the credentials from the header (already parsed) and the form.
    pub fn from_request(
        basic: Option<(String, String)>,
        params: &Params,
    ) -> Result<Presented, TokenError> {
        let dup = |d: super::params::Duplicate| TokenError::InvalidRequest(d.to_string());
        Ok(Presented {
            basic,
            client_id: params.get("client_id").map_err(dup)?.map(str::to_string),
            client_secret: params
                .get("client_secret")
                .map_err(dup)?
                .map(str::to_string),
        })
    }
}

/// Authenticates the client, returning its record.
pub async fn authenticate(
    store: &Store,
    presented: &Presented,
) -> Result<ClientRecord, TokenError> {
    let via_basic = presented.basic.is_some();
    let (client_id, secret) = match (&presented.basic, &presented.client_secret) {
        (Some(_), Some(_)) => {
            return Err(TokenError::InvalidRequest(
                "use one client authentication method, not two".into(),
            ))
        }
        (Some((id, secret)), None) => {
            if presented
                .client_id
                .as_ref()
                .is_some_and(|form_id| form_id != id)
            {
                return Err(TokenError::InvalidRequest(
                    "client_id differs from the authenticated client".into(),
                ));
            }
            (id.as_str(), Some(secret.as_str()))
        }
        (None, secret) => match &presented.client_id {
            Some(id) => (id.as_str(), secret.as_deref()),
            None => {
                return Err(TokenError::InvalidClient {
                    description: "client authentication is missing".into(),
                    basic: false,
                })
            }
        },
    };
    let failed = || TokenError::InvalidClient {
        description: "client authentication failed".into(),
        basic: via_basic,
    };
    let client = store.client(client_id).await?.ok_or_else(failed)?;
    match (&client.secret_hash, secret) {
        (Some(expected), Some(given)) if constant_time_eq(expected, &token_hash(given)) => {
            Ok(client)
        }
        (None, None) => Ok(client),
        // A public client presenting a secret, or a confidential one without.
        _ => Err(failed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_decoded() {
        // "my%20app:s%3Ae+cret" → ("my app", "s:e cret")
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Ae+cret"));
        assert_eq!(
            parse_basic(&header).unwrap(),
            Some(("my app".to_string(), "s:e cret".to_string()))
        );
        assert_eq!(parse_basic("Bearer abc").unwrap(), None);
        assert!(parse_basic("Basic !!!").is_err());
        assert!(parse_basic(&format!("Basic {}", STANDARD.encode("nocolon"))).is_err());
        assert!(parse_basic(&format!("Basic {}", STANDARD.encode(":secret"))).is_err());
        assert!(parse_basic(&format!("Basic {}", STANDARD.encode("a:%zz"))).is_err());
        assert!(parse_basic("Basic").is_err());
        assert!(parse_basic(&format!("Basic {}", STANDARD.encode("a%00:b"))).is_err());
    }
}
