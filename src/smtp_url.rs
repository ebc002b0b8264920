//! The `smtp_url` setting read into its parts, and the `From` address.
//!
//! `smtp://host[:port]` is plain SMTP (a local relay; port 25);
//! `smtp://host[:port]?tls=starttls` upgrades with STARTTLS and refuses to go
//! on without it (port 587); `smtps://host[:port]` speaks TLS from the first
//! byte (port 465, RFC 8314). `user:password@` before the host
//! authenticates; the password may come from `smtp_password` instead.

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// None: for a relay on this machine or a trusted network.
    Plain,
    /// STARTTLS, required.
    StartTls,
    /// TLS from the first byte.
    Tls,
}

/// The parts of `smtp_url`. `Debug` leaves out the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Plain, STARTTLS or TLS.
    pub security: SmtpSecurity,
    /// User name to authenticate with, if any.
    pub username: Option<String>,
    /// Its password, if given in the URL.
    pub password: Option<String>,
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Undoes the URL's percent-encoding of a user name or password.
fn decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl SmtpUrl {
    /// Reads `smtp_url`; the error is a sentence for the operator (it never
    /// repeats the URL, which may hold a password).
    pub fn parse(text: &str) -> Result<SmtpUrl, String> {
        let url = url::Url::parse(text)
            .map_err(|e| format!("smtp_url is not a URL ({e}); use smtp://host:port"))?;
        let mut tls = None;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "tls" if tls.is_none() => tls = Some(value.into_owned()),
                _ => {
                    return Err(format!(
                        "smtp_url: unknown or repeated parameter {key:?}; only tls=starttls is read"
                    ))
                }
            }
        }
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None | Some("none")) => (SmtpSecurity::Plain, 25),
            ("smtp", Some("starttls" | "required")) => (SmtpSecurity::StartTls, 587),
            ("smtps", None) => (SmtpSecurity::Tls, 465),
            ("smtp" | "smtps", Some(other)) => {
                return Err(format!(
                "smtp_url: tls={other:?} is not understood; use smtp://…?tls=starttls or smtps://"
            ))
            }
            (scheme, _) => {
                return Err(format!(
                    "smtp_url: the scheme {scheme:?} is not smtp or smtps"
                ))
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("smtp_url names no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err("smtp_url: nothing may follow the host and port but ?tls=starttls".into());
        }
        let username = (!url.username().is_empty()).then(|| decoded(url.username()));
        // Credentials over plain SMTP cross the network in the clear: only
        // a relay on this machine may take them that way.
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if username.is_some() && security == SmtpSecurity::Plain && !loopback {
            return Err(
                "smtp_url: credentials over plain SMTP would be sent in the clear; use ?tls=starttls or smtps://"
                    .into(),
            );
        }
        Ok(SmtpUrl {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            username,
            password: url.password().map(decoded),
        })
    }
}

/// The `From` address: `email_from` if set (it must be an address, with
/// or without a display name), else the product name at `noreply@` the
/// issuer's host.
pub fn from_address(
    email_from: Option<&str>,
    product_name: &str,
    issuer: &url::Url,
) -> Result<String, String> {
    let text = match email_from.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => text.to_string(),
        None => {
            let host = issuer.host_str().unwrap_or("localhost");
            let name = product_name.replace(['"', '\\', '<', '>'], "");
            format!("\"{name}\" <noreply@{host}>")
        }
    };
    text.parse::<lettre::message::Mailbox>()
        .map(|_| text.clone())
        .map_err(|e| {
            format!(
                "email_from {text:?} is not an address like \"Gatehouse <id@example.com>\": {e}"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_of_the_issue() {
        let plain = SmtpUrl::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.security),
            ("127.0.0.1", 2525, SmtpSecurity::Plain)
        );
        let starttls = SmtpUrl::parse("smtp://mail.example.com:587?tls=starttls").unwrap();
        assert_eq!(starttls.security, SmtpSecurity::StartTls);
        assert_eq!(starttls.port, 587);
        let tls = SmtpUrl::parse("smtps://me%40example.com:p%2Fss@mail.example.com").unwrap();
        assert_eq!(tls.security, SmtpSecurity::Tls);
        assert_eq!(tls.port, 465);
        assert_eq!(tls.username.as_deref(), Some("me@example.com"));
        assert_eq!(tls.password.as_deref(), Some("p/ss"));
        assert!(!format!("{tls:?}").contains("p/ss"));
    }

    #[test]
    fn what_it_refuses_never_repeats_the_password() {
        for bad in [
            "http://mail.example.com",
            "smtp://",
            "smtp://mail.example.com?tls=maybe",
            "smtps://mail.example.com?tls=starttls",
            "smtp://mail.example.com/path",
            "smtp://mail.example.com?x=1",
            "smtp://user:pass@mail.example.com:25",
            "not a url",
        ] {
            assert!(SmtpUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(SmtpUrl::parse("smtp://user:pass@127.0.0.1:2525").is_ok());
        let e = SmtpUrl::parse("smtp://u:hunter2@mail.example.com?tls=maybe").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn the_from_address_defaults_to_the_issuer_host() {
        let issuer = url::Url::parse("https://id.example.com/auth").unwrap();
        assert_eq!(
            from_address(None, "Acme ID", &issuer).unwrap(),
            "\"Acme ID\" <noreply@id.example.com>"
        );
        assert!(from_address(Some("not an address"), "x", &issuer).is_err());
        assert!(from_address(Some("Team <team@example.com>"), "x", &issuer).is_ok());
    }
}
