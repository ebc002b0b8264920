"""Signs in as a person through the authorization code flow (RFC 6749 §4.1
with PKCE, RFC 7636) the way a browser would, and prints the access token
for the API named by `resource` (RFC 8707) and the user's `sub` from the ID
token, one per line.

Usage: python3 user_token.py ISSUER CLIENT_ID SECRET REDIRECT_URI USERNAME PASSWORD [RESOURCE]
Standard library only: the gateway check runs before any npm install.
"""

import base64
import hashlib
import http.cookiejar
import json
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def main():
    issuer, client_id, secret, redirect_uri, username, password = sys.argv[1:7]
    resource = sys.argv[7] if len(sys.argv) > 7 else None
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
    )

    def call(url, form=None):
        """One request, redirects not followed: (status, Location, body)."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with opener.open(urllib.request.Request(url, data=data)) as res:
                return res.status, res.headers.get("Location"), res.read().decode()
        except urllib.error.HTTPError as res:
            return res.code, res.headers.get("Location"), res.read().decode()

    def follow(status, location, body, want):
        if status not in (302, 303) or not location:
            sys.exit(f"expected a redirect towards {want}, got {status}: {body[:300]}")
        return urllib.parse.urljoin(issuer + "/", location)

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    if resource:
        query["resource"] = resource
    login = follow(*call(f"{issuer}/authorize?{urllib.parse.urlencode(query)}"), "/login")
    status, _, page = call(login)
    fields = dict(re.findall(r'name="(csrf|request)" value="([^"]*)"', page))
    if status != 200 or "csrf" not in fields:
        sys.exit(f"no sign-in form at {login}: {status}")
    resume = follow(
        *call(f"{issuer}/login", {**fields, "username": username, "password": password}),
        "/authorize/resume",
    )
    callback = follow(*call(resume), redirect_uri)
    params = urllib.parse.parse_qs(urllib.parse.urlparse(callback).query)
    if params.get("state") != [query["state"]] or "code" not in params:
        sys.exit(f"unexpected callback: {callback}")

    form = {
        "grant_type": "authorization_code",
        "code": params["code"][0],
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    if resource:
        form["resource"] = resource
    request = urllib.request.Request(
        f"{issuer}/token", data=urllib.parse.urlencode(form).encode()
    )
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    request.add_header("Authorization", f"Basic {basic}")
    status, _, body = call_token(request)
    if status != 200:
        sys.exit(f"token request refused ({status}): {body}")
    tokens = json.loads(body)
    payload = tokens["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    print(tokens["access_token"])
    print(claims["sub"])


def call_token(request):
    try:
        with urllib.request.urlopen(request) as res:
            return res.status, None, res.read().decode()
    except urllib.error.HTTPError as res:
        return res.code, None, res.read().decode()


if __name__ == "__main__":
    main()
