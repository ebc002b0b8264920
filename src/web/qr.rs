//! QR codes for TOTP enrolment, drawn by Gatehouse itself as inline SVG (no
//! image service sees the key, and the CSP needs no exception).

use qrcodegen::{QrCode, QrCodeEcc};

/// An SVG drawing of `text` as a QR code, with the four-module quiet zone
/// scanners expect; `None` if the text is too long for a QR code.
pub fn svg(text: &str, label: &str) -> Option<String> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let border = 4;
    let size = code.size();
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let full = size + 2 * border;
    let label = label
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;");
    Some(format!(
        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {full} {full}\" \
         role=\"img\" aria-label=\"{label}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{full}\" height=\"{full}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_an_escaped_svg() {
        let svg = svg("otpauth://totp/x?secret=ABC", "QR code for \"x\" <y>").unwrap();
        assert!(svg.starts_with("<svg class=\"qr\""));
        assert!(svg.contains("aria-label=\"QR code for &quot;x&quot; &lt;y>\""));
        assert!(svg.contains("<path d=\"M"));
        assert!(svg.len() > 1000);
    }
}
