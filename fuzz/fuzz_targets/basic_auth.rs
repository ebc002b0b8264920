//! The `Authorization: Basic` parser (RFC 6749 §2.3.1, form-urlencoded
//! credentials inside base64) on arbitrary header values: never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = std::str::from_utf8(data) {
        let _ = gatehouse::oauth::client_auth::parse_basic(header);
    }
});
