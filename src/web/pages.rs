//! Page rendering: tera templates compiled once, at start-up while the
//! server already answers, from files embedded in the binary, plus the
//! error page every screen falls back to.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;
use std::sync::{Arc, OnceLock};
use tera::{Context, Tera};

/// (name, source) of every template, embedded so the binary runs anywhere.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("totp.html", include_str!("../../templates/totp.html")),
    ("consent.html", include_str!("../../templates/consent.html")),
    ("device.html", include_str!("../../templates/device.html")),
    (
        "device_confirm.html",
        include_str!("../../templates/device_confirm.html"),
    ),
    (
        "device_done.html",
        include_str!("../../templates/device_done.html"),
    ),
    ("error.html", include_str!("../../templates/error.html")),
    (
        "no_access.html",
        include_str!("../../templates/no_access.html"),
    ),
    (
        "profile_fields.html",
        include_str!("../../templates/profile_fields.html"),
    ),
    (
        "form_post.html",
        include_str!("../../templates/form_post.html"),
    ),
    ("logout.html", include_str!("../../templates/logout.html")),
    (
        "signed_out.html",
        include_str!("../../templates/signed_out.html"),
    ),
    ("account.html", include_str!("../../templates/account.html")),
    (
        "mfa_enrol.html",
        include_str!("../../templates/mfa_enrol.html"),
    ),
    (
        "new_password.html",
        include_str!("../../templates/new_password.html"),
    ),
    (
        "register.html",
        include_str!("../../templates/register.html"),
    ),
    (
        "verify_email.html",
        include_str!("../../templates/verify_email.html"),
    ),
    (
        "admin_base.html",
        include_str!("../../templates/admin_base.html"),
    ),
    (
        "admin_users.html",
        include_str!("../../templates/admin_users.html"),
    ),
    (
        "admin_user_new.html",
        include_str!("../../templates/admin_user_new.html"),
    ),
    (
        "admin_secret.html",
        include_str!("../../templates/admin_secret.html"),
    ),
    (
        "admin_user.html",
        include_str!("../../templates/admin_user.html"),
    ),
    (
        "admin_events.html",
        include_str!("../../templates/admin_events.html"),
    ),
    (
        "admin_clients.html",
        include_str!("../../templates/admin_clients.html"),
    ),
    (
        "admin_client.html",
        include_str!("../../templates/admin_client.html"),
    ),
    (
        "admin_groups.html",
        include_str!("../../templates/admin_groups.html"),
    ),
    (
        "admin_group.html",
        include_str!("../../templates/admin_group.html"),
    ),
    (
        "admin_apis.html",
        include_str!("../../templates/admin_apis.html"),
    ),
    (
        "admin_api.html",
        include_str!("../../templates/admin_api.html"),
    ),
    (
        "admin_scopes.html",
        include_str!("../../templates/admin_scopes.html"),
    ),
    (
        "admin_upstreams.html",
        include_str!("../../templates/admin_upstreams.html"),
    ),
    (
        "admin_upstream.html",
        include_str!("../../templates/admin_upstream.html"),
    ),
    (
        "admin_upstream_endpoints.html",
        include_str!("../../templates/admin_upstream_endpoints.html"),
    ),
    (
        "admin_upstream_policy.html",
        include_str!("../../templates/admin_upstream_policy.html"),
    ),
    (
        "admin_keys.html",
        include_str!("../../templates/admin_keys.html"),
    ),
    (
        "admin_audit.html",
        include_str!("../../templates/admin_audit.html"),
    ),
    (
        "recovery_codes.html",
        include_str!("../../templates/recovery_codes.html"),
    ),
    (
        "forgot_password.html",
        include_str!("../../templates/forgot_password.html"),
    ),
    (
        "reset_password.html",
        include_str!("../../templates/reset_password.html"),
    ),
    (
        "email_sent.html",
        include_str!("../../templates/email_sent.html"),
    ),
    (
        "admin_outbox.html",
        include_str!("../../templates/admin_outbox.html"),
    ),
    (
        "invitation.html",
        include_str!("../../templates/invitation.html"),
    ),
];

/// A deployment's own logo, read once at start-up.
#[derive(Debug, Clone)]
pub struct Logo {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its media type.
    pub content_type: &'static str,
}

impl Logo {
    /// Largest logo accepted, in bytes.
    const MAX: usize = 512 * 1024;

    /// Reads the logo file; the media type comes from its extension.
    pub fn read(path: &std::path::Path) -> Result<Logo, String> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let content_type = match extension.as_deref() {
            Some("svg") => "image/svg+xml",
            Some("png") => "image/png",
            Some("jpg" | "jpeg") => "image/jpeg",
            Some("webp") => "image/webp",
            _ => {
                return Err(format!(
                    "logo_file {}: use an .svg, .png, .jpg or .webp file",
                    path.display()
                ))
            }
        };
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read logo_file {}: {e}", path.display()))?;
        if bytes.len() > Self::MAX {
            return Err(format!(
                "logo_file {} is larger than 512 KiB",
                path.display()
            ));
        }
        Ok(Logo {
            bytes,
            content_type,
        })
    }
}

/// The compiled templates and the values every page shows.
#[derive(Debug)]
pub struct Pages {
    /// Filled once the templates are compiled (see
    /// [`Pages::compile_in_background`]); `Err` is why they did not.
    tera: Arc<OnceLock<Result<Tera, String>>>,
    product_name: String,
    base_path: String,
    theme_css: String,
    logo: Option<Logo>,
    test_mode: bool,
}

impl Pages {
    /// Compiles every template; fails at start-up, never on a request.
    pub fn new(product_name: &str, base_path: &str) -> Result<Pages, tera::Error> {
        let pages = Pages::uncompiled(product_name, base_path);
        let _ = pages.tera.set(Ok(compile()?));
        Ok(pages)
    }

    /// The pages, their templates compiling on the blocking pool: a server
    /// answers discovery, the JWKS and the token endpoint meanwhile (a
    /// first start, and every start of test mode, is ready tens of
    /// milliseconds sooner), and a page asked for before they are in waits
    /// for them, holding up its worker's other requests for at most that
    /// long (about 35 ms, once, right after the start). The task ends with the compilation's error, if any: the
    /// templates are embedded, so that is a defect of the build, and the
    /// server stops on it.
    pub fn compile_in_background(
        product_name: &str,
        base_path: &str,
    ) -> (Pages, tokio::task::JoinHandle<Result<(), String>>) {
        let pages = Pages::uncompiled(product_name, base_path);
        let slot = pages.tera.clone();
        let compiling = tokio::task::spawn_blocking(move || {
            // Whatever happens, the slot is filled: pages waiting on it
            // must not wait for ever.
            let compiled = std::panic::catch_unwind(compile)
                .unwrap_or_else(|_| Err(tera::Error::msg("compiling the templates panicked")))
                .map_err(|e| format!("{e:?}"));
            let outcome = compiled.as_ref().map(|_| ()).map_err(Clone::clone);
            let _ = slot.set(compiled);
            outcome
        });
        (pages, compiling)
    }

    fn uncompiled(product_name: &str, base_path: &str) -> Pages {
        Pages {
            tera: Arc::new(OnceLock::new()),
            product_name: product_name.to_string(),
            base_path: base_path.to_string(),
            theme_css: theme_css("#2f5bea"),
            logo: None,
            test_mode: false,
        }
    }

    /// The compiled templates, waited for while they compile (only in the
    /// first milliseconds after a start).
    fn tera(&self) -> Result<&Tera, &str> {
        self.tera.wait().as_ref().map_err(String::as_str)
    }

    /// The same pages in a deployment's accent colour, with its logo.
    pub fn branded(mut self, accent_color: &str, logo: Option<Logo>) -> Pages {
        self.theme_css = theme_css(accent_color);
        self.logo = logo;
        self
    }

    /// The same pages with the test-mode ribbon on every one of them (in
    /// test mode, `Config::test_mode`), and the test-mode parts of the
    /// screens shown.
    pub fn test_mode(mut self, on: bool) -> Pages {
        self.test_mode = on;
        self
    }

    /// Whether the pages are test mode's.
    pub fn in_test_mode(&self) -> bool {
        self.test_mode
    }

    /// The stylesheet that sets the accent colour.
    pub fn theme_css(&self) -> &str {
        &self.theme_css
    }

    /// The deployment's logo, if it has one.
    pub fn logo(&self) -> Option<&Logo> {
        self.logo.as_ref()
    }

    /// Names of every template (for the test that renders them all).
    pub fn names() -> impl Iterator<Item = &'static str> {
        TEMPLATES.iter().map(|(name, _)| *name)
    }

    /// Renders `template` with `values` into an HTML response.
    pub fn render(
        &self,
        status: StatusCode,
        template: &str,
        values: &impl Serialize,
    ) -> HttpResponse {
        let mut context = match Context::from_serialize(values) {
            Ok(c) => c,
            Err(e) => return self.internal_error(&e.to_string()),
        };
        context.insert("product_name", &self.product_name);
        context.insert("base", &self.base_path);
        context.insert("has_logo", &self.logo.is_some());
        context.insert("test_mode", &self.test_mode);
        let tera = match self.tera() {
            Ok(tera) => tera,
            Err(why) => return self.internal_error(why),
        };
        match tera.render(template, &context) {
            Ok(html) => html_response(status, html),
            Err(e) => {
                let detail = format!("{e:?}");
                self.internal_error(&detail)
            }
        }
    }

    /// Renders a page with a form: `values` plus the browser's CSRF token
    /// (`csrf`), setting the token's cookie when the browser had none.
    pub fn form(
        &self,
        req: &actix_web::HttpRequest,
        config: &crate::config::Config,
        status: StatusCode,
        template: &str,
        mut values: serde_json::Value,
    ) -> HttpResponse {
        let (csrf, new_cookie) = super::cookies::csrf_token(req, config);
        if let Some(map) = values.as_object_mut() {
            map.insert("csrf".into(), serde_json::Value::String(csrf));
        }
        let mut response = self.render(status, template, &values);
        if let Some(cookie) = new_cookie {
            let _ = response.add_cookie(&cookie);
        }
        response
    }

    /// A page that tells the user what went wrong and what to do next.
    pub fn error(&self, status: StatusCode, title: &str, message: &str) -> HttpResponse {
        let error_id = uuid::Uuid::new_v4().to_string();
        tracing::info!(%error_id, status = status.as_u16(), title, message, "error page shown");
        self.error_page(status, (title, message), None, &error_id)
    }

    /// As [`Pages::error`], with a link onwards (`(href, label)`).
    pub fn error_with_link(
        &self,
        status: StatusCode,
        title: &str,
        message: &str,
        link: (&str, &str),
    ) -> HttpResponse {
        let error_id = uuid::Uuid::new_v4().to_string();
        tracing::info!(%error_id, status = status.as_u16(), title, message, "error page shown");
        self.error_page(status, (title, message), Some(link), &error_id)
    }

    /// The page for a failure behind a screen: 503 "try again shortly" when
    /// the database is unreachable, otherwise the 500 apology
    /// (`HttpError::page`).
    pub fn fail(&self, failure: &dyn crate::failure::Failure) -> HttpResponse {
        super::error::classify(failure).page(self)
    }

    /// Logs `detail` under a fresh error id and shows a plain apology.
    pub fn internal_error(&self, detail: &str) -> HttpResponse {
        super::error::HttpError::Internal(detail.to_string()).page(self)
    }

    /// The error page itself, under `error_id`.
    pub(super) fn error_page(
        &self,
        status: StatusCode,
        (title, message): (&str, &str),
        link: Option<(&str, &str)>,
        error_id: &str,
    ) -> HttpResponse {
        let mut context = Context::new();
        context.insert("product_name", &self.product_name);
        context.insert("base", &self.base_path);
        context.insert("has_logo", &self.logo.is_some());
        context.insert("test_mode", &self.test_mode);
        context.insert("title", title);
        context.insert("message", message);
        context.insert("error_id", error_id);
        if let Some((href, label)) = link {
            context.insert("link_href", href);
            context.insert("link_label", label);
        }
        match self
            .tera()
            .ok()
            .and_then(|tera| tera.render("error.html", &context).ok())
        {
            Some(html) => html_response(status, html),
            // The error template is checked at start-up; this is a last resort.
            None => HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(format!("{title}. Error id: {error_id}")),
        }
    }
}

/// Every template, compiled.
fn compile() -> Result<Tera, tera::Error> {
    let mut tera = Tera::default();
    tera.add_raw_templates(TEMPLATES.to_vec())?;
    tera.autoescape_on(vec![".html"]);
    Ok(tera)
}

/// The accent colour as a stylesheet (served, not inline, so the CSP needs
/// no `unsafe-inline`). The value was checked to be a hex colour.
fn theme_css(accent_color: &str) -> String {
    format!(
        ":root {{ --accent: {accent_color}; --focus: color-mix(in srgb, {accent_color} 35%, transparent); }}\n"
    )
}

fn html_response(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_file_is_embedded_and_compiles() {
        let pages = Pages::new("Gatehouse", "");
        assert!(pages.is_ok(), "{:?}", pages.err());
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            // The messages' templates (`email/`) are `crate::email`'s.
            .filter(|e| e.file_type().unwrap().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = Pages::names().map(str::to_string).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn the_error_page_shows_an_id_and_escapes() {
        let pages = Pages::new("Gatehouse", "/idp").unwrap();
        let response = pages.error(StatusCode::BAD_REQUEST, "Bad <thing>", "Try <b>again</b>");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = actix_web::body::to_bytes(response.into_body());
        let body = futures_executor(body);
        assert!(body.contains("Error id"));
        assert!(body.contains("Bad &lt;thing&gt;"));
        // Autoescaping writes "/" as &#x2F;, which browsers decode in attributes.
        assert!(body.contains("&#x2F;idp/static/gatehouse.css"), "{body}");
    }

    fn futures_executor<
        F: std::future::Future<Output = Result<actix_web::web::Bytes, E>>,
        E: std::fmt::Debug,
    >(
        f: F,
    ) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = runtime.block_on(f).unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
