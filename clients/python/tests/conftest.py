"""The package's own tests: the session's Gatehouse is seeded from seed.toml
beside this file; helpers that check tokens the way a relying party or a
resource server would."""

from __future__ import annotations

import warnings
from pathlib import Path

import authlib.deprecate  # noqa: F401  (sets its warning filter before ours)
import pytest
import requests

with warnings.catch_warnings():
    # Authlib marks authlib.jose deprecated in favour of joserfc; it is still
    # what its OAuth client documents for checking ID tokens.
    warnings.filterwarnings("ignore", "authlib.jose module is deprecated", DeprecationWarning)
    from authlib.jose import JsonWebKey, jwt

SEED = Path(__file__).parent / "seed.toml"

APP = {
    "client_id": "app",
    "client_secret": "app-secret-change-me",
    "redirect_uri": "http://127.0.0.1:9999/callback",
}
API = "https://api.example.test/"


@pytest.fixture(scope="session")
def gatehouse_seed():
    return SEED


@pytest.fixture(scope="session")
def discovery(gatehouse_server):
    response = requests.get(f"{gatehouse_server.issuer}/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    return response.json()


def decode(token, issuer, audience):
    """Verifies a JWT against the provider's JWKS and validates iss, aud and exp."""
    keys = JsonWebKey.import_key_set(requests.get(f"{issuer}/jwks", timeout=10).json())
    claims = jwt.decode(
        token,
        keys,
        claims_options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": audience},
            "exp": {"essential": True},
        },
    )
    claims.validate()
    return claims


def userinfo(issuer, access_token):
    return requests.get(f"{issuer}/userinfo", headers={"authorization": f"Bearer {access_token}"}, timeout=10)


def refresh(issuer, refresh_token):
    return requests.post(
        f"{issuer}/token",
        auth=(APP["client_id"], APP["client_secret"]),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        timeout=10,
    )
