//! User codes (RFC 8628 §6.1): what a person reads off a device and types
//! on another screen. Eight letters from twenty consonants (no vowels, so
//! no words; none that look like digits), about 34 bits, shown as
//! `XXXX-XXXX`. What is typed is read leniently: any case, with or without
//! the dash, with spaces.

use crate::crypto::{random_string, token_hash};

/// The letters a user code is made of.
pub const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// Letters in a user code.
pub const LENGTH: usize = 8;

/// A fresh user code, normalised (no dash).
pub fn generate() -> String {
    random_string(ALPHABET, LENGTH)
}

/// What was typed, normalised: upper case, dashes and white space dropped;
/// `None` unless that leaves exactly [`LENGTH`] letters of [`ALPHABET`].
pub fn normalise(typed: &str) -> Option<String> {
    if typed.len() > crate::model::limits::USER_CODE_TYPED {
        return None;
    }
    let letters: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = letters.len() == LENGTH && letters.bytes().all(|b| ALPHABET.contains(&b));
    valid.then_some(letters)
}

/// A normalised code as people see it: `BCDF-GHJK`.
pub fn display(code: &str) -> String {
    match (code.get(..LENGTH / 2), code.get(LENGTH / 2..)) {
        (Some(head), Some(tail)) if code.len() == LENGTH => format!("{head}-{tail}"),
        _ => code.to_string(),
    }
}

/// How a normalised code is stored and looked up.
pub fn hash(code: &str) -> String {
    token_hash(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_are_read_leniently() {
        assert_eq!(normalise("bcdf-ghjk").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalise(" BCDF GHJK ").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalise("BCDFGHJK").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalise("BCDF-GHJ"), None, "too short");
        assert_eq!(normalise("BCDF-GHJKL"), None, "too long");
        assert_eq!(
            normalise("ABCD-EFGH"),
            None,
            "vowels are not in the alphabet"
        );
        assert_eq!(normalise("BCDF-GHJ1"), None, "digits neither");
        assert_eq!(normalise(""), None);
    }

    #[test]
    fn generated_codes_are_eight_letters_of_the_alphabet() {
        for _ in 0..100 {
            let code = generate();
            assert_eq!(normalise(&code).as_deref(), Some(code.as_str()));
        }
        assert_eq!(display("BCDFGHJK"), "BCDF-GHJK");
    }
}
