"""A scripted browser against Apache with mod_auth_openidc in front of a
page, Gatehouse its provider: signs in there through Gatehouse's sign-in
form, then signs out at Gatehouse (the end_session confirmation), and checks
that the logout token Gatehouse posted to mod_auth_openidc ended the Apache
session (OpenID Connect Back-Channel Logout 1.0 §2.7).

Usage: python3 browser.py ISSUER RP_BASE ADMIN_TOKEN
Prints "ok CHECK" or "FAIL CHECK: why" per check; exits non-zero on a
failure. Standard library only.
"""

import http.cookiejar
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

USERNAME = "alice"
PASSWORD = "alice-password-change-me"
failures = 0


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def report(ok, check, why=""):
    global failures
    if ok:
        print(f"ok   {check}", flush=True)
    else:
        failures += 1
        print(f"FAIL {check}: {why}", flush=True)


def main():
    issuer, rp, admin_token = sys.argv[1:4]
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
    )

    def call(url, form=None, headers=None):
        """One request, redirects not followed: (status, Location, body)."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        # mod_auth_openidc sends a browser to the provider, and answers 401
        # to a client that does not say it takes HTML.
        request = urllib.request.Request(url, data=data, headers={"Accept": "text/html", **(headers or {})})
        try:
            with opener.open(request) as res:
                return res.status, res.headers.get("Location"), res.read().decode()
        except urllib.error.HTTPError as res:
            return res.code, res.headers.get("Location"), res.read().decode()

    def redirected(answer, base, want):
        status, location, body = answer
        if status not in (302, 303) or not location:
            sys.exit(f"FAIL expected a redirect towards {want}, got {status}: {body[:300]}")
        return urllib.parse.urljoin(base + "/", location)

    def fields_of(page, names):
        found = dict(re.findall(r'name="(' + "|".join(names) + r')" value="([^"]*)"', page))
        return {k: v.replace("&#x2F;", "/").replace("&amp;", "&") for k, v in found.items()}

    protected = f"{rp}/protected/"

    # Signing in at the relying party goes through Gatehouse.
    authorize = redirected(call(protected), rp, "Gatehouse's /authorize")
    report(authorize.startswith(f"{issuer}/authorize?"), "Apache sends the browser to Gatehouse", authorize)
    login = redirected(call(authorize), issuer, "/login")
    status, _, page = call(login)
    fields = fields_of(page, ["csrf", "request"])
    if status != 200 or "csrf" not in fields:
        sys.exit(f"FAIL no sign-in form at {login}: {status}")
    resume = redirected(
        call(f"{issuer}/login", {**fields, "username": USERNAME, "password": PASSWORD}),
        issuer,
        "/authorize/resume",
    )
    callback = redirected(call(resume), issuer, "Apache's redirect_uri")
    report(callback.startswith(f"{rp}/protected/redirect_uri?"), "Gatehouse answers Apache with a code", callback)
    back = redirected(call(callback), rp, "the protected page")
    status, _, body = call(urllib.parse.urljoin(rp + "/", back))
    report(status == 200 and "the protected page" in body, "signed in at Apache", f"{status} {body[:200]}")
    status, _, _ = call(protected)
    report(status == 200, "the Apache session holds", str(status))

    # Signing out at Gatehouse, as the account page's Sign out does.
    status, _, page = call(f"{issuer}/end_session")
    fields = fields_of(page, ["csrf"])
    if status != 200 or "csrf" not in fields:
        sys.exit(f"FAIL no sign-out confirmation at {issuer}/end_session: {status}")
    status, _, _ = call(f"{issuer}/end_session/confirm", {**fields, "decision": "logout"})
    report(status == 200, "signed out at Gatehouse", str(status))

    # The logout token reaches Apache, which accepts it (200 or 204)...
    row = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        _, _, listing = call(
            f"{issuer}/admin/api/v1/outbox?state=all",
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        rows = [m for m in json.loads(listing)["items"] if m["channel"] == "backchannel_logout"]
        if rows and rows[0]["state"] == "sent":
            row = rows[0]
            break
        time.sleep(0.2)
    report(row is not None, "Apache accepted the logout token", "no sent logout token in the outbox")

    # ...and the Apache session is over: the page asks for a sign-in again.
    status, location, _ = call(protected)
    report(
        status == 302 and (location or "").startswith(f"{issuer}/authorize?"),
        "the Apache session ended",
        f"{status} {location}",
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
