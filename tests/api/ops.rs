//! Operations: health, readiness, metrics, request ids.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
    assert_eq!(
        body["signing_key"],
        app.provider.keys().await.signing.kid.as_str()
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.provider.store.close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "the process itself is up"
    );
}

#[tokio::test]
async fn counters_move_with_a_flow() {
    let app = spawn_app().await;
    // Every series read below is exported before anything happened, at 0
    // (`metric` fails on a missing series).
    let before = app.metrics_text().await;
    for series in [
        r#"gatehouse_sign_ins_total{result="success"}"#,
        r#"gatehouse_sign_ins_total{result="failure"}"#,
        r#"gatehouse_mfa_challenges_total{result="success"}"#,
        r#"gatehouse_mfa_challenges_total{result="failure"}"#,
        r#"gatehouse_mfa_challenges_total{result="exhausted"}"#,
        r#"gatehouse_tokens_issued_total{grant_type="authorization_code"}"#,
        r#"gatehouse_tokens_issued_total{grant_type="refresh_token"}"#,
        r#"gatehouse_tokens_issued_total{grant_type="client_credentials"}"#,
        "gatehouse_refresh_token_reuse_total",
        r#"gatehouse_revocations_total{token_type="access_token"}"#,
        r#"gatehouse_revocations_total{token_type="refresh_token"}"#,
        r#"gatehouse_pruned_rows_total{kind="grants"}"#,
        "gatehouse_prune_rounds_total",
    ] {
        assert_eq!(metric(&before, series), 0.0, "{series}");
    }

    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let page = app.get("/login").await;
    app.submit_form(
        page,
        "/login",
        &[("username", "alice"), ("password", "wrong")],
    )
    .await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    app.refresh(rt, WEBAPP).await;
    app.refresh(rt, WEBAPP).await; // reuse: revokes the family
    app.back_channel(
        "/revoke",
        &[("token", tokens["access_token"].as_str().unwrap())],
        WEBAPP,
    )
    .await;
    // prompt=login: this browser is still signed in as alice.
    app.tokens_for(
        &AuthRequest::public().with("prompt", "login"),
        "bob",
        BOB_PASSWORD,
    )
    .await;

    let response = app.get("/metrics").await;
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let after = response.text().await.unwrap();
    let m = |l: &str| metric(&after, l);
    assert_eq!(
        m(r#"gatehouse_sign_ins_total{result="success"}"#),
        2.0,
        "{after}"
    );
    assert_eq!(m(r#"gatehouse_sign_ins_total{result="failure"}"#), 1.0);
    assert_eq!(
        m(r#"gatehouse_mfa_challenges_total{result="success"}"#),
        1.0
    );
    assert_eq!(
        m(r#"gatehouse_tokens_issued_total{grant_type="authorization_code"}"#),
        2.0
    );
    assert_eq!(
        m(r#"gatehouse_tokens_issued_total{grant_type="refresh_token"}"#),
        1.0
    );
    assert_eq!(m("gatehouse_refresh_token_reuse_total"), 1.0);
    assert_eq!(
        m(r#"gatehouse_revocations_total{token_type="access_token"}"#),
        1.0
    );
    assert_eq!(
        m(r#"gatehouse_revocations_total{token_type="refresh_token"}"#),
        0.0
    );
    assert_eq!(
        m(r#"gatehouse_tokens_issued_total{grant_type="client_credentials"}"#),
        0.0
    );
    // Two codes redeemed and one refresh; the reused refresh token got a 400.
    assert_eq!(
        m(
            r#"gatehouse_http_request_duration_seconds_count{method="POST",route="/token",status="200"}"#
        ),
        3.0
    );
    assert_eq!(
        m(
            r#"gatehouse_http_request_duration_seconds_count{method="POST",route="/token",status="400"}"#
        ),
        1.0
    );
    assert!(m("gatehouse_db_pool_connections") >= 1.0, "{after}");
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let app = spawn_app_with(|c| c.metrics_listen = Some("127.0.0.1:0".into())).await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    let port = app.metrics_port.expect("a metrics port");
    let text = app
        .api
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        metric(&text, r#"gatehouse_sign_ins_total{result="success"}"#),
        0.0
    );
    assert_eq!(metric(&text, "gatehouse_refresh_token_reuse_total"), 0.0);
    // The listener serves the same registry: a sign-in there is counted.
    app.tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let text = app
        .api
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        metric(&text, r#"gatehouse_sign_ins_total{result="success"}"#),
        1.0
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let a = app.get("/jwks").await;
    let b = app.get("/nothing").await;
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id(&a).len(), 32);
    assert_ne!(id(&a), id(&b));
    let kept = app
        .api
        .get(app.url("/healthz"))
        .header("x-request-id", "edge-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(id(&kept), "edge-1234");
    let replaced = app
        .api
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id\u{7f}")
        .send()
        .await;
    if let Ok(replaced) = replaced {
        assert_ne!(id(&replaced), "bad id");
    }
}

#[tokio::test]
async fn json_logs_carry_the_request_id_on_every_request_line() {
    let port = free_port();
    let database = fresh_database().await;
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", &database)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ISSUER", format!("http://127.0.0.1:{port}"))
        .env("GATEHOUSE_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = client_builder().build().unwrap();
    let url = format!("http://127.0.0.1:{port}/jwks");
    let mut request_id = None;
    for _ in 0..200 {
        if let Ok(response) = client
            .get(&url)
            .header("x-request-id", "trace-me-42")
            .send()
            .await
        {
            request_id = Some(
                response.headers()["x-request-id"]
                    .to_str()
                    .unwrap()
                    .to_string(),
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(request_id.as_deref(), Some("trace-me-42"));
    // Stopped the way an operator stops it, so queued lines are written.
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let completed = lines
        .iter()
        .find(|l| l["fields"]["message"] == "request completed")
        .expect("a request line");
    assert_eq!(
        completed["span"]["request_id"], "trace-me-42",
        "{completed}"
    );
    assert_eq!(completed["fields"]["status"], 200);
}

#[tokio::test]
async fn the_container_health_check_command_tells_up_from_down() {
    let port = free_port();
    let database = fresh_database().await;
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        command
            .args(args)
            .env("GATEHOUSE_DATABASE_URL", &database)
            .env("GATEHOUSE_LISTEN", format!("0.0.0.0:{port}"))
            .env("GATEHOUSE_ISSUER", format!("http://127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    };
    assert!(
        !run(&["healthcheck"]).status().unwrap().success(),
        "nothing listens yet"
    );
    let mut server = run(&["serve"]).spawn().unwrap();
    let mut healthy = false;
    for _ in 0..200 {
        if run(&["healthcheck"]).status().unwrap().success() {
            healthy = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(healthy, "the health check passes once the server is up");
}

#[tokio::test]
async fn a_lost_database_gives_503s_not_500s() {
    let app = spawn_app().await;
    let page = app.get("/login").await;
    let html = page.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf").unwrap();
    let admin_token = app.admin_token().await;
    app.provider.store.close().await;

    let token = app
        .token_form(
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("redirect_uri", CONFIDENTIAL_REDIRECT),
            ],
            Some(WEBAPP),
        )
        .await;
    assert_eq!(token.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(token.headers().contains_key("retry-after"));
    let body: Value = token.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");

    let login = app
        .browser
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "alice"),
            ("password", ALICE_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(login.text().await.unwrap().contains("Error id"));

    let authorize = app.authorize(&AuthRequest::confidential()).await;
    assert_eq!(authorize.status(), StatusCode::SERVICE_UNAVAILABLE);
    let introspect = app
        .back_channel("/introspect", &[("token", "x")], WEBAPP)
        .await;
    assert_eq!(introspect.status(), StatusCode::SERVICE_UNAVAILABLE);

    // One rule for every JSON answer: 503, Retry-After, temporarily_unavailable.
    for path in ["/admin/api/v1/users", "/userinfo"] {
        let answer = app
            .browser
            .get(app.url(path))
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(answer.headers()["retry-after"], "5", "{path}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable", "{path}");
    }
}

#[tokio::test]
async fn start_up_waits_for_a_database_that_is_not_there_yet() {
    let Some(server) = postgres_server() else {
        return; // SQLite needs no server to wait for.
    };
    let database = fresh_database().await;
    let real = url::Url::parse(&server).unwrap();
    let real_port = real.port().unwrap_or(5432);
    let db_port = free_port();
    let mut late = url::Url::parse(&database).unwrap();
    late.set_port(Some(db_port)).unwrap();
    let port = free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", late.as_str())
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ISSUER", format!("http://127.0.0.1:{port}"))
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The database "comes up" a second later: a forwarder to the real one.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", db_port))
        .await
        .unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut outbound) =
                    tokio::net::TcpStream::connect(("127.0.0.1", real_port)).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    let client = client_builder().build().unwrap();
    let mut ready = false;
    for _ in 0..300 {
        let answer = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await;
        if matches!(answer, Ok(r) if r.status() == StatusCode::OK) {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(ready, "ready once the database answers: {log}");
    assert!(
        log.contains("database not reachable yet; retrying"),
        "{log}"
    );
}
