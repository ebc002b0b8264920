//! Redirect URIs: the rules a registered one must follow (RFC 6749 §3.1.2,
//! RFC 8252 §7.3 and §8.3 for loopback, RFC 9700 §2.1 for exact matching),
//! and the browser origin each stands for (CORS).

/// Checks a redirect URI a client registers: absolute, no fragment, no
/// wildcard, https unless it points at the loopback interface (or is a
/// private-use scheme for native apps).
pub fn validate_redirect_uri(uri: &str) -> Result<(), String> {
    let parsed = url::Url::parse(uri).map_err(|e| format!("not an absolute URI ({e})"))?;
    if parsed.fragment().is_some() {
        return Err("must not contain a fragment".into());
    }
    if uri.contains('*') {
        return Err("must not contain a wildcard".into());
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => match parsed.host_str() {
            Some("localhost") | Some("127.0.0.1") | Some("[::1]") => Ok(()),
            _ => Err("http is only allowed for loopback addresses; use https".into()),
        },
        // Private-use URI schemes for native apps (RFC 8252 §7.1) contain a dot.
        scheme if scheme.contains('.') => Ok(()),
        scheme => Err(format!("scheme {scheme:?} is not allowed")),
    }
}

/// Checks a client's `backchannel_logout_uri` (Back-Channel Logout 1.0
/// §2.2: an absolute URL, no fragment): https, or http when its host is
/// the loopback interface (`localhost`, 127.0.0.0/8, `::1`) or the host of
/// one of the client's own http `redirect_uris` (a client developed
/// against plain http on that host). Any other http host is refused: a
/// logout token sent in the clear to a third host could be read on the way.
pub fn validate_backchannel_logout_uri(uri: &str, redirect_uris: &[String]) -> Result<(), String> {
    let parsed = url::Url::parse(uri).map_err(|e| format!("not an absolute URL ({e})"))?;
    if parsed.fragment().is_some() {
        return Err("must not contain a fragment".into());
    }
    if uri.contains('*') {
        return Err("must not contain a wildcard".into());
    }
    let Some(host) = parsed.host().filter(|h| !h.to_string().is_empty()) else {
        return Err("must name a host".into());
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&host) || is_http_redirect_host(&host, redirect_uris) => Ok(()),
        "http" => Err(
            "http is only allowed for loopback addresses or the host of one of \
                       the client's http redirect URIs; use https"
                .into(),
        ),
        scheme => Err(format!("scheme {scheme:?} is not allowed: use https")),
    }
}

/// Whether `host` is the loopback interface.
fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Whether one of `redirect_uris` is an http URI on `host`.
fn is_http_redirect_host(host: &url::Host<&str>, redirect_uris: &[String]) -> bool {
    redirect_uris.iter().any(|r| {
        url::Url::parse(r).is_ok_and(|r| {
            r.scheme() == "http" && r.host().is_some_and(|h| h.to_owned() == host.to_owned())
        })
    })
}

/// The origin (`scheme://host[:port]`) of a URL, as browsers send it.
pub fn origin_of(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    match url.origin() {
        url::Origin::Tuple(..) => Some(url.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        assert!(validate_redirect_uri("https://app.example/cb").is_ok());
        assert!(validate_redirect_uri("http://127.0.0.1:9999/callback").is_ok());
        assert!(validate_redirect_uri("http://localhost/cb").is_ok());
        assert!(validate_redirect_uri("com.example.app:/cb").is_ok());
        assert!(validate_redirect_uri("http://app.example/cb").is_err());
        assert!(validate_redirect_uri("https://app.example/cb#x").is_err());
        assert!(validate_redirect_uri("https://*.example/cb").is_err());
        assert!(validate_redirect_uri("/relative").is_err());
        assert!(validate_redirect_uri("javascript:alert(1)").is_err());
    }

    #[test]
    fn backchannel_logout_uri_rules() {
        let none: &[String] = &[];
        let check =
            |uri: &str, redirects: &[String]| validate_backchannel_logout_uri(uri, redirects);
        let http_rp = ["http://rp.internal:8080/cb".to_string()];
        let loopback_rp = ["http://127.0.0.1:9990/cb".to_string()];
        let https_rp = ["https://rp.internal/cb".to_string()];
        assert!(check("https://rp.example/logout", none).is_ok());
        assert!(check("http://127.0.0.1:8080/logout", none).is_ok());
        assert!(check("http://127.0.0.2/logout", none).is_ok());
        assert!(check("http://[::1]:8080/logout", none).is_ok());
        assert!(check("http://localhost/logout", none).is_ok());
        assert!(check("http://LOCALHOST/logout", none).is_ok());
        assert!(check("http://rp.example/logout", none).is_err());
        assert!(check("http://rp.internal/logout", &http_rp).is_ok());
        assert!(check("http://rp.internal/logout", &loopback_rp).is_err());
        assert!(check("http://rp.internal/logout", &https_rp).is_err());
        assert!(check("http://128.0.0.1/logout", &loopback_rp).is_err());
        assert!(check("https://rp.example/logout#x", none).is_err());
        assert!(check("com.example.app:/logout", &http_rp).is_err());
        assert!(check("/logout", &http_rp).is_err());
        assert!(check("javascript:alert(1)", &http_rp).is_err());
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(
            origin_of("http://localhost:5173/callback").as_deref(),
            Some("http://localhost:5173")
        );
        assert_eq!(
            origin_of("https://app.example/cb?x=1").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            origin_of("https://app.example:443/cb").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(origin_of("com.example.app:/cb"), None);
    }
}
