//! Delivering logout tokens: a receiver that is down (connection refused)
//! or answers 503 gets the token once it is back, after the backoff, under
//! the same `jti` and with a fresh `iat`; each failure is audited and shown
//! in the admin API's outbox; a 400 parks the token at once until an admin
//! retries it; a sent token's payload is erased; the metrics count it all.

use crate::backchannel_logout::{queued_for, register_rp, tokens_in_session};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Signs alice in, gets `rp` tokens and ends the session from the admin
/// API; returns the ID token's claims.
pub(crate) async fn session_ended(app: &TestApp, admin: &str, rp: &str) -> Value {
    let id_claims = tokens_in_session(app, rp).await;
    let path = format!(
        "/users/{}/sessions/{}",
        id_claims["sub"].as_str().unwrap(),
        id_claims["sid"].as_str().unwrap()
    );
    let response = app.api(Method::DELETE, &path, admin, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    id_claims
}

/// Waits (up to 15 s) until the admin API's outbox shows the logout row
/// for `uri` in `state` with at least `attempts` failures, and returns it.
pub(crate) async fn outbox_row(
    app: &TestApp,
    admin: &str,
    uri: &str,
    (state, attempts): (&str, i64),
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, list) = app
            .api_json(Method::GET, "/outbox?state=all", admin, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let found = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["recipient"] == uri)
            .cloned();
        if let Some(row) = found {
            if row["state"] == state && row["attempts"].as_i64().unwrap() >= attempts {
                return row;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no {state} row for {uri} with {attempts} attempts: {list}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (up to 15 s) until `n` audit events named `name` are recorded:
/// the deliverer records them just after it records the row's result.
pub(crate) async fn audited(
    app: &TestApp,
    name: &str,
    n: usize,
) -> Vec<gatehouse::model::AuditRecord> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let events = app.audit_events(name, None).await;
        if events.len() >= n {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} {name} events",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (up to 15 s) until the series reads `value`, for the same reason.
async fn metric_reaches(app: &TestApp, series: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if metric(&app.metrics_text().await, series) == value {
            return;
        }
        assert!(Instant::now() < deadline, "{series} never reached {value}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_the_token_when_it_is_back() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    // A receiver that goes down before the logout: its port refuses.
    let gone = LogoutReceiver::start().await;
    let port = gone.port;
    gone.stop().await;
    let uri = url_on(port);
    register_rp(&app, &admin, "rp-down", &uri, true).await;
    let id_claims = session_ended(&app, &admin, "rp-down").await;

    let row = outbox_row(&app, &admin, &uri, ("pending", 1)).await;
    assert_eq!(row["channel"], "backchannel_logout");
    assert_eq!(row["kind"], "backchannel_logout");
    assert_eq!(row["last_error"], "could not connect to the client");
    let failed = audited(&app, "backchannel_logout.failed", 1).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].client_id.as_deref(), Some("rp-down"));
    let detail = &failed[0].detail;
    assert!(detail.contains("parked=false"), "{detail}");
    assert!(
        detail.contains("error=could not connect to the client"),
        "{detail}"
    );

    let receiver = LogoutReceiver::start_on(port).await;
    app.clock.advance(6);
    let posts = receiver.wait_for(1).await;
    let claims = validated_logout(&app, &posts[0], "rp-down").await;
    assert_eq!(claims["sid"], id_claims["sid"]);
    assert_eq!(claims["jti"], row["message_id"], "the row's id is the jti");
    let sent = outbox_row(&app, &admin, &uri, ("sent", 1)).await;
    assert_eq!(sent["last_error"], Value::Null);
    let erased = count_with(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM outbox WHERE recipient = $1 AND payload = ''",
        &[&uri],
    )
    .await;
    assert_eq!(erased, 1, "a sent token's payload is erased");
    let delivered = audited(&app, "backchannel_logout.delivered", 1).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].client_id.as_deref(), Some("rp-down"));
}

#[tokio::test]
async fn a_503_is_retried_after_the_backoff_under_the_same_jti_with_a_fresh_iat() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let receiver = LogoutReceiver::start().await;
    receiver.answer_with(503);
    register_rp(&app, &admin, "rp-busy", &receiver.url(), false).await;
    session_ended(&app, &admin, "rp-busy").await;

    let first = receiver.wait_for(1).await;
    let row = outbox_row(&app, &admin, &receiver.url(), ("pending", 1)).await;
    assert_eq!(row["last_error"], "the client answered HTTP 503");
    let refused = validated_logout(&app, &first[0], "rp-busy").await;

    receiver.answer_with(200);
    app.clock.advance(6);
    let posts = receiver.wait_for(2).await;
    let accepted = validated_logout(&app, &posts[1], "rp-busy").await;
    assert_eq!(accepted["jti"], refused["jti"], "one delivery, one jti");
    assert!(
        accepted["iat"].as_i64().unwrap() >= refused["iat"].as_i64().unwrap() + 6,
        "signed again when sent again"
    );
    outbox_row(&app, &admin, &receiver.url(), ("sent", 1)).await;
    metric_reaches(
        &app,
        r#"gatehouse_backchannel_logouts_total{result="sent"}"#,
        1.0,
    )
    .await;
    let metrics = app.metrics_text().await;
    assert_eq!(
        metric(
            &metrics,
            r#"gatehouse_backchannel_logouts_total{result="failed"}"#
        ),
        1.0
    );
}

#[tokio::test]
async fn a_400_parks_the_token_at_once_until_an_admin_retries_it() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let receiver = LogoutReceiver::start().await;
    receiver.answer_with(400);
    register_rp(&app, &admin, "rp-strict", &receiver.url(), false).await;
    session_ended(&app, &admin, "rp-strict").await;

    let row = outbox_row(&app, &admin, &receiver.url(), ("parked", 1)).await;
    assert_eq!(row["attempts"], 1, "parked after one attempt");
    assert_eq!(row["last_error"], "the client answered HTTP 400");
    let failed = audited(&app, "backchannel_logout.failed", 1).await;
    assert_eq!(failed.len(), 1);
    let detail = &failed[0].detail;
    assert!(detail.contains("parked=true"), "{detail}");
    // Parked: no later round sends it again.
    app.clock.advance(3_600);
    let admin = app.admin_token().await;
    let (status, still) = app
        .api_json(
            Method::GET,
            &format!("/outbox/{}", row["id"].as_str().unwrap()),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{still}");
    assert_eq!(still["state"], "parked");
    assert_eq!(receiver.posts().len(), 1);

    receiver.answer_with(204);
    let path = format!("/outbox/{}/retry", row["id"].as_str().unwrap());
    let (status, retried) = app.api_json(Method::POST, &path, &admin, None).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    let posts = receiver.wait_for(2).await;
    validated_logout(&app, &posts[1], "rp-strict").await;
    outbox_row(&app, &admin, &receiver.url(), ("sent", 0)).await;
}

#[tokio::test]
async fn the_admin_outbox_screen_lists_logout_tokens_with_their_error() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let receiver = LogoutReceiver::start().await;
    receiver.answer_with(410);
    register_rp(&app, &admin, "rp-gone", &receiver.url(), false).await;
    session_ended(&app, &admin, "rp-gone").await;
    outbox_row(&app, &admin, &receiver.url(), ("parked", 1)).await;
    assert_eq!(queued_for(&app, &receiver.url()).await, 1);

    crate::admin_ui::sign_in_as_admin(&app).await;
    let page = app.get("/admin/outbox?state=parked").await;
    assert_eq!(page.status(), StatusCode::OK);
    // Tera escapes the slashes of what it shows.
    let html = page.text().await.unwrap().replace("&#x2F;", "/");
    assert!(html.contains("backchannel_logout"), "{html}");
    assert!(html.contains(&receiver.url()), "{html}");
    assert!(html.contains("the client answered HTTP 410"), "{html}");
    assert!(html.contains("/retry"), "a retry button");
}
