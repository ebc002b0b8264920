//! The messages' templates, embedded in the binary: for each message an
//! HTML part (escaped, built on `email/base.html` with the product's name,
//! accent colour and logo) and a plain-text part.

use serde::Serialize;
use std::sync::OnceLock;
use tera::{Context, Tera};

/// Every message template, HTML and text.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "email/base.html",
        include_str!("../../templates/email/base.html"),
    ),
    (
        "email/button.html",
        include_str!("../../templates/email/button.html"),
    ),
    (
        "email/verify.html",
        include_str!("../../templates/email/verify.html"),
    ),
    (
        "email/verify.txt",
        include_str!("../../templates/email/verify.txt"),
    ),
    (
        "email/register.html",
        include_str!("../../templates/email/register.html"),
    ),
    (
        "email/register.txt",
        include_str!("../../templates/email/register.txt"),
    ),
    (
        "email/reset.html",
        include_str!("../../templates/email/reset.html"),
    ),
    (
        "email/reset.txt",
        include_str!("../../templates/email/reset.txt"),
    ),
    (
        "email/invite.html",
        include_str!("../../templates/email/invite.html"),
    ),
    (
        "email/invite.txt",
        include_str!("../../templates/email/invite.txt"),
    ),
    (
        "email/already_registered.html",
        include_str!("../../templates/email/already_registered.html"),
    ),
    (
        "email/already_registered.txt",
        include_str!("../../templates/email/already_registered.txt"),
    ),
    (
        "email/notice.html",
        include_str!("../../templates/email/notice.html"),
    ),
    (
        "email/notice.txt",
        include_str!("../../templates/email/notice.txt"),
    ),
];

/// The message templates, parsed once.
fn tera() -> &'static Tera {
    static TERA: OnceLock<Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = Tera::default();
        tera.add_raw_templates(TEMPLATES.iter().copied())
            .expect("the embedded email templates parse");
        // Only the HTML parts are escaped; the text parts are plain text.
        tera.autoescape_on(vec![".html"]);
        tera.set_escape_fn(escape_html);
        tera
    })
}

/// Escapes text for HTML content and quoted attributes. Unlike Tera's
/// default it leaves `/` alone, so that links read as links in mail
/// clients that show the source or a plain rendering.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders message `name`'s HTML and text parts with `values`.
pub fn render(name: &str, values: &impl Serialize) -> Result<(String, String), tera::Error> {
    let context = Context::from_serialize(values)?;
    let html = tera().render(&format!("email/{name}.html"), &context)?;
    let text = tera().render(&format!("email/{name}.txt"), &context)?;
    Ok((html, text))
}

/// The names of the messages, each with an HTML and a text part.
pub const MESSAGES: &[&str] = &[
    "verify",
    "register",
    "reset",
    "invite",
    "already_registered",
    "notice",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_email_template_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/email");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| format!("email/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = TEMPLATES.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        for name in MESSAGES {
            assert!(embedded.contains(&format!("email/{name}.html")), "{name}");
            assert!(embedded.contains(&format!("email/{name}.txt")), "{name}");
        }
    }
}
