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
        tera
    })
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
