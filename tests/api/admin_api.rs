//! The JSON admin API: who may call it, what each operation does, the audit
//! trail it leaves, and an OpenAPI document that matches it.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

impl TestApp {
    pub(crate) async fn api(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self
            .api
            .request(method, self.url(&format!("/admin/api/v1{path}")))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub(crate) async fn api_json(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let response = self.api(method, path, token, body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn only_admin_clients_own_tokens_open_the_api() {
    let app = spawn_app().await;
    let service = (SERVICE, SERVICE_SECRET);
    let refused = app.client_token(service, "gatehouse:admin").await;
    assert_eq!(
        refused.status(),
        StatusCode::BAD_REQUEST,
        "non-admin clients cannot get the scope"
    );

    let anonymous = app
        .api
        .get(app.url("/admin/api/v1/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let forged = app.api(Method::GET, "/users", "not.a.token", None).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    let body: Value = app
        .client_token(service, "api:read")
        .await
        .json()
        .await
        .unwrap();
    let service_token = body["access_token"].as_str().unwrap();
    let wrong = app.api(Method::GET, "/users", service_token, None).await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert!(wrong.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_scope"));

    let user_tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let users_own = app
        .api(
            Method::GET,
            "/users",
            user_tokens["access_token"].as_str().unwrap(),
            None,
        )
        .await;
    assert_eq!(
        users_own.status(),
        StatusCode::FORBIDDEN,
        "a user's token never qualifies"
    );
    // alice is signed in in this browser: the API answers her with 403.
    let browser = app
        .browser
        .get(app.url("/admin/api/v1/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), StatusCode::FORBIDDEN);

    let token = app.admin_token().await;
    let (status, list) = app.api_json(Method::GET, "/users", &token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total"], 2);

    // Taking the admin flag away closes the API to tokens already issued.
    let (status, _) = app
        .api_json(
            Method::PUT,
            "/clients/automation",
            &token,
            Some(json!({ "grant_types": ["client_credentials"], "scopes": ["api:read"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.api(Method::GET, "/users", &token, None).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn users_are_managed_through_the_api_and_audited() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let (status, created) = app
        .api_json(
            Method::POST,
            "/users",
            &token,
            Some(json!({ "username": "frank", "email": "frank@example.com", "name": "Frank" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let temporary = created["temporary_password"].as_str().unwrap().to_string();
    let id = created["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["user"]["must_change_password"], true);

    let (status, again) = app
        .api_json(
            Method::POST,
            "/users",
            &token,
            Some(json!({ "username": "frank" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (status, bad) = app
        .api_json(
            Method::POST,
            "/users",
            &token,
            Some(json!({ "username": "gina", "email": "nope" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"], "invalid_request");
    let form = app
        .api
        .post(app.url("/admin/api/v1/users"))
        .bearer_auth(&token)
        .form(&[("username", "gina")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, patched) = app
        .api_json(
            Method::PATCH,
            "/users/frank",
            &token,
            Some(json!({ "name": null, "is_admin": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patched["name"], Value::Null);
    assert_eq!(patched["email"], "frank@example.com", "absent fields stay");
    assert_eq!(patched["is_admin"], true);

    let (_, found) = app
        .api_json(Method::GET, "/users?q=FRANK", &token, None)
        .await;
    assert_eq!(found["total"], 1);
    let (status, _) = app
        .api_json(Method::GET, "/users/nobody", &token, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The temporary password signs in and must be replaced.
    let page = app.get("/login").await;
    let answer = app
        .submit_form(
            page,
            "/login",
            &[("username", "frank"), ("password", &temporary)],
        )
        .await;
    assert!(location(&answer).contains("/login/new-password"));

    let (status, sessions) = app
        .api_json(Method::GET, &format!("/users/{id}/sessions"), &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let sid = sessions["items"][0]["sid"].as_str().unwrap().to_string();
    let ended = app
        .api(
            Method::DELETE,
            &format!("/users/{id}/sessions/{sid}"),
            &token,
            None,
        )
        .await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/login/new-password").await.status(),
        StatusCode::FOUND,
        "signed out"
    );

    let (status, reset) = app
        .api_json(Method::POST, "/users/frank/reset-password", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reset["temporary_password"].as_str().unwrap().len(), 20);
    let (status, _) = app
        .api_json(
            Method::POST,
            "/users/frank/reset-password",
            &token,
            Some(json!({ "password": "franks chosen words" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    assert_eq!(
        app.api(Method::POST, "/users/frank/disable", &token, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (_, frank) = app
        .api_json(Method::GET, "/users/frank", &token, None)
        .await;
    assert_eq!(frank["disabled"], true);
    assert_eq!(
        app.api(Method::POST, "/users/frank/enable", &token, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.api(Method::POST, "/users/bob/reset-mfa", &token, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (_, bob) = app.api_json(Method::GET, "/users/bob", &token, None).await;
    assert_eq!(bob["mfa_enabled"], false);
    assert_eq!(
        app.api(Method::DELETE, "/users/frank", &token, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.api(Method::DELETE, "/users/frank", &token, None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let (status, log) = app
        .api_json(
            Method::GET,
            &format!("/audit?user={id}&event=admin."),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let events: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for expected in [
        "admin.user.created",
        "admin.user.updated",
        "admin.session.ended",
        "admin.user.password_reset",
        "admin.user.disabled",
        "admin.user.enabled",
        "admin.user.deleted",
    ] {
        assert!(events.contains(&expected), "{expected} in {events:?}");
    }
    let created_event = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "admin.user.created")
        .unwrap();
    assert_eq!(created_event["actor"], "client:automation");
    assert_eq!(created_event["ip"], "127.0.0.1");
    let (_, sign_ins) = app
        .api_json(
            Method::GET,
            "/audit?user=frank&event=sign_in.",
            &token,
            None,
        )
        .await;
    assert_eq!(sign_ins["items"][0]["event"], "sign_in.success");
    let (_, none) = app
        .api_json(Method::GET, "/audit?event=SIGN_IN.", &token, None)
        .await;
    assert_eq!(
        none["items"].as_array().unwrap().len(),
        0,
        "prefixes match exactly"
    );

    // A secret guessed at introspection is recorded like one at /token.
    let guessed = app
        .api
        .post(app.url("/introspect"))
        .basic_auth(CONFIDENTIAL, Some("not-the-secret"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(guessed.status(), StatusCode::UNAUTHORIZED);
    let (_, failures) = app
        .api_json(
            Method::GET,
            "/audit?event=token.client_auth_failure",
            &token,
            None,
        )
        .await;
    assert_eq!(failures["items"][0]["client_id"], CONFIDENTIAL);
}

#[tokio::test]
async fn clients_grants_and_keys_are_managed_through_the_api() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let (status, created) = app
        .api_json(
            Method::POST,
            "/clients",
            &token,
            Some(json!({
                "client_id": "billing",
                "name": "Billing",
                "grant_types": ["client_credentials"],
                "scopes": ["invoices:read"],
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["client_secret"].as_str().unwrap().to_string();
    assert_eq!(
        app.client_token(("billing", &secret), "invoices:read")
            .await
            .status(),
        StatusCode::OK
    );

    let (status, refused) = app
        .api_json(
            Method::POST,
            "/clients",
            &token,
            Some(json!({ "client_id": "evil", "redirect_uris": ["https://evil.example/*"] })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .contains("wildcard"),
        "{refused}"
    );

    let (status, updated) = app
        .api_json(
            Method::PUT,
            "/clients/billing",
            &token,
            Some(json!({
                "name": "Billing service",
                "grant_types": ["client_credentials"],
                "scopes": ["invoices:read", "invoices:write"],
                "access_token_ttl": 300,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["access_token_ttl"], 300);
    assert_eq!(updated["public"], false);
    let (status, rotated) = app
        .api_json(Method::POST, "/clients/billing/rotate-secret", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_eq!(
        app.client_token(("billing", &secret), "invoices:read")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.client_token(("billing", new_secret), "invoices:write")
            .await
            .status(),
        StatusCode::OK
    );

    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    let (_, grants) = app
        .api_json(Method::GET, "/clients/webapp/grants", &token, None)
        .await;
    let grant = grants["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(grants["items"][0]["username"], "alice");
    assert_eq!(
        app.api(Method::DELETE, &format!("/grants/{grant}"), &token, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.refresh(refresh, WEBAPP).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.api(Method::DELETE, &format!("/grants/{grant}"), &token, None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let (_, keys) = app.api_json(Method::GET, "/keys", &token, None).await;
    let next = keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["state"] == "next")
        .unwrap()["kid"]
        .clone();
    let (status, rotation) = app
        .api_json(Method::POST, "/keys/rotate", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        rotation["current"], next,
        "the published next key signs now"
    );
    assert_eq!(
        app.provider.keys().await.signing.kid,
        next.as_str().unwrap(),
        "this server switched at once"
    );

    assert_eq!(
        app.api(Method::DELETE, "/clients/billing", &token, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.api(Method::GET, "/clients/billing", &token, None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

/// Resolves a local `$ref` in the document.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Checks that `value` has every property `schema` requires, one level
/// down into objects and array items too.
fn check_required(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    if let Some(required) = schema["required"].as_array() {
        for key in required {
            let key = key.as_str().unwrap();
            assert!(value.get(key).is_some(), "{at}: missing {key} in {value}");
            check_required(
                doc,
                &schema["properties"][key],
                &value[key],
                &format!("{at}.{key}"),
            );
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for item in array {
            check_required(doc, items, item, at);
        }
    }
}

/// A parked message in the outbox (due far ahead, so the sender leaves it to
/// this test); its id.
async fn parked_mail(app: &TestApp) -> String {
    use gatehouse::clock::Clock;
    let store = &app.provider.store;
    let later = app.clock.now() + 86_400;
    let id = uuid::Uuid::new_v4().to_string();
    let mail = gatehouse::model::NewMail {
        id: id.clone(),
        message_id: format!("<{id}@127.0.0.1>"),
        kind: gatehouse::model::MailKind::Notice,
        recipient: "alice@example.com".into(),
        subject: "A notice".into(),
        text_body: "text".into(),
        html_body: "<p>html</p>".into(),
    };
    store.enqueue_mail(&mail, later).await.unwrap();
    assert!(store
        .claim_one(&id, "email", "test", later, later + 300)
        .await
        .unwrap());
    assert!(store
        .mail_failed(&id, "test", "refused", None)
        .await
        .unwrap());
    id
}

#[tokio::test]
async fn the_openapi_document_matches_the_implementation() {
    // Email on (SMTP where nothing listens: messages wait), for invitations.
    let smtp = format!("smtp://127.0.0.1:{}", free_port());
    let app = spawn_app_with(|c| c.smtp_url = Some(smtp.as_str().into())).await;
    let token = app.admin_token().await;
    let (status, doc) = app
        .api_json(Method::GET, "/openapi.json", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    let mut implemented: Vec<(String, String)> = gatehouse::web::admin::api::OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    implemented.sort();
    assert_eq!(
        documented, implemented,
        "every route documented, nothing else"
    );

    // Something for every operation to act on.
    let tokens = app
        .tokens_for(&AuthRequest::offline(), "alice", ALICE_PASSWORD)
        .await;
    assert!(tokens["refresh_token"].is_string());
    let (_, alice) = app
        .api_json(Method::GET, "/users/alice", &token, None)
        .await;
    let alice_id = alice["id"].as_str().unwrap().to_string();
    let (_, sessions) = app
        .api_json(Method::GET, "/users/alice/sessions", &token, None)
        .await;
    let sid = sessions["items"][0]["sid"].as_str().unwrap().to_string();
    let (_, grants) = app
        .api_json(Method::GET, "/users/alice/grants", &token, None)
        .await;
    let grant = grants["items"][0]["id"].as_str().unwrap().to_string();
    let passkey = app.add_passkey("alice", "Laptop").await;
    let parked = parked_mail(&app).await;
    app.api_json(
        Method::POST,
        "/users",
        &token,
        Some(json!({ "username": "doomed" })),
    )
    .await;
    app.api_json(
        Method::POST,
        "/users",
        &token,
        Some(json!({ "username": "spare" })),
    )
    .await;
    app.api_json(
        Method::POST,
        "/clients",
        &token,
        Some(json!({ "client_id": "doomed", "grant_types": ["client_credentials"] })),
    )
    .await;
    for (path, body) in [
        ("/groups", json!({ "name": "staff" })),
        ("/groups", json!({ "name": "doomed" })),
        (
            "/apis",
            json!({ "identifier": "https://api.example.test/" }),
        ),
        (
            "/apis",
            json!({ "identifier": "https://doomed.example.test/" }),
        ),
        ("/scopes", json!({ "name": "doomed" })),
        (
            "/upstreams",
            json!({ "id": "corp", "kind": "oidc", "name": "Corp", "issuer": "https://login.corp.example", "client_id": "gatehouse", "client_secret": "corp-secret" }),
        ),
        (
            "/upstreams",
            json!({ "id": "doomed", "kind": "oidc", "name": "Doomed", "issuer": "https://doomed.example", "client_id": "gatehouse", "client_secret": "doomed-secret" }),
        ),
    ] {
        let (status, value) = app.api_json(Method::POST, path, &token, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {value}");
    }

    let bodies: std::collections::HashMap<&str, Value> = [
        ("createUser", json!({ "username": "oscar", "email": "oscar@example.com" })),
        ("inviteUser", json!({ "username": "ivy", "email": "ivy@example.com" })),
        ("updateUser", json!({ "name": "Alice A." })),
        ("resetPassword", json!({ "password": "alices new words" })),
        ("createClient", json!({ "client_id": "reports", "redirect_uris": ["https://reports.example/cb"] })),
        ("updateClient", json!({ "name": "Web", "redirect_uris": ["http://127.0.0.1:9999/callback"], "grant_types": ["authorization_code", "refresh_token"], "scopes": ["openid", "offline_access"] })),
        ("setUserClaim", json!("engineering")),
        ("createGroup", json!({ "name": "ops", "description": "Operations" })),
        ("updateGroup", json!({ "description": "Everyone on staff" })),
        ("createApi", json!({ "identifier": "https://reports.example.test/", "scopes": [{ "name": "reports:read", "description": "Read your reports" }], "roles": { "reader": ["staff"] }, "signing_alg": "ES256" })),
        ("updateApi", json!({ "name": "Main API", "scopes": [{ "name": "read" }], "access_token_ttl": 300 })),
        ("createScope", json!({ "name": "team", "description": "Your team", "claims": ["team"] })),
        ("putScope", json!({ "description": "Your department", "claims": ["department"] })),
        ("createUpstream", json!({ "id": "github", "kind": "oauth2", "name": "GitHub", "authorization_endpoint": "https://github.com/login/oauth/authorize", "token_endpoint": "https://github.com/login/oauth/access_token", "userinfo_endpoint": "https://api.github.com/user", "client_id": "gh", "client_secret": "gh-secret", "scopes": ["read:user"] })),
        ("updateUpstream", json!({ "kind": "oidc", "name": "Corp SSO", "issuer": "https://login.corp.example", "client_id": "gatehouse", "group_map": { "corp-staff": "staff" } })),
    ]
    .into_iter()
    .collect();
    // Destructive operations last, on their own targets.
    let mut operations: Vec<(String, String, Value)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            operations.push((method.clone(), path.clone(), op.clone()));
        }
    }
    operations.sort_by_key(|(m, p, _)| {
        (
            m == "delete" || p.ends_with("/disable") || p.ends_with("/reset-mfa"),
            p.clone(),
        )
    });
    for (method, path, op) in operations {
        let deleting = method == "delete";
        let url = path
            .replace("/users/{id}/claims/{name}", "/users/alice/claims/team")
            .replace(
                "/groups/{name}/members/{user}",
                "/groups/staff/members/alice",
            )
            .replace(
                "/groups/{name}",
                if deleting {
                    "/groups/doomed"
                } else {
                    "/groups/staff"
                },
            )
            .replace(
                "/apis/{identifier}",
                if deleting {
                    "/apis/https%3A%2F%2Fdoomed.example.test%2F"
                } else {
                    "/apis/https%3A%2F%2Fapi.example.test%2F"
                },
            )
            .replace(
                "/scopes/{name}",
                if deleting {
                    "/scopes/doomed"
                } else {
                    "/scopes/department"
                },
            )
            .replace("/users/{id}/invitation", "/users/ivy/invitation")
            .replace("/outbox/{id}", &format!("/outbox/{parked}"))
            .replace(
                "/users/{id}/sessions/{sid}",
                &format!("/users/{alice_id}/sessions/{sid}"),
            )
            .replace(
                "/users/{id}/passkeys/{passkey_id}",
                &format!("/users/alice/passkeys/{passkey}"),
            )
            .replace(
                "/users/{id}",
                if deleting {
                    "/users/doomed"
                } else {
                    "/users/alice"
                },
            )
            .replace("/grants/{id}", &format!("/grants/{grant}"))
            .replace(
                "/upstreams/{id}",
                if deleting {
                    "/upstreams/doomed"
                } else {
                    "/upstreams/corp"
                },
            )
            .replace(
                "/clients/{client_id}",
                if deleting {
                    "/clients/doomed"
                } else {
                    "/clients/webapp"
                },
            )
            .replace(
                "/clients/webapp/rotate-secret",
                "/clients/kiosk/rotate-secret",
            )
            // These end alice's sessions, which other operations use.
            .replace("/users/alice/disable", "/users/spare/disable")
            .replace("/users/alice/reset-password", "/users/spare/reset-password");
        let id = op["operationId"].as_str().unwrap();
        let body = bodies.get(id).cloned();
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let (status, value) = app.api_json(method, &url, &token, body).await;
        let responses = &op["responses"];
        let documented = &responses[status.as_str()];
        assert!(
            documented.is_object(),
            "{id}: {status} is not documented ({value})"
        );
        assert!(status.is_success(), "{id} failed: {status} {value}");
        if let Some(schema) = documented["content"]["application/json"].get("schema") {
            check_required(&doc, schema, &value, id);
        }
    }
}
