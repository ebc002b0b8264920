//! Several replicas on one database behind a round-robin proxy: every step
//! of a sign-in may land on a different process, and all state is shared.
//! Runs on the engine of the suite (a shared SQLite file, or Postgres).

use crate::helpers::*;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Replica processes, killed when the test ends however it ends.
struct Replicas(Vec<Child>);

impl Drop for Replicas {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Forwards each new connection to the next backend in turn.
async fn round_robin_proxy(backends: Vec<u16>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut next = 0usize;
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let backend = backends[next % backends.len()];
            next += 1;
            tokio::spawn(async move {
                if let Ok(mut outbound) =
                    tokio::net::TcpStream::connect(("127.0.0.1", backend)).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    port
}

async fn wait_ready(client: &Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await;
        if matches!(ready, Ok(r) if r.status() == StatusCode::OK) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replica on port {port} never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn three_replicas_share_one_database() {
    let database_url = fresh_database().await;
    let seed = write_seed();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let proxy = round_robin_proxy(ports.clone()).await;
    let issuer = format!("http://127.0.0.1:{proxy}");

    // All three start at once on an empty database.
    let children = ports
        .iter()
        .map(|port| {
            Command::new(env!("CARGO_BIN_EXE_gatehouse"))
                .args(["serve", "--seed"])
                .arg(&seed)
                .env("GATEHOUSE_DATABASE_URL", &database_url)
                .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
                .env("GATEHOUSE_ISSUER", &issuer)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .spawn()
                .expect("the binary starts")
        })
        .collect();
    let _replicas = Replicas(children);
    let api = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for port in &ports {
        wait_ready(&api, *port).await;
    }

    // Migrations ran once each; one current and one next key exist.
    assert_eq!(
        count(
            &database_url,
            "SELECT COUNT(*) AS n FROM gatehouse_migrations"
        )
        .await,
        gatehouse::store::migration_count() as i64
    );
    let current = "SELECT COUNT(*) AS n FROM signing_keys WHERE state = 'current'";
    assert_eq!(count(&database_url, current).await, 1);
    // The next key follows a first start in the background; replicas racing
    // to publish it store one.
    let next = "SELECT COUNT(*) AS n FROM signing_keys WHERE state = 'next'";
    let waiting = Instant::now();
    while count(&database_url, next).await == 0 && waiting.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count(&database_url, next).await, 1);
    // Each replica loads it once its own attempt to publish one is over.
    let waiting = Instant::now();
    loop {
        let mut jwks = Vec::new();
        for port in &ports {
            let body = api
                .get(format!("http://127.0.0.1:{port}/jwks"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            jwks.push(body);
        }
        let same = jwks.windows(2).all(|w| w[0] == w[1]);
        let both = jwks[0].matches(r#""kid""#).count() == 2;
        if same && both {
            break;
        }
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "every replica publishes the same two keys: {jwks:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A browser through the proxy: a new connection, so a new replica, for
    // every request of the sign-in.
    let browser = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let request = AuthRequest::offline();
    let at = |path: &str| format!("{issuer}{path}");
    let go = |response: &reqwest::Response| at(&location(response));
    let first = browser
        .get(at("/authorize"))
        .query(&request.params())
        .send()
        .await
        .unwrap();
    let page = browser
        .get(go(&first))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = |html: &str, extra: &[(&str, &str)]| {
        let mut fields = vec![
            ("csrf".to_string(), hidden_field(html, "csrf").unwrap()),
            (
                "request".to_string(),
                hidden_field(html, "request").unwrap(),
            ),
        ];
        fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        fields
    };
    let signed_in = browser
        .post(at("/login"))
        .form(&form(
            &page,
            &[("username", "alice"), ("password", ALICE_PASSWORD)],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let resumed = browser.get(go(&signed_in)).send().await.unwrap();
    let consent = browser
        .get(go(&resumed))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let allowed = browser
        .post(at("/consent"))
        .form(&form(&consent, &[("decision", "allow")]))
        .send()
        .await
        .unwrap();
    let code = param(&location_params(&allowed), "code").expect("a code at the client");

    // Redeem on the second replica, refresh on the third, introspect on the first.
    let replica = |i: usize, path: &str| format!("http://127.0.0.1:{}{path}", ports[i]);
    let tokens: Value = api
        .post(replica(1, "/token"))
        .basic_auth(CONFIDENTIAL, Some(CONFIDENTIAL_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CONFIDENTIAL_REDIRECT),
            ("code_verifier", request.verifier.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(claims_iss(tokens["id_token"].as_str().unwrap()), issuer);
    let refreshed: Value = api
        .post(replica(2, "/token"))
        .basic_auth(CONFIDENTIAL, Some(CONFIDENTIAL_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let introspected: Value = api
        .post(replica(0, "/introspect"))
        .basic_auth(CONFIDENTIAL, Some(CONFIDENTIAL_SECRET))
        .form(&[("token", refreshed["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true, "{introspected}");
    assert_eq!(introspected["username"], "alice");
    // Every replica now holds that answer in its read cache.
    let access = refreshed["access_token"].as_str().unwrap();
    let introspect_at = |i: usize| {
        api.post(replica(i, "/introspect"))
            .basic_auth(CONFIDENTIAL, Some(CONFIDENTIAL_SECRET))
            .form(&[("token", access)])
            .send()
    };
    for i in 1..3 {
        let answer: Value = introspect_at(i).await.unwrap().json().await.unwrap();
        assert_eq!(answer["active"], true, "replica {i}: {answer}");
    }
    let reused = api
        .post(replica(0, "/token"))
        .basic_auth(CONFIDENTIAL, Some(CONFIDENTIAL_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        reused.status(),
        StatusCode::BAD_REQUEST,
        "rotation is shared state too"
    );
    // The reuse revoked the family on replica 0; by the time it answered,
    // the others had dropped their cached answers.
    for i in 0..3 {
        let answer: Value = introspect_at(i).await.unwrap().json().await.unwrap();
        assert_eq!(answer["active"], false, "replica {i} after the revocation");
        let userinfo = api
            .get(replica(i, "/userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED, "replica {i}");
    }
}

fn claims_iss(jwt: &str) -> String {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&bytes).unwrap();
    claims["iss"].as_str().unwrap().to_string()
}
