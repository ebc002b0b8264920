"""A relying party (Authlib) signs alice in through the whole authorization
code flow with PKCE, with no screen: login_hint and test_claims at
/authorize sign her in at once."""

import json
import secrets
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from conftest import APP, decode


def test_code_flow_signs_alice_in_with_the_claims_the_test_gave_her(gatehouse, discovery):
    assert discovery["issuer"] == gatehouse.issuer
    session = OAuth2Session(
        APP["client_id"],
        APP["client_secret"],
        scope="openid profile email groups",
        redirect_uri=APP["redirect_uri"],
        code_challenge_method="S256",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(
        discovery["authorization_endpoint"],
        code_verifier=verifier,
        nonce=nonce,
        login_hint="alice",
        test_claims=json.dumps(
            {"email": "alice@example.com", "name": "Alice Example", "department": "qa", "groups": ["staff"]}
        ),
    )
    assert f"code_challenge={create_s256_code_challenge(verifier)}" in url

    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(APP["redirect_uri"] + "?"), f"redirected to {location}, not to the client"
    assert "code" in parse_qs(urlsplit(location).query)

    token = session.fetch_token(
        discovery["token_endpoint"],
        authorization_response=location,
        state=state,
        code_verifier=verifier,
    )
    assert token["token_type"].lower() == "bearer"
    claims = decode(token["id_token"], gatehouse.issuer, APP["client_id"])
    assert claims["sub"] == "alice"
    assert claims["nonce"] == nonce
    assert claims["email"] == "alice@example.com"
    assert claims["name"] == "Alice Example"
    assert claims["department"] == "qa"
    assert claims["groups"] == ["staff"]

    info = session.get(discovery["userinfo_endpoint"], timeout=10)
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["sub"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["department"] == "qa"
    assert body["groups"] == ["staff"]


def test_a_client_that_is_not_in_the_seed_gets_no_code(gatehouse, discovery):
    response = requests.get(
        discovery["authorization_endpoint"],
        params={
            "response_type": "code",
            "client_id": "nobody",
            "redirect_uri": APP["redirect_uri"],
            "scope": "openid",
            "state": "s",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
            "login_hint": "alice",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400
