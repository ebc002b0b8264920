//! The outbox under faults, with a real SMTP server: a message caused while
//! SMTP is down waits, with its attempts and error shown to admins, and
//! goes out once SMTP is back; after `email_max_attempts` failures it is
//! parked until an admin retries it (API or screen); a server killed with
//! SIGKILL after the change loses nothing: the next one sends the message,
//! once per `Message-ID`. The admin screen and API never show bodies.

use crate::admin_ui::sign_in_as_admin;
use crate::helpers::smtp::{free_port, SmtpSink};
use crate::helpers::*;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `smtp://127.0.0.1:PORT` for a port where nothing listens yet.
fn smtp_at(port: u16) -> String {
    format!("smtp://127.0.0.1:{port}")
}

/// An admin API token from the server at `base`.
async fn token_at(client: &Client, base: &str) -> String {
    let response = client
        .post(format!("{base}/token"))
        .basic_auth(AUTOMATION.0, Some(AUTOMATION.1))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "gatehouse:admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// A call to the admin API at `base`: the status and the JSON answer.
async fn call(
    client: &Client,
    base: &str,
    (method, path): (&str, &str),
    body: Option<Value>,
) -> (StatusCode, Value) {
    let token = token_at(client, base).await;
    let url = format!("{base}/admin/api/v1{path}");
    let mut request = match method {
        "GET" => client.get(url),
        _ => client.post(url),
    }
    .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Invites `username` at `username@example.com` through the API at `base`.
async fn invite(client: &Client, base: &str, username: &str) {
    let body = json!({ "username": username, "email": format!("{username}@example.com") });
    let (status, answer) = call(client, base, ("POST", "/invitations"), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// Waits (up to 15 s) until the API at `base` shows the message to
/// `recipient` with at least `attempts` failed attempts (and `state`), and
/// returns it.
async fn wait_for_attempts(
    client: &Client,
    base: &str,
    recipient: &str,
    (state, attempts): (&str, i64),
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, list) = call(
            client,
            base,
            ("GET", &format!("/outbox?state={state}")),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let found = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["recipient"] == recipient)
            .cloned();
        if let Some(mail) = found.filter(|m| m["attempts"].as_i64().unwrap() >= attempts) {
            return mail;
        }
        assert!(
            Instant::now() < deadline,
            "no {state} message to {recipient} with {attempts} attempt(s): {list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_message_waits_while_smtp_is_down_and_goes_out_once_when_it_is_back() {
    let port = free_port();
    let app = spawn_app_with(|c| c.smtp_url = Some(smtp_at(port).as_str().into())).await;
    invite(&app.api, &app.address, "carol").await;
    let waiting =
        wait_for_attempts(&app.api, &app.address, "carol@example.com", ("pending", 1)).await;
    assert_eq!(waiting["kind"], "invite");
    assert_eq!(waiting["state"], "pending");
    let error = waiting["last_error"].as_str().unwrap().to_string();
    assert!(!error.is_empty());
    assert_eq!(waiting.get("text_body"), None, "no body is shown");
    assert_eq!(waiting.get("html_body"), None, "no body is shown");
    eprintln!(
        "fault 1, SMTP down: message {} pending after {} attempt(s), last error: {error}",
        waiting["message_id"], waiting["attempts"]
    );

    let sink = SmtpSink::start_on(port).await;
    // The next attempt is due 5 s after the failure (the clock is the app's).
    app.clock.advance(6);
    let mails = sink.wait_for("carol@example.com", 1).await;
    assert_eq!(mails[0].message_id, waiting["message_id"].as_str().unwrap());
    tokio::time::sleep(Duration::from_secs(2)).await;
    app.clock.advance(3_600);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let delivered = sink.messages_to("carol@example.com");
    assert_eq!(delivered.len(), 1, "sent exactly once");
    let id = waiting["id"].as_str().unwrap();
    let (status, sent) = call(
        &app.api,
        &app.address,
        ("GET", &format!("/outbox/{id}")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sent["state"], "sent");
    eprintln!(
        "fault 1, SMTP back on port {port}: delivered {} time(s) with Message-ID {}, state {}",
        delivered.len(),
        delivered[0].message_id,
        sent["state"]
    );
}

#[tokio::test]
async fn a_message_parks_after_too_many_failures_and_an_admin_retries_it() {
    let port = free_port();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(smtp_at(port).as_str().into());
        c.email_max_attempts = 2;
    })
    .await;
    invite(&app.api, &app.address, "carol").await;
    invite(&app.api, &app.address, "dave").await;
    wait_for_attempts(&app.api, &app.address, "carol@example.com", ("pending", 1)).await;
    wait_for_attempts(&app.api, &app.address, "dave@example.com", ("pending", 1)).await;
    app.clock.advance(6);
    let parked =
        wait_for_attempts(&app.api, &app.address, "carol@example.com", ("parked", 2)).await;
    let other = wait_for_attempts(&app.api, &app.address, "dave@example.com", ("parked", 2)).await;
    assert_eq!(parked["state"], "parked");
    let error = parked["last_error"].as_str().unwrap().to_string();
    eprintln!(
        "fault 2, parking: message {} parked after {} attempts, last error: {error}",
        parked["message_id"], parked["attempts"]
    );

    // The screen lists it with its error and a Retry button; no body.
    sign_in_as_admin(&app).await;
    let screen = app.get("/admin/outbox?state=parked").await;
    assert_eq!(screen.status(), StatusCode::OK);
    let html = screen.text().await.unwrap();
    assert!(html.contains("carol@example.com"), "{html}");
    assert!(html.contains(&tera_escaped(&error)), "{html}");
    let id = parked["id"].as_str().unwrap();
    assert!(html.contains(&format!("/admin/outbox/{id}/retry")));
    assert!(!html.contains("invitation?token="));

    let sink = SmtpSink::start_on(port).await;
    // Retried through the API: pending at once, then sent.
    let (status, retried) = call(
        &app.api,
        &app.address,
        ("POST", &format!("/outbox/{id}/retry")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(retried["state"], "pending");
    assert_eq!(retried["attempts"], 0);
    let mails = sink.wait_for("carol@example.com", 1).await;
    assert_eq!(mails[0].message_id, parked["message_id"].as_str().unwrap());
    // Retried through the screen (CSRF-checked): sent too.
    let other_id = other["id"].as_str().unwrap();
    let forged = app
        .browser
        .post(app.url(&format!("/admin/outbox/{other_id}/retry")))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let csrf = hidden_field(&html, "csrf").unwrap();
    let posted = app
        .browser
        .post(app.url(&format!("/admin/outbox/{other_id}/retry")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    assert!(location(&posted).ends_with("/admin/outbox?state=pending&done=mail-retried"));
    sink.wait_for("dave@example.com", 1).await;
    assert_eq!(app.audit_events("admin.outbox.retry", None).await.len(), 2);

    // Only a parked message can be retried; an unknown one is not found.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, now) = call(
            &app.api,
            &app.address,
            ("GET", &format!("/outbox/{id}")),
            None,
        )
        .await;
        if now["state"] == "sent" {
            break;
        }
        assert!(Instant::now() < deadline, "{now}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = call(
        &app.api,
        &app.address,
        ("POST", &format!("/outbox/{id}/retry")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"], "conflict");
    let (status, _) = call(&app.api, &app.address, ("POST", "/outbox/nope/retry"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app.api, &app.address, ("GET", "/outbox/nope"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = call(&app.api, &app.address, ("GET", "/outbox?state=lost"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    eprintln!(
        "fault 2, retried by an admin (API and screen): {} and {} delivered once each, audited twice",
        parked["message_id"], other["message_id"]
    );
}

/// What tera makes of `text` in HTML.
fn tera_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2F;")
}

#[tokio::test]
async fn the_outbox_screen_says_when_email_is_off() {
    let app = spawn_app().await;
    sign_in_as_admin(&app).await;
    let html = app.get("/admin/outbox").await.text().await.unwrap();
    assert!(
        html.contains("Email is off: no SMTP server is configured"),
        "{html}"
    );
    let unknown = app.get("/admin/outbox?state=lost").await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
}

/// A `gatehouse serve` process, killed with SIGKILL when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(database: &str, seed: &std::path::Path, port: u16, smtp: &str) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["serve", "--seed"])
        .arg(seed)
        .env("GATEHOUSE_DATABASE_URL", database)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ISSUER", format!("http://127.0.0.1:{port}"))
        .env("GATEHOUSE_SMTP_URL", smtp)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    Server(child)
}

async fn wait_ready(client: &Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client.get(format!("{base}/readyz")).send().await;
        if matches!(ready, Ok(r) if r.status() == StatusCode::OK) {
            return;
        }
        assert!(Instant::now() < deadline, "{base} never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_message_outlives_a_sigkill_and_is_sent_once_after_the_restart() {
    let database = fresh_database().await;
    let seed = write_seed();
    let smtp_port = free_port();
    let smtp = smtp_at(smtp_port);
    let client = client_builder().build().unwrap();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut first = serve(&database, &seed, port, &smtp);
    wait_ready(&client, &base).await;
    invite(&client, &base, "carol").await;
    let waiting = wait_for_attempts(&client, &base, "carol@example.com", ("pending", 1)).await;
    let message_id = waiting["message_id"].as_str().unwrap().to_string();
    // SIGKILL: no shutdown, no flush; the message is only in the database.
    first.0.kill().unwrap();
    let status = first.0.wait().unwrap();
    eprintln!(
        "fault 3, SIGKILL: server pid {} killed ({status}) with {message_id} pending after {} failed attempt(s)",
        first.0.id(),
        waiting["attempts"]
    );

    let sink = SmtpSink::start_on(smtp_port).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _second = serve(&database, &seed, port, &smtp);
    wait_ready(&client, &base).await;
    let mails = sink.wait_for("carol@example.com", 1).await;
    assert_eq!(mails[0].message_id, message_id);
    // A few more seconds, several sender rounds: still one delivery.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let same: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|m| m.message_id == message_id)
        .collect();
    assert_eq!(same.len(), 1, "one delivery per Message-ID");
    assert_eq!(sink.messages().len(), 1);
    let id = waiting["id"].as_str().unwrap();
    let (_, sent) = call(&client, &base, ("GET", &format!("/outbox/{id}")), None).await;
    assert_eq!(sent["state"], "sent");
    eprintln!(
        "fault 3, after restart: carol@example.com delivered {} time(s) (Message-ID {}), state {}",
        same.len(),
        same[0].message_id,
        sent["state"]
    );
    sink.stop().await;
}
