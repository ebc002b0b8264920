//! The WebAuthn relying party (W3C Web Authentication Level 3), built once
//! from the issuer: the RP ID is the issuer's host (§5.1.2: a registrable
//! domain, so not an IP address), and the only origin accepted is the
//! issuer's own scheme, host and port (§7.1 step 9, §7.2 step 13). The
//! ceremonies themselves (challenge, signature, counter) are webauthn-rs'.

use webauthn_rs::prelude::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// The relying party for `issuer`, named `name` in the browser's dialog;
/// `Err` says why passkeys cannot be offered (an issuer on an IP address
/// has no RP ID: browsers refuse WebAuthn there).
pub fn relying_party(issuer: &str, name: &str) -> Result<Webauthn, String> {
    let url = Url::parse(issuer).map_err(|e| format!("the issuer is not a URL: {e}"))?;
    let Some(host) = url.domain() else {
        return Err(format!(
            "the issuer's host {:?} is not a domain name, which WebAuthn needs as the RP ID",
            url.host_str().unwrap_or_default()
        ));
    };
    let mut origin = url.clone();
    origin.set_path("");
    origin.set_query(None);
    origin.set_fragment(None);
    WebauthnBuilder::new(host, &origin)
        .and_then(|b| b.rp_name(name).build())
        .map_err(|e| format!("WebAuthn refused the issuer {issuer}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::relying_party;

    #[test]
    fn the_rp_id_is_the_issuers_host() {
        let rp = relying_party("https://id.example.com/tenant", "Example").unwrap();
        let origins: Vec<_> = rp
            .get_allowed_origins()
            .iter()
            .map(|u| u.as_str())
            .collect();
        assert_eq!(origins, ["https://id.example.com/"]);
    }

    #[test]
    fn an_ip_address_issuer_has_no_relying_party() {
        let why = relying_party("http://127.0.0.1:8080", "Example").unwrap_err();
        assert!(why.contains("not a domain name"), "{why}");
    }
}
