//! The public endpoints: authorization, the back channel, userinfo,
//! logout, discovery and static files.

use super::Expect::{ClientError, Empty, Json, JsonOk, Page, Redirect};
use super::*;

const UNTRUSTED: &str = "This sign-in request cannot be trusted";
const MALFORMED_AUTHORIZE: &str = "This sign-in request is malformed";
const EXPIRED_LINK: &str = "This sign-in link has expired";
const LOGOUT_UNTRUSTED: &str = "This sign-out request cannot be trusted";
const LOGOUT_MALFORMED: &str = "This sign-out request is malformed";
const TOO_LARGE: &str = "larger than 64 KiB";
const NOT_FOUND: &str = "Page not found";
const FORM_EXPIRED: &str = "This form had expired";

/// A valid webapp request (state `s1`), with `extra` appended.
fn authorize(extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id=webapp&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcallback&scope=openid&state=s1{extra}"
    )
}

#[rustfmt::skip]
fn authorize_cases() -> Vec<Case> {
    let over = |n: usize| "x".repeat(n + 1);
    vec![
        get("/authorize").named("nothing").then(Page(400, UNTRUSTED)),
        get("/authorize?client_id=%00").named("NUL client_id").then(Page(400, UNTRUSTED)),
        get("/authorize?client_id=%ff%fe").named("invalid UTF-8 client_id").then(Page(400, UNTRUSTED)),
        get("/authorize?%ff%fe=%00&client_id=%00").named("garbage").then(Page(400, UNTRUSTED)),
        get("/authorize?client_id=webapp&client_id=webapp").named("client_id twice").then(Page(400, UNTRUSTED)),
        get("/authorize?client_id[]=webapp").named("client_id as an array").then(Page(400, UNTRUSTED)),
        get("/authorize?client_id=nobody&redirect_uri=http%3A%2F%2Fevil.example%2F").named("unknown client").then(Page(400, UNTRUSTED)),
        get(format!("/authorize?client_id={}", over(128))).named("client_id too long").then(Page(400, UNTRUSTED)),
        get("/authorize?client_id=webapp&redirect_uri=http%3A%2F%2Fevil.example%2F&state=s1").named("unregistered redirect_uri").then(Page(400, UNTRUSTED)),
        get("/authorize?client_id=webapp&redirect_uri=%00&state=s1").named("NUL redirect_uri").then(Page(400, UNTRUSTED)),
        get(format!("/authorize?client_id=webapp&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcallback{}", over(2048))).named("redirect_uri too long").then(Page(400, UNTRUSTED)),
        get(format!("{}&state={}", authorize("").replace("&state=s1", ""), over(2048))).named("state too long").then(Page(400, "state value longer than 2048")),
        get(authorize(&format!("&nonce={}", over(512)))).named("nonce too long").then(ClientError("invalid_request")),
        get(authorize(&format!("&login_hint={}", over(256)))).named("login_hint too long").then(ClientError("invalid_request")),
        get(authorize(&format!("&code_challenge={}&code_challenge_method=S256", over(128)))).named("code_challenge too long").then(ClientError("invalid_request")),
        get(authorize(&format!("&scope={}", over(2048)))).named("scope too long").then(ClientError("invalid_request")),
        get(authorize("&response_type=code")).named("response_type twice").then(ClientError("invalid_request")),
        get(authorize("&nonce=a%00b")).named("NUL in nonce").then(ClientError("invalid_request")),
        get(authorize("&max_age=abc")).named("max_age not a number").then(ClientError("invalid_request")),
        get(authorize(&format!("&max_age={}", "9".repeat(40)))).named("max_age too big").then(ClientError("invalid_request")),
        get(authorize("&max_age=-1")).named("max_age negative").then(ClientError("invalid_request")),
        get(authorize("&prompt=sometimes")).named("unknown prompt").then(ClientError("invalid_request")),
        get(authorize("&response_mode=fragment")).named("unknown response_mode").then(ClientError("invalid_request")),
        get(authorize("&code_challenge_method=plain&code_challenge=abc")).named("plain PKCE").then(ClientError("invalid_request")),
        get(authorize("&request=eyJ.x.y")).named("request object").then(ClientError("request_not_supported")),
        get(authorize("&request_uri=urn%3Ax")).named("request_uri").then(ClientError("request_uri_not_supported")),
        get(authorize("&resource=not%20a%20uri")).named("resource not a URI").then(ClientError("invalid_target")),
        get(authorize("").replace("scope=openid", "scope[]=openid")).named("scope as an array").then(ClientError("invalid_scope")),
        get(authorize("").replace("response_type=code", "response_type=token")).named("implicit flow").then(ClientError("unsupported_response_type")),
        // A form POST is relayed as a GET, which does the checking.
        post("/authorize").json(r#"{"client_id":"webapp"}"#).named("JSON body").then(Page(400, MALFORMED_AUTHORIZE)),
        post("/authorize").untyped("client_id=webapp").named("no content type").then(Page(400, MALFORMED_AUTHORIZE)),
        post("/authorize").form(format!("client_id={}", over_field_limit())).named("field over the limit").then(Page(400, MALFORMED_AUTHORIZE)),
        post("/authorize").form(oversized_body()).named("body over 64 KiB").then(Page(413, TOO_LARGE)),
        post("/authorize").form("client_id=a&client_id=b").named("relayed as it came").then(Redirect(303, "/authorize?client_id=a&client_id=b")),
        method("PUT", "/authorize").named("PUT").then(Page(404, NOT_FOUND)),
        get("/authorize/resume").named("no request").then(Page(400, EXPIRED_LINK)),
        get("/authorize/resume?request=%00%0d%0a").named("control characters").then(Page(400, EXPIRED_LINK)),
        get(format!("/authorize/resume?request={}", "x".repeat(5000))).named("long id").then(Page(400, EXPIRED_LINK)),
        get("/authorize/resume?request=a&request=b").named("request twice").then(Page(400, EXPIRED_LINK)),
    ]
}

/// Cases every client-authenticated back-channel endpoint answers alike;
/// `good` is a well-formed body for it. The token endpoint reads the form
/// before it authenticates the client; introspection and revocation
/// authenticate first, so a client_id they cannot read means none was sent.
#[rustfmt::skip]
fn back_channel_cases(path: &'static str, good: &str) -> Vec<Case> {
    let nul_client_id = match path {
        "/token" => Json(400, "invalid_request"),
        _ => Json(401, "invalid_client"),
    };
    vec![
        post(path).json(r#"{"grant_type":"client_credentials"}"#).basic(WEBAPP).named("JSON body").then(Json(400, "invalid_request")),
        post(path).untyped(good).basic(WEBAPP).named("no content type").then(Json(400, "invalid_request")),
        post(path).form(oversized_body()).basic(WEBAPP).named("body over 64 KiB").then(Json(413, "invalid_request")),
        post(path).form(format!("{good}&x={}", over_field_limit())).basic(WEBAPP).named("field over the limit").then(Json(400, "invalid_request")),
        post(path).form(good).auth("Basic %%%").named("Basic not base64").then(Json(401, "invalid_client")),
        post(path).form(good).auth(basic("nocolon")).named("Basic without a colon").then(Json(401, "invalid_client")),
        post(path).form(good).auth(basic_bytes(&[0xff, b':', 0xfe])).named("Basic not UTF-8").then(Json(401, "invalid_client")),
        post(path).form(good).auth(basic_bytes(b"web\0app:x")).named("NUL in the Basic id").then(Json(401, "invalid_client")),
        post(path).form(good).auth(basic("webapp:wrong")).named("wrong secret").then(Json(401, "invalid_client")),
        post(path).form(good).auth(basic(&format!("{}:x", "c".repeat(5000)))).named("long Basic id").then(Json(401, "invalid_client")),
        post(path).form(format!("{good}&client_id=a%00b&client_secret=x")).named("NUL in a form client_id").then(nul_client_id),
        post(path).form(format!("{good}&{good}")).basic(WEBAPP).named("every field twice").then(Json(400, "invalid_request")),
        post(path).bytes(&[0xff, 0xfe, 0x00, 0x41]).basic(WEBAPP).named("binary body").then(Json(400, "invalid_request")),
        get(path).named("GET").then(Json(405, "invalid_request")),
    ]
}

#[rustfmt::skip]
fn token_cases() -> Vec<Case> {
    let mut cases = back_channel_cases("/token", "grant_type=client_credentials");
    cases.extend([
        post("/token").form("grant_type[]=x&code[a]=1").basic(WEBAPP).named("array-typed names").then(Json(400, "invalid_request")),
        post("/token").form("grant_type=password&username=a&password=b").basic(WEBAPP).named("password grant").then(Json(400, "unsupported_grant_type")),
        post("/token").form("grant_type=authorization_code&code=%ff%fe&redirect_uri=x").basic(WEBAPP).named("invalid UTF-8 code").then(Json(400, "invalid_grant")),
        post("/token").form(format!("grant_type=authorization_code&code=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcallback&code_verifier={}", "v".repeat(5000))).basic(WEBAPP).named("long verifier").then(Json(400, "invalid_grant")),
        post("/token").form("grant_type=refresh_token&refresh_token=a.b.c").basic(WEBAPP).named("JWT-shaped refresh token").then(Json(400, "invalid_grant")),
        post("/token").form("grant_type=client_credentials&scope=%00").basic(SERVICE_CREDENTIALS).named("NUL scope").then(Json(400, "invalid_request")),
        post("/token").form(format!("grant_type=client_credentials&scope={}", "s".repeat(5000))).basic(SERVICE_CREDENTIALS).named("long scope").then(Json(400, "invalid_scope")),
    ]);
    cases
}

const SERVICE_CREDENTIALS: (&str, &str) = (SERVICE, SERVICE_SECRET);

#[rustfmt::skip]
fn userinfo_cases() -> Vec<Case> {
    vec![
        get("/userinfo").named("no token").then(Empty(401)),
        get("/userinfo").auth("Bearer ").named("empty bearer").then(Json(400, "invalid_request")),
        get("/userinfo").auth("Basic d2ViYXBwOng=").named("Basic scheme").then(Json(400, "invalid_request")),
        get("/userinfo").bearer("a b c").named("bearer with spaces").then(Json(401, "invalid_token")),
        get("/userinfo").bearer(&"x".repeat(5000)).named("long bearer").then(Json(401, "invalid_token")),
        post("/userinfo").json(r#"{"access_token":"x"}"#).named("JSON body").then(Json(400, "invalid_request")),
        post("/userinfo").untyped("access_token=x").named("no content type").then(Json(400, "invalid_request")),
        post("/userinfo").form(oversized_body()).named("body over 64 KiB").then(Json(413, "invalid_request")),
        post("/userinfo").form(format!("access_token={}", over_field_limit())).named("field over the limit").then(Json(400, "invalid_request")),
        post("/userinfo").form("access_token=a&access_token=b").named("token twice").then(Json(400, "invalid_request")),
        post("/userinfo").form("access_token=a").bearer("b").named("header and body").then(Json(400, "invalid_request")),
    ]
}

#[rustfmt::skip]
fn end_session_cases() -> Vec<Case> {
    let back = "post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2F";
    vec![
        get("/end_session?id_token_hint=a.b.c").named("hint not a JWT").then(Page(400, LOGOUT_UNTRUSTED)),
        get("/end_session?id_token_hint=a.b.c&client_id=%00").named("hint and NUL client_id").then(Page(400, LOGOUT_UNTRUSTED)),
        get("/end_session?client_id=nobody").named("unknown client").then(Page(400, LOGOUT_UNTRUSTED)),
        get("/end_session?client_id=webapp&client_id=spa").named("client_id twice").then(Page(400, LOGOUT_UNTRUSTED)),
        get(format!("/end_session?client_id=webapp&{back}&state={}", "s".repeat(2049))).named("state too long").then(Page(400, LOGOUT_UNTRUSTED)),
        get(format!("/end_session?client_id={}", "c".repeat(129))).named("client_id too long").then(Page(400, LOGOUT_UNTRUSTED)),
        get(format!("/end_session?client_id=webapp&post_logout_redirect_uri={}", "u".repeat(2049))).named("redirect too long").then(Page(400, LOGOUT_UNTRUSTED)),
        get("/end_session?client_id=webapp&post_logout_redirect_uri=http%3A%2F%2Fevil.example%2F").named("unregistered redirect").then(Page(200, "signed out")),
        post("/end_session").json(r#"{"client_id":"webapp"}"#).named("JSON body").then(Page(400, LOGOUT_MALFORMED)),
        post("/end_session").untyped("client_id=webapp").named("no content type").then(Page(400, LOGOUT_MALFORMED)),
        post("/end_session").form(oversized_body()).named("body over 64 KiB").then(Page(413, TOO_LARGE)),
        post("/end_session").bytes(&[0xff, 0xfe, 0x00, 0x41]).named("binary body").then(Page(400, LOGOUT_UNTRUSTED)),
        post("/end_session/confirm").json("{}").named("JSON body").then(Page(400, "This form could not be read")),
        post("/end_session/confirm").form("decision=logout").named("no CSRF").then(Page(403, FORM_EXPIRED)),
        post("/end_session/confirm").form(oversized_body()).named("body over 64 KiB").then(Page(413, TOO_LARGE)),
    ]
}

#[rustfmt::skip]
fn other_cases() -> Vec<Case> {
    vec![
        get("/static/..%2f..%2fCargo.toml").named("encoded traversal").then(Page(404, NOT_FOUND)),
        get("/static/%2e%2e%2fCargo.toml").named("encoded dots").then(Page(404, NOT_FOUND)),
        get("/static/../Cargo.toml").named("plain traversal").then(Page(404, NOT_FOUND)),
        get("/static/..%5c..%5cCargo.toml").named("backslash traversal").then(Page(404, NOT_FOUND)),
        get("/static/gatehouse.css%00").named("NUL suffix").then(Page(404, NOT_FOUND)),
        get("/static/gatehouse.css%00.png").named("NUL before an extension").then(Page(404, NOT_FOUND)),
        get("/static/%ff").named("invalid UTF-8").then(Page(404, NOT_FOUND)),
        get("/static/").named("the folder").then(Page(404, NOT_FOUND)),
        get("/static/logo").named("no logo configured").then(Page(404, NOT_FOUND)),
        get(format!("/static/{}", "x".repeat(5000))).named("long name").then(Page(404, NOT_FOUND)),
        post("/jwks").form("a=b").named("POST").then(Page(404, NOT_FOUND)),
        get("/jwks?kid=%00").named("ignored query").then(JsonOk(200)),
        get("/.well-known/openid-configuration?%ff=%00").named("ignored query").then(JsonOk(200)),
        get("/healthz?x=%00").named("ignored query").then(JsonOk(200)),
        get("/nothing/here").named("unknown path").then(Page(404, NOT_FOUND)),
    ]
}

#[tokio::test]
async fn the_public_endpoints_answer_bad_input_exactly() {
    let app = spawn_app().await;
    let client = anonymous();
    let mut cases = authorize_cases();
    cases.extend(token_cases());
    cases.extend(back_channel_cases("/introspect", "token=x"));
    cases.extend(back_channel_cases("/revoke", "token=x"));
    cases.extend(userinfo_cases());
    cases.extend(end_session_cases());
    cases.extend(other_cases());
    run(&app, &client, None, cases).await;
    // Still healthy afterwards.
    assert_eq!(app.get("/healthz").await.status(), reqwest::StatusCode::OK);
}
