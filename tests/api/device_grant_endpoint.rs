//! The device authorization endpoint (RFC 8628 §3.1–3.2) and who may use
//! the grant: discovery names both, bad requests get RFC 6749 §5.2 errors,
//! and only clients with the grant type (given or taken by an admin) may
//! ask for a device code or poll with one.

use crate::device_grant::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn discovery_lists_the_device_endpoint_and_grant_type() {
    let app = device_app().await;
    let metadata: Value = app
        .api
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        metadata["device_authorization_endpoint"],
        app.url("/device_authorization")
    );
    let grants = metadata["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&Value::from(DEVICE_GRANT)), "{grants:?}");
}

#[tokio::test]
async fn bad_device_authorization_requests_get_rfc_errors() {
    let app = device_app().await;
    let error = |body: &Value| body["error"].as_str().unwrap_or_default().to_string();
    // A client without the grant.
    let (status, body) = app
        .device_authorization(Device::Confidential(WEBAPP), &[("scope", "openid")])
        .await;
    assert_eq!(
        (status, error(&body).as_str()),
        (StatusCode::BAD_REQUEST, "unauthorized_client")
    );
    // A wrong secret.
    let (status, body) = app
        .device_authorization(
            Device::Confidential(("tv", "wrong")),
            &[("scope", "openid")],
        )
        .await;
    assert_eq!(
        (status, error(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    // A confidential client pretending to be public.
    let (status, body) = app
        .device_authorization(Device::Public("tv"), &[("scope", "openid")])
        .await;
    assert_eq!(
        (status, error(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    // A scope the client may not have, and none at all.
    let (status, body) = app
        .device_authorization(Device::Confidential(TV), &[("scope", "openid phone")])
        .await;
    assert_eq!(
        (status, error(&body).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_scope")
    );
    let (status, body) = app
        .device_authorization(Device::Confidential(TV), &[])
        .await;
    assert_eq!(
        (status, error(&body).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_scope")
    );
    // A repeated parameter.
    let (status, body) = app
        .device_authorization(
            Device::Confidential(TV),
            &[("scope", "openid"), ("scope", "email")],
        )
        .await;
    assert_eq!(
        (status, error(&body).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    // A resource the client is not registered for.
    let (status, body) = app
        .device_authorization(
            Device::Confidential(TV),
            &[
                ("scope", "openid"),
                ("resource", "https://ed.example.test/"),
            ],
        )
        .await;
    assert_eq!(
        (status, error(&body).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_target")
    );
    // A GET.
    let get = app
        .api
        .get(app.url("/device_authorization"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        count(&app.database_url, "SELECT COUNT(*) AS n FROM device_codes").await,
        0
    );
}

#[tokio::test]
async fn a_client_without_the_grant_cannot_poll_either() {
    let app = device_app().await;
    let started = app.start_device(Device::Confidential(TV), "openid").await;
    let (status, body) = app
        .poll(
            Device::Confidential(WEBAPP),
            started["device_code"].as_str().unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client");
}

#[tokio::test]
async fn an_admin_gives_and_takes_the_device_grant_through_the_api() {
    use reqwest::Method;
    use serde_json::json;
    let app = device_app().await;
    let token = app.admin_token().await;
    let (status, created) = app
        .api_json(
            Method::POST,
            "/clients",
            &token,
            Some(json!({
                "client_id": "kiosk-tv",
                "name": "Kiosk TV",
                "grant_types": [DEVICE_GRANT],
                "scopes": ["openid"],
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["client"]["grant_types"],
        json!([DEVICE_GRANT]),
        "{created}"
    );
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let device = Device::Confidential(("kiosk-tv", &secret));
    let started = app.start_device(device, "openid").await;
    app.approve_device(&started, "alice", ALICE_PASSWORD).await;
    let (status, _) = app
        .poll(device, started["device_code"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, updated) = app
        .api_json(
            Method::PUT,
            "/clients/kiosk-tv",
            &token,
            Some(json!({ "name": "Kiosk TV", "grant_types": ["client_credentials"], "scopes": ["openid"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let (status, body) = app
        .device_authorization(device, &[("scope", "openid")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client");
}

#[tokio::test]
async fn an_admin_registers_a_public_device_client_in_the_screens() {
    let app = device_app().await;
    crate::admin_ui::sign_in_as_admin(&app).await;
    let form = app.get("/admin/clients/new").await;
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    let checkbox = format!("name=\"grant_{DEVICE_GRANT}\"");
    assert!(html.contains(&checkbox), "the grant is offered: {html}");
    let form = app.get("/admin/clients/new").await;
    let grant_field = format!("grant_{DEVICE_GRANT}");
    let registered = app
        .submit_form(
            form,
            "/admin/clients",
            &[
                ("client_id", "set-top"),
                ("name", "Set-top Box"),
                ("client_type", "public"),
                (grant_field.as_str(), "on"),
                ("scopes", "openid"),
            ],
        )
        .await;
    // No secret to show once: on to the client's page.
    assert_eq!(registered.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&registered).contains("/admin/clients/set-top"),
        "{}",
        location(&registered)
    );
    let client = app.provider.store.client("set-top").await.unwrap().unwrap();
    assert_eq!(client.grant_types, vec![DEVICE_GRANT.to_string()]);
    assert!(client.secret_hash.is_none());
    let started = app.start_device(Device::Public("set-top"), "openid").await;
    assert!(started["device_code"].is_string());
}
