//! Where and how logout tokens go at send time: to the client's current
//! `backchannel_logout_uri` (changed since the token was queued), or
//! nowhere when the client was deleted or lost its URI (the row is settled
//! as dropped, with a note and an audit event); a redirect is never
//! followed and parks the token at once; and a receiver that accepts the
//! connection but never answers does not hold up another client's token.

use crate::backchannel_logout::{register_rp, tokens_in_session, RP_REDIRECT};
use crate::backchannel_logout_delivery::{audited, outbox_row, session_ended};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A client registered with a receiver that is down (its port refuses), so
/// that its logout token waits in the outbox after a first failure;
/// returns the ended session's ID token claims and the dead URI.
async fn queued_for_a_dead_receiver(
    app: &TestApp,
    admin: &str,
    client_id: &str,
) -> (serde_json::Value, String) {
    let gone = LogoutReceiver::start().await;
    let uri = gone.url();
    gone.stop().await;
    register_rp(app, admin, client_id, &uri, true).await;
    let id_claims = session_ended(app, admin, client_id).await;
    outbox_row(app, admin, &uri, ("pending", 1)).await;
    (id_claims, uri)
}

#[tokio::test]
async fn a_token_goes_to_the_uri_the_client_has_now() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id_claims, old_uri) = queued_for_a_dead_receiver(&app, &admin, "rp-moved").await;
    let moved = LogoutReceiver::start().await;
    let (status, answer) = app
        .api_json(
            Method::PUT,
            "/clients/rp-moved",
            &admin,
            Some(json!({
                "public": true,
                "redirect_uris": [RP_REDIRECT],
                "scopes": ["openid"],
                "require_consent": false,
                "backchannel_logout_uri": moved.url(),
                "backchannel_logout_session_required": true,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    app.clock.advance(6);
    let posts = moved.wait_for(1).await;
    let claims = validated_logout(&app, &posts[0], "rp-moved").await;
    assert_eq!(claims["sid"], id_claims["sid"]);
    outbox_row(&app, &admin, &old_uri, ("sent", 1)).await;
}

#[tokio::test]
async fn a_token_of_a_deleted_client_is_dropped_unsent() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id_claims, uri) = queued_for_a_dead_receiver(&app, &admin, "rp-deleted").await;
    let response = app
        .api(Method::DELETE, "/clients/rp-deleted", &admin, None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // A receiver comes up at the old address: it must get nothing.
    let port: u16 = url::Url::parse(&uri).unwrap().port().unwrap();
    let old_address = LogoutReceiver::start_on(port).await;
    app.clock.advance(6);
    let row = outbox_row(&app, &admin, &uri, ("sent", 1)).await;
    assert_eq!(row["last_error"], "not sent: the client no longer exists");
    let dropped = audited(&app, "backchannel_logout.dropped", 1).await;
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].client_id.as_deref(), Some("rp-deleted"));
    let detail = &dropped[0].detail;
    assert!(detail.contains("the client no longer exists"), "{detail}");
    assert!(
        detail.contains(id_claims["sid"].as_str().unwrap()),
        "{detail}"
    );
    assert!(old_address.posts().is_empty(), "nothing was posted");
    assert!(app
        .audit_events("backchannel_logout.delivered", None)
        .await
        .is_empty());
}

#[tokio::test]
async fn a_token_of_a_client_without_a_uri_any_more_is_dropped_unsent() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, uri) = queued_for_a_dead_receiver(&app, &admin, "rp-quiet").await;
    // A replacement without the fields clears the URI.
    let (status, answer) = app
        .api_json(
            Method::PUT,
            "/clients/rp-quiet",
            &admin,
            Some(json!({
                "public": true,
                "redirect_uris": [RP_REDIRECT],
                "scopes": ["openid"],
                "require_consent": false,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let port: u16 = url::Url::parse(&uri).unwrap().port().unwrap();
    let old_address = LogoutReceiver::start_on(port).await;
    app.clock.advance(6);
    let row = outbox_row(&app, &admin, &uri, ("sent", 1)).await;
    assert_eq!(
        row["last_error"],
        "not sent: the client no longer has a back-channel logout URI"
    );
    let dropped = audited(&app, "backchannel_logout.dropped", 1).await;
    assert_eq!(dropped[0].client_id.as_deref(), Some("rp-quiet"));
    assert!(old_address.posts().is_empty(), "nothing was posted");
    metric_is(
        &app,
        r#"gatehouse_backchannel_logouts_total{result="dropped"}"#,
        1.0,
    )
    .await;
}

async fn metric_is(app: &TestApp, series: &str, value: f64) {
    assert_eq!(metric(&app.metrics_text().await, series), value, "{series}");
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_parks_the_token_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let elsewhere = LogoutReceiver::start().await;
    let redirecting = LogoutReceiver::start().await;
    redirecting.redirect_to(302, &elsewhere.url());
    register_rp(&app, &admin, "rp-redirects", &redirecting.url(), false).await;
    session_ended(&app, &admin, "rp-redirects").await;

    let row = outbox_row(&app, &admin, &redirecting.url(), ("parked", 1)).await;
    assert_eq!(row["attempts"], 1, "parked after one attempt");
    assert_eq!(row["last_error"], "the client answered HTTP 302");
    assert_eq!(redirecting.posts().len(), 1);
    assert!(
        elsewhere.posts().is_empty(),
        "the redirect was not followed"
    );
    let failed = audited(&app, "backchannel_logout.failed", 1).await;
    assert!(failed[0].detail.contains("parked=true"), "{:?}", failed[0]);
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_hold_up_another_clients_token() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let blackhole = Blackhole::start().await;
    let live = LogoutReceiver::start().await;
    // Registered so that the blackhole's row is queued first (rows of one
    // session are queued in client id order, and taken in that order).
    register_rp(&app, &admin, "rp-a-blackhole", &blackhole.url(), false).await;
    register_rp(&app, &admin, "rp-b-live", &live.url(), false).await;
    tokens_in_session(&app, "rp-b-live").await;
    let id_claims = tokens_in_session(&app, "rp-a-blackhole").await;
    let path = format!(
        "/users/{}/sessions/{}",
        id_claims["sub"].as_str().unwrap(),
        id_claims["sid"].as_str().unwrap()
    );
    let response = app.api(Method::DELETE, &path, &admin, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let posts = live.wait_for(1).await;
    // The blackhole still holds the first token's connection unanswered:
    // its row is claimed and not yet failed.
    blackhole.wait_for_a_connection().await;
    let unsettled = count_with(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM outbox
         WHERE recipient = $1 AND state = 'pending' AND attempts = 0",
        &[&blackhole.url()],
    )
    .await;
    assert_eq!(unsettled, 1, "the blackhole's token is still in flight");
    let claims = validated_logout(&app, &posts[0], "rp-b-live").await;
    assert_eq!(claims["sid"], id_claims["sid"]);
}
