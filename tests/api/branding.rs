//! The deployment's own product name, accent colour and logo on every page.

use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn name_colour_and_logo_are_configurable() {
    let dir = std::env::temp_dir().join(format!("gh-logo-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let logo = dir.join("logo.svg");
    std::fs::write(&logo, r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#).unwrap();
    let app = spawn_app_with(|c| {
        c.product_name = "Acme ID".into();
        c.accent_color = "#c0ffee".into();
        c.logo_file = Some(logo.clone());
    })
    .await;
    let page = app.get("/login").await.text().await.unwrap();
    assert!(page.contains("<title>Sign in · Acme ID</title>"));
    assert!(page.contains("src=\"/static/logo\""));
    let theme = app.get("/static/theme.css").await;
    assert_eq!(theme.status(), StatusCode::OK);
    assert!(theme.text().await.unwrap().contains("--accent: #c0ffee"));
    let served = app.get("/static/logo").await;
    assert_eq!(served.headers()["content-type"], "image/svg+xml");
    assert!(page.contains(r#"<link rel="icon" href="/static/logo">"#));
    let icon = app.get("/favicon.ico").await;
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert_eq!(
        icon.text().await.unwrap(),
        r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#,
        "the deployment's logo is its icon"
    );

    let plain = spawn_app().await;
    let page = plain.get("/login").await.text().await.unwrap();
    assert!(page.contains("<svg class=\"logo\""), "the built-in logo");
    assert!(page.contains(r#"<link rel="icon" href="/static/favicon.svg">"#));
    for path in ["/favicon.ico", "/static/favicon.svg"] {
        let icon = plain.get(path).await;
        assert_eq!(icon.status(), StatusCode::OK, "{path}");
        assert_eq!(icon.headers()["content-type"], "image/svg+xml", "{path}");
        assert!(icon.text().await.unwrap().starts_with("<svg"), "{path}");
    }
    assert_eq!(
        plain.get("/static/logo").await.status(),
        StatusCode::NOT_FOUND
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
