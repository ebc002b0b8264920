//! The screens: sign-in, second factor, new password, consent and the
//! account pages. Each is tried with no cookies at all, then (where it
//! matters) with a CSRF cookie or a signed-in session and bad input.

use super::Expect::{Page, Redirect};
use super::*;

const UNREADABLE: &str = "This form could not be read";
const EXPIRED_LINK: &str = "This sign-in link has expired";
const TOO_LARGE: &str = "larger than 64 KiB";
const ACCOUNT_FORMS: &[&str] = &[
    "/account/profile",
    "/account/password",
    "/account/sessions/end",
    "/account/applications/revoke",
    "/account/mfa/enrol",
    "/account/mfa/disable",
    "/account/mfa/recovery-codes",
];

/// No cookies at all: what comes first is the form's shape, then the
/// sign-in or the CSRF check.
#[rustfmt::skip]
fn anonymous_cases() -> Vec<Case> {
    let mut cases = vec![
        get("/login?request=%ff").named("invalid UTF-8 request id").then(Page(400, EXPIRED_LINK)),
        get(format!("/login?request={}", "x".repeat(5000))).named("long request id").then(Page(400, EXPIRED_LINK)),
        get("/login?request=a&request=b").named("request twice").then(Page(200, "Sign in")),
        get("/login?then=https%3A%2F%2Fevil.example%2F").named("foreign destination").then(Page(200, "Sign in")),
        post("/login").json(r#"{"username":"alice"}"#).named("JSON body").then(Page(400, UNREADABLE)),
        post("/login").untyped("username=alice").named("no content type").then(Page(400, UNREADABLE)),
        post("/login").form(oversized_body()).named("body over 64 KiB").then(Page(413, TOO_LARGE)),
        post("/login").form("username=alice&password=x").named("no CSRF").then(Page(403, "This form had expired")),
        get("/login/totp").named("no challenge").then(Redirect(303, "/login")),
        get("/login/totp?request=%ff").named("invalid UTF-8 request id").then(Page(400, EXPIRED_LINK)),
        post("/login/totp").json("{}").named("JSON body").then(Page(400, UNREADABLE)),
        post("/login/totp").form("code=123456").named("no CSRF").then(Page(403, "This form had expired")),
        post("/login/totp").form("code=1&request=%25%25").named("junk request id").then(Page(400, EXPIRED_LINK)),
        get("/login/new-password").named("not signed in").then(Redirect(302, "/login")),
        get("/login/new-password?request=%ff").named("invalid UTF-8 request id").then(Page(400, EXPIRED_LINK)),
        post("/login/new-password").json("{}").named("JSON body").then(Page(400, UNREADABLE)),
        post("/login/new-password").form("new_password=x").named("not signed in").then(Redirect(303, "/login")),
        get("/consent").named("no request").then(Page(400, EXPIRED_LINK)),
        get(format!("/consent?request={}", "x".repeat(5000))).named("long request id").then(Page(400, EXPIRED_LINK)),
        post("/consent").json("{}").named("JSON body").then(Page(400, UNREADABLE)),
        post("/consent").form("decision=allow").named("no request").then(Page(400, EXPIRED_LINK)),
        post("/consent").form(format!("decision=allow&request={}", "x".repeat(43))).named("no CSRF").then(Page(403, "This form had expired")),
        get("/account").named("not signed in").then(Redirect(302, "/login?then=account")),
        get("/account/mfa/enrol").named("not signed in").then(Redirect(302, "/login?then=account")),
        get("/account/mfa/enrol?request=nope").named("unknown request").then(Page(400, EXPIRED_LINK)),
    ];
    for path in ACCOUNT_FORMS {
        cases.extend([
            post(*path).form("csrf=x&name=y").named("not signed in").then(Redirect(303, "/login?then=account")),
            post(*path).json("{}").named("JSON body").then(Page(400, UNREADABLE)),
            post(*path).form(oversized_body()).named("body over 64 KiB").then(Page(413, TOO_LARGE)),
        ]);
    }
    cases
}

/// A CSRF cookie and its token, no session: the forms get past the CSRF
/// check and meet their own.
#[rustfmt::skip]
fn csrf_only_cases() -> Vec<Case> {
    let too_long_user = "u".repeat(65);
    let too_long_password = "p".repeat(1025);
    vec![
        post("/login").form(format!("csrf={{csrf}}&username={too_long_user}&password=x")).named("username too long").then(Page(400, "A username has at most 64 characters")),
        post("/login").form(format!("csrf={{csrf}}&username=alice&password={too_long_password}")).named("password too long").then(Page(400, "a password at most 1024")),
        post("/login").form(format!("csrf={{csrf}}&username=alice&password={}", over_field_limit())).named("field over the limit").then(Page(400, UNREADABLE)),
        post("/login").form("csrf={csrf}&username=alice&username=bob&password=x").named("username twice").then(Page(400, "parameter username is included more than once")),
        post("/login").form("csrf={csrf}&username=al%00ice&password=x").named("NUL in the username").then(Page(400, "parameter username contains a NUL character")),
        post("/login").form("csrf={csrf}&username[]=alice&password=x").named("username as an array").then(Page(400, "Enter your username and your password.")),
        post("/login").form("csrf={csrf}&password=x").named("no username").then(Page(400, "Enter your username and your password.")),
        post("/login").form("csrf={csrf}&username=%ff%fe&password=x").named("invalid UTF-8 username").then(Page(401, "Sign in")),
        post("/login").form("csrf={csrf}&username=alice&password=x&request=nope").named("unknown request").then(Page(400, EXPIRED_LINK)),
        post("/login/totp").form("csrf={csrf}&code=123456").named("no challenge").then(Redirect(303, "/login")),
        post("/consent").form("csrf={csrf}&decision=allow&request=nope").named("unknown request").then(Page(400, EXPIRED_LINK)),
        post("/end_session/confirm").form("csrf={csrf}&decision=logout&client_id=nobody").named("unknown client").then(Page(400, "This sign-out request cannot be trusted")),
        post("/end_session/confirm").form("csrf={csrf}&decision=maybe").named("no decision").then(Page(200, "You are still signed in")),
    ]
}

/// Signed in as alice, with a good CSRF token and bad input.
#[rustfmt::skip]
fn account_cases() -> Vec<Case> {
    let profile = "/account/profile";
    vec![
        get("/account?done=%00").named("NUL notice key").then(Page(200, "Your account")),
        get("/account?done=%3Cscript%3E").named("unknown notice key").then(Page(200, "Your account")),
        post(profile).form("name=x").named("no CSRF").then(Page(403, "That form had expired")),
        post(profile).form(format!("csrf={{csrf}}&name={}", "n".repeat(201))).named("name too long").then(Page(400, "Your name can have up to 200 characters")),
        post(profile).form("csrf={csrf}&name=a&name=b").named("name twice").then(Page(400, "parameter name is included more than once")),
        post(profile).form("csrf={csrf}&name=a%00b").named("NUL in the name").then(Page(400, "parameter name contains a NUL character")),
        post(profile).form("csrf={csrf}&email=not+an+email").named("not an email").then(Page(400, "Your account")),
        post(profile).form("csrf={csrf}&birthdate=9999-99-99").named("impossible date").then(Page(400, "Your account")),
        post(profile).form(format!("csrf={{csrf}}&website={}", over_field_limit())).named("field over the limit").then(Page(400, UNREADABLE)),
        post("/account/password").form(format!("csrf={{csrf}}&current_password=correct+horse+battery+staple&new_password={0}&repeat_password={0}", "y".repeat(1025))).named("new password too long").then(Page(400, "That password is too long")),
        post("/account/password").form("csrf={csrf}").named("nothing filled in").then(Page(400, "Your account")),
        post("/account/sessions/end").form("csrf={csrf}&sid=%00").named("NUL sid").then(Page(400, "parameter sid contains a NUL character")),
        post("/account/sessions/end").form(format!("csrf={{csrf}}&sid={}", "s".repeat(5000))).named("long sid").then(Page(400, "That session had already ended.")),
        post("/account/applications/revoke").form("csrf={csrf}&client_id=nobody").named("unknown client").then(Page(400, "That application had no access to remove.")),
        post("/account/applications/revoke").form(format!("csrf={{csrf}}&client_id={}", "c".repeat(5000))).named("long client_id").then(Page(400, "That application had no access to remove.")),
        post("/account/mfa/disable").form("csrf={csrf}&code=abc").named("no second factor").then(Page(400, "Your account")),
        post("/account/mfa/recovery-codes").form("csrf={csrf}&code=abc").named("no second factor").then(Page(400, "Your account")),
        post("/account/mfa/enrol").form("csrf={csrf}&code=abc&request=nope").named("unknown request").then(Page(400, EXPIRED_LINK)),
        post("/account/mfa/enrol").form("csrf={csrf}&code=abc&code=def").named("code twice").then(Page(400, UNREADABLE)),
        get("/account/mfa/enrol?request=%ff").named("invalid UTF-8 request").then(Page(400, EXPIRED_LINK)),
        get("/login/new-password?then=%00").named("nothing to change").then(Redirect(302, "/")),
    ]
}

#[tokio::test]
async fn the_screens_answer_bad_input_exactly() {
    let app = spawn_app().await;
    run(&app, &anonymous(), None, anonymous_cases()).await;
    let (browser, csrf) = with_csrf_only(&app).await;
    run(&app, &browser, Some(&csrf), csrf_only_cases()).await;
    let (browser, csrf) = signed_in_browser(&app, "alice", ALICE_PASSWORD).await;
    run(&app, &browser, Some(&csrf), account_cases()).await;
    // Nothing above changed alice's profile.
    let page = browser.get(app.url("/account")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("Alice Example"));
}
