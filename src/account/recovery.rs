//! Recovery codes: ten single-use codes shown once at enrolment, accepted in
//! place of a TOTP code. Each carries 60 random bits; only a SHA-256 of the
//! user id and the code is stored, so a leaked table yields no usable code.

use crate::crypto::{random_string, token_hash};

/// How many codes a set has.
pub const COUNT: usize = 10;

/// Letters and digits that cannot be mistaken for one another when read
/// aloud or typed from paper (no 0/o, 1/l/i).
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// 12 characters of a 31-letter alphabet: about 59 bits.
const LENGTH: usize = 12;

/// A new set: the codes to show once, and the hashes to store.
pub fn generate(user_id: &str) -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..COUNT)
        .map(|_| {
            let raw = random_string(ALPHABET, LENGTH);
            format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
        })
        .collect();
    let hashes = codes.iter().map(|c| hash(user_id, c)).collect();
    (codes, hashes)
}

/// The canonical form of what someone typed: lower case, without the
/// dashes and spaces; `None` if it cannot be a recovery code.
pub fn normalize(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The stored form of a code for this user (what was typed, normalised).
pub fn hash(user_id: &str, code: &str) -> String {
    let canonical = normalize(code).unwrap_or_default();
    token_hash(&format!("{user_id}:{canonical}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_readable_and_hashed_per_user() {
        let (codes, hashes) = generate("u1");
        assert_eq!(codes.len(), COUNT);
        assert_eq!(hashes.len(), COUNT);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), COUNT);
        for (code, h) in codes.iter().zip(&hashes) {
            assert_eq!(code.len(), 14);
            assert_eq!(&hash("u1", code), h);
            assert_ne!(&hash("u2", code), h);
            let typed = code.to_uppercase().replace('-', " ");
            assert_eq!(&hash("u1", &typed), h, "case and separators do not matter");
        }
    }

    #[test]
    fn normalize_refuses_what_cannot_be_a_code() {
        assert_eq!(normalize("123456"), None);
        assert_eq!(normalize("abcd-efgh-jkm0"), None);
        assert_eq!(normalize("ABCD EFGH JKMN").as_deref(), Some("abcdefghjkmn"));
    }
}
