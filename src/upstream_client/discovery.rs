//! An OpenID Connect upstream's metadata (OpenID Connect Discovery 1.0
//! §4): read from `{issuer}/.well-known/openid-configuration`, kept for
//! [`FRESH_FOR`], and refused unless its `issuer` is exactly the one
//! configured (§4.3), so that a provider cannot speak for another.

use super::{acceptable_url, Endpoints, UpstreamClient, UpstreamError};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long metadata read once is used without asking again.
pub const FRESH_FOR: Duration = Duration::from_secs(600);

/// Metadata by issuer, with when it was read.
#[derive(Debug, Default)]
pub struct Cache(Mutex<HashMap<String, (Endpoints, Instant)>>);

/// The endpoints `issuer` publishes.
pub async fn endpoints(client: &UpstreamClient, issuer: &str) -> Result<Endpoints, UpstreamError> {
    let cached = client
        .metadata
        .0
        .lock()
        .ok()
        .and_then(|map| map.get(issuer).cloned());
    if let Some((endpoints, read)) = cached {
        if read.elapsed() < FRESH_FOR {
            return Ok(endpoints);
        }
    }
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let metadata = client.read_json(client.http.get(&url)).await?;
    let endpoints = parse(issuer, &metadata)?;
    if let Ok(mut map) = client.metadata.0.lock() {
        map.insert(issuer.to_string(), (endpoints.clone(), Instant::now()));
    }
    Ok(endpoints)
}

/// Whether `url`'s host is this machine, a private network or link-local.
fn internal(url: &str) -> bool {
    use std::net::IpAddr;
    let Ok(parsed) = url::Url::parse(url) else {
        return true;
    };
    let ip = match parsed.host() {
        Some(url::Host::Domain(name)) => {
            return name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        None => return true,
    };
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The endpoints `issuer` published, if read and still fresh, without
/// asking it.
pub fn cached(client: &UpstreamClient, issuer: &str) -> Option<Endpoints> {
    let map = client.metadata.0.lock().ok()?;
    let (endpoints, read) = map.get(issuer)?;
    (read.elapsed() < FRESH_FOR).then(|| endpoints.clone())
}

/// Reads the endpoints out of `metadata`, checking it speaks for `issuer`.
pub fn parse(issuer: &str, metadata: &Value) -> Result<Endpoints, UpstreamError> {
    let text = |name: &str| metadata.get(name).and_then(Value::as_str);
    // Plain http only for a provider on this machine: an https provider's
    // metadata cannot point Gatehouse at plain http, nor at this machine or
    // a private network.
    let fits = |u: &str| {
        acceptable_url(u)
            && (issuer.starts_with("http://") || (u.starts_with("https://") && !internal(u)))
    };
    let url = |name: &str| -> Result<Option<String>, UpstreamError> {
        match text(name) {
            None => Ok(None),
            Some(u) if fits(u) => Ok(Some(u.to_string())),
            Some(_) => Err(UpstreamError::BadAnswer(format!(
                "metadata {name} is not an https URL"
            ))),
        }
    };
    let named = text("issuer").unwrap_or_default();
    if named != issuer {
        return Err(UpstreamError::WrongIssuer(format!(
            "metadata names {named:?}, expected {issuer:?}"
        )));
    }
    let required = |name: &str| -> Result<String, UpstreamError> {
        url(name)?.ok_or_else(|| UpstreamError::BadAnswer(format!("metadata lacks {name}")))
    };
    let methods: Vec<&str> = metadata
        .get("token_endpoint_auth_methods_supported")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Ok(Endpoints {
        issuer: Some(issuer.to_string()),
        authorization: required("authorization_endpoint")?,
        token: required("token_endpoint")?,
        userinfo: url("userinfo_endpoint")?,
        jwks_uri: Some(required("jwks_uri")?),
        end_session: url("end_session_endpoint")?,
        iss_parameter_supported: metadata
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        // §9 of Core: client_secret_basic is the default when none is listed.
        secret_in_body: !methods.is_empty()
            && !methods.contains(&"client_secret_basic")
            && methods.contains(&"client_secret_post"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata(issuer: &str) -> Value {
        json!({
            "issuer": issuer,
            "authorization_endpoint": "https://idp.example.com/authorize",
            "token_endpoint": "https://idp.example.com/token",
            "jwks_uri": "https://idp.example.com/jwks",
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        })
    }

    #[test]
    fn metadata_must_name_the_configured_issuer() {
        let ok = parse(
            "https://idp.example.com",
            &metadata("https://idp.example.com"),
        )
        .unwrap();
        assert_eq!(ok.token, "https://idp.example.com/token");
        assert!(ok.secret_in_body);
        assert!(!ok.iss_parameter_supported);
        let wrong = parse(
            "https://idp.example.com",
            &metadata("https://evil.example.com"),
        );
        assert!(matches!(wrong, Err(UpstreamError::WrongIssuer(_))));
    }

    #[test]
    fn an_https_provider_cannot_point_at_this_machine_or_a_private_network() {
        for internal in [
            "http://127.0.0.1:5432/keys",
            "https://127.0.0.1:8443/keys",
            "https://localhost/keys",
            "https://10.0.0.5/keys",
            "https://169.254.169.254/latest",
            "https://[::1]/keys",
        ] {
            let mut m = metadata("https://idp.example.com");
            m["jwks_uri"] = json!(internal);
            assert!(
                matches!(
                    parse("https://idp.example.com", &m),
                    Err(UpstreamError::BadAnswer(_))
                ),
                "{internal}"
            );
        }
    }

    #[test]
    fn endpoints_must_be_https() {
        let mut m = metadata("https://idp.example.com");
        m["token_endpoint"] = json!("http://idp.example.com/token");
        assert!(matches!(
            parse("https://idp.example.com", &m),
            Err(UpstreamError::BadAnswer(_))
        ));
    }
}
