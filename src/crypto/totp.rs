//! TOTP (RFC 6238): SHA-1, 6 digits, 30-second steps, as authenticator apps
//! expect. A code from the previous step is accepted for clock drift; the
//! matched step is returned so the caller can refuse it a second time.

use totp_rs::{Algorithm, Secret, TOTP};

/// Step length in seconds.
pub const STEP: u64 = 30;

/// Builds the TOTP generator for a base32 secret; `None` if it is not valid
/// base32 or is too short.
fn generator(secret_base32: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_base32.trim().replace(' ', "").to_uppercase())
        .to_bytes()
        .ok()?;
    // totp-rs insists on 128-bit secrets; seeded secrets such as the classic
    // 80-bit JBSWY3DPEHPK3PXP are valid RFC 6238 keys, so build it unchecked.
    Some(TOTP::new_unchecked(Algorithm::SHA1, 6, 1, STEP, bytes))
}

/// Whether `secret_base32` is a usable TOTP key.
pub fn is_valid_secret(secret_base32: &str) -> bool {
    generator(secret_base32).is_some_and(|g| !g.secret.is_empty())
}

/// The code for unix time `now` (for tests and enrolment checks).
pub fn code_at(secret_base32: &str, now: u64) -> Option<String> {
    generator(secret_base32).map(|g| g.generate(now))
}

/// If `code` matches the current or the previous step at `now`, the step it
/// matched (newest first). Comparison is constant-time per candidate.
pub fn matching_step(secret_base32: &str, code: &str, now: u64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let generator = generator(secret_base32)?;
    let current = now / STEP;
    [current, current.saturating_sub(1)]
        .into_iter()
        .find(|step| super::constant_time_eq(&generator.generate(step * STEP), &code))
        .and_then(|step| i64::try_from(step).ok())
}

/// How far back a code is recognised as one that has expired (rather than
/// simply wrong), in steps: ten minutes.
const RECOGNISED_STALE_STEPS: u64 = 20;

/// Whether `code` is a well-formed code that was valid a little while ago
/// but is too old now, so the person can be told to use the newest one.
pub fn is_stale(secret_base32: &str, code: &str, now: u64) -> bool {
    let code = code.trim().replace(' ', "");
    let Some(generator) = generator(secret_base32) else {
        return false;
    };
    let current = now / STEP;
    (2..=RECOGNISED_STALE_STEPS)
        .filter_map(|back| current.checked_sub(back))
        .any(|step| super::constant_time_eq(&generator.generate(step * STEP), &code))
}

/// A new random key: 160 bits, the size RFC 4226 §4 recommends, in base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    match Secret::Raw(bytes.to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => unreachable!("to_encoded returns the encoded form"),
    }
}

/// The `otpauth://` URI authenticator apps read from the QR code (the Key
/// Uri Format used by Google Authenticator and compatible apps).
pub fn otpauth_uri(secret_base32: &str, issuer: &str, account: &str) -> String {
    let label: String = form_urlencoded::byte_serialize(format!("{issuer}:{account}").as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let issuer: String = form_urlencoded::byte_serialize(issuer.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!(
        "otpauth://totp/{label}?secret={secret_base32}&issuer={issuer}&algorithm=SHA1&digits=6&period={STEP}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXP";

    #[test]
    fn current_and_previous_steps_match() {
        let now = 1_700_000_015;
        let code = code_at(SECRET, now).unwrap();
        assert_eq!(matching_step(SECRET, &code, now), Some((now / 30) as i64));
        let previous = code_at(SECRET, now - 30).unwrap();
        assert_eq!(
            matching_step(SECRET, &previous, now),
            Some((now / 30 - 1) as i64)
        );
        let old = code_at(SECRET, now - 90).unwrap();
        assert_eq!(matching_step(SECRET, &old, now), None);
    }

    #[test]
    fn rfc6238_vector() {
        // RFC 6238 Appendix B, SHA-1, T = 59 → 94287082 (8 digits); 6 digits: 287082.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"
        assert_eq!(code_at(secret, 59).unwrap(), "287082");
    }

    #[test]
    fn stale_codes_are_recognised() {
        let now = 1_700_000_015;
        let old = code_at(SECRET, now - 120).unwrap();
        assert!(is_stale(SECRET, &old, now));
        let current = code_at(SECRET, now).unwrap();
        assert!(!is_stale(SECRET, &current, now));
        assert!(!is_stale(SECRET, "000000x", now));
    }

    #[test]
    fn new_secrets_are_usable_and_distinct() {
        let a = new_secret();
        assert_eq!(a.len(), 32);
        assert!(is_valid_secret(&a));
        assert_ne!(a, new_secret());
        let uri = otpauth_uri(&a, "Gatehouse Dev", "alice@example");
        assert!(uri.starts_with("otpauth://totp/Gatehouse%20Dev%3Aalice%40example?secret="));
        assert!(uri.contains("&issuer=Gatehouse%20Dev&"));
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(matching_step(SECRET, "12345", 0), None);
        assert_eq!(matching_step(SECRET, "abcdef", 0), None);
        assert!(!is_valid_secret("not base32!"));
        assert!(is_valid_secret(SECRET));
    }
}
