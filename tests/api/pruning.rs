//! The periodic pruning task, driven by the manual clock: rows nothing can
//! use any more go (a revoked family once its tokens could no longer be
//! presented and its browser session is gone, ended sessions and pending sign-ins, audit events past their
//! retention), and what is still needed stays (a live refresh token's
//! family, a current session, a recent audit event).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

const DAY: i64 = 86_400;

/// Rows of `table`.
async fn rows_in(app: &TestApp, table: &str) -> i64 {
    count(
        &app.database_url,
        &format!("SELECT COUNT(*) AS n FROM {table}"),
    )
    .await
}

/// The grant (token family) a refresh token belongs to.
async fn grant_of(app: &TestApp, refresh_token: &str) -> String {
    let hash = gatehouse::crypto::token_hash(refresh_token);
    let found = rows(
        &app.database_url,
        &format!("SELECT grant_id FROM refresh_tokens WHERE token_hash = '{hash}'"),
    )
    .await;
    use sqlx::Row;
    found[0].try_get("grant_id").unwrap()
}

/// Whether the grant `id` is still stored.
async fn grant_stored(app: &TestApp, id: &str) -> bool {
    count_with(
        &app.database_url,
        "SELECT COUNT(*) AS n FROM grants WHERE id = $1",
        &[id],
    )
    .await
        == 1
}

/// How many rows of `kind` pruning has removed so far.
async fn pruned(app: &TestApp, kind: &str) -> f64 {
    metric(
        &app.metrics_text().await,
        &format!(r#"gatehouse_pruned_rows_total{{kind="{kind}"}}"#),
    )
}

/// Signs `username` in from a browser of its own; returns that browser.
async fn signed_in_elsewhere(app: &TestApp, username: &str, password: &str) -> reqwest::Client {
    let browser = new_browser();
    let answer = app
        .post_password(&browser, "/login", (username, password), None)
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "signed in");
    browser
}

/// Starts a sign-in that is never finished (a pending authorization request).
async fn abandoned_sign_in(app: &TestApp) {
    let answer = app
        .api
        .get(app.url("/authorize"))
        .query(&AuthRequest::confidential().params())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND);
    assert!(location(&answer).contains("/login"), "to the login page");
}

#[tokio::test]
async fn pruning_removes_dead_families_ended_sessions_and_sign_ins_and_keeps_live_ones() {
    let app = spawn_app_with(|c| {
        c.prune_interval_secs = 1;
        c.refresh_token_idle_ttl = 1_000;
        c.refresh_token_absolute_ttl = 100 * DAY;
        c.session_ttl = 1_500;
        c.interaction_ttl = 600;
    })
    .await;
    // At t0: a browser signed in elsewhere, two families of alice's at the
    // web app (the second revoked at once), and a sign-in left unfinished.
    let old_browser = signed_in_elsewhere(&app, "alice", ALICE_PASSWORD).await;
    let live: Value = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let revoked: Value = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let live_grant = grant_of(&app, live["refresh_token"].as_str().unwrap()).await;
    let revoked_token = revoked["refresh_token"].as_str().unwrap();
    let revoked_grant = grant_of(&app, revoked_token).await;
    assert_ne!(live_grant, revoked_grant);
    let revocation = app
        .back_channel("/revoke", &[("token", revoked_token)], WEBAPP)
        .await;
    assert_eq!(revocation.status(), StatusCode::OK);
    abandoned_sign_in(&app).await;
    assert_eq!(rows_in(&app, "auth_requests").await, 1);
    assert_eq!(rows_in(&app, "browser_sessions").await, 2);

    // Revoked, but its refresh token could still be presented (and would
    // be refused as the family's): the family stays.
    app.after_a_prune_round().await;
    assert!(grant_stored(&app, &revoked_grant).await);
    assert!(grant_stored(&app, &live_grant).await);
    assert_eq!(pruned(&app, "grants").await, 0.0);
    let refused = app.refresh(revoked_token, WEBAPP).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");

    // t0 + 900: the live family is used, so it has a token until t0 + 1900.
    app.clock.advance(900);
    let refreshed = app
        .refresh(live["refresh_token"].as_str().unwrap(), WEBAPP)
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    let live_token = refreshed["refresh_token"].as_str().unwrap().to_string();

    // t0 + 1100: the revoked family's token ended at t0 + 1000, and so did
    // the pending sign-in; a new one is under way, a new browser signed in.
    app.clock.advance(200);
    abandoned_sign_in(&app).await;
    let new_browser = signed_in_elsewhere(&app, "alice", ALICE_PASSWORD).await;
    app.after_a_prune_round().await;
    // The dead family stays while the browser session it was made in
    // lives: when that session ends, its client is told (back-channel
    // logout), and the grant is how the session knows the client.
    assert!(
        grant_stored(&app, &revoked_grant).await,
        "the dead family stays while its session lives"
    );
    assert!(
        grant_stored(&app, &live_grant).await,
        "the live family stayed"
    );
    assert_eq!(rows_in(&app, "grants").await, 2);
    assert_eq!(pruned(&app, "grants").await, 0.0);
    assert_eq!(rows_in(&app, "auth_requests").await, 1, "the new one stays");
    assert_eq!(pruned(&app, "interactions").await, 1.0);
    assert_eq!(rows_in(&app, "browser_sessions").await, 3);
    assert_eq!(pruned(&app, "sessions").await, 0.0);
    // The revoked family's token is now unknown: refused all the same.
    let refused = app.refresh(revoked_token, WEBAPP).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");

    // t0 + 1600: the first two sessions ended; the newest is current. With
    // its session gone, the dead family goes.
    app.clock.advance(500);
    app.after_a_prune_round().await;
    assert_eq!(rows_in(&app, "browser_sessions").await, 1);
    assert_eq!(pruned(&app, "sessions").await, 2.0);
    assert!(
        !grant_stored(&app, &revoked_grant).await,
        "the dead family went"
    );
    assert_eq!(rows_in(&app, "grants").await, 1);
    let account = new_browser.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), StatusCode::OK, "still signed in");
    let account = old_browser.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), StatusCode::FOUND);
    assert!(location(&account).contains("/login"), "to the login page");
    // The live family still works after every round.
    let refreshed = app.refresh(&live_token, WEBAPP).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    assert!(grant_stored(&app, &live_grant).await);
    assert_eq!(pruned(&app, "grants").await, 1.0);
}

#[tokio::test]
async fn audit_events_past_their_retention_go_and_recent_ones_stay() {
    let app = spawn_app_with(|c| {
        c.prune_interval_secs = 1;
        c.audit_retention_days = 1;
    })
    .await;
    use gatehouse::clock::Clock;
    let t0 = app.clock.now();
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    app.provider.audit.flush().await;
    let at_most = |t: i64| format!("SELECT COUNT(*) AS n FROM audit_events WHERE at <= {t}");
    let old = count(&app.database_url, &at_most(t0)).await;
    assert!(old >= 2, "sign-in and token events: {old}");
    app.after_a_prune_round().await;
    assert_eq!(
        count(&app.database_url, &at_most(t0)).await,
        old,
        "a day old at most: kept"
    );

    app.clock.advance(DAY + 10);
    let t1 = app.clock.now();
    let refreshed = app
        .refresh(tokens["refresh_token"].as_str().unwrap(), WEBAPP)
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    app.provider.audit.flush().await;
    let since = format!("SELECT COUNT(*) AS n FROM audit_events WHERE at >= {t1}");
    let recent = count(&app.database_url, &since).await;
    assert_eq!(recent, 1, "the refresh");

    app.after_a_prune_round().await;
    assert_eq!(count(&app.database_url, &at_most(t0)).await, 0);
    assert_eq!(count(&app.database_url, &since).await, recent);
    assert_eq!(rows_in(&app, "audit_events").await, recent);
    assert_eq!(pruned(&app, "audit_events").await, old as f64);
}
