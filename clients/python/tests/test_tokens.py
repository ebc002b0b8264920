"""Tokens minted through /test/v1/tokens, checked the way a resource server
checks them: authlib.jose against the provider's JWKS."""

import time

import pytest
from authlib.jose.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError

from conftest import API, decode
from gatehouse_testing import GatehouseError


def test_a_minted_access_token_verifies_with_the_claims_asked_for(gatehouse):
    before = int(time.time())
    minted = gatehouse.mint_token(
        "app", sub="alice", aud=API, scope="read", claims={"tenant": "acme"}, expires_in=120
    )
    assert before + 119 <= minted.expires_at <= before + 122
    claims = decode(minted.token, gatehouse.issuer, API)
    assert claims.header["alg"] == "RS256"
    assert claims["sub"] == "alice"
    assert claims["client_id"] == "app"
    assert claims["scope"] == "read"
    assert claims["tenant"] == "acme"
    assert claims["exp"] == minted.expires_at


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_a_token_signed_with_another_algorithm_verifies(gatehouse, alg):
    minted = gatehouse.mint_token("app", sub="alice", aud=API, alg=alg)
    claims = decode(minted.token, gatehouse.issuer, API)
    assert claims.header["alg"] == alg


def test_an_expired_token_is_refused(gatehouse):
    minted = gatehouse.mint_token("app", sub="alice", aud=API, expires_in=-60)
    assert minted.expires_at < time.time()
    with pytest.raises(ExpiredTokenError):
        decode(minted.token, gatehouse.issuer, API)


def test_a_token_for_another_audience_is_refused_for_this_one(gatehouse):
    minted = gatehouse.mint_token("app", sub="alice", aud=["https://other.example.test/"])
    assert decode(minted.token, gatehouse.issuer, "https://other.example.test/")["sub"] == "alice"
    with pytest.raises(InvalidClaimError, match="aud"):
        decode(minted.token, gatehouse.issuer, API)


def test_a_tampered_token_is_refused(gatehouse):
    token = gatehouse.mint_token("app", sub="alice", aud=API).token
    header, payload, signature = token.split(".")
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    with pytest.raises(BadSignatureError):
        decode(f"{header}.{payload}.{flipped}", gatehouse.issuer, API)


def test_an_id_token_names_the_client_as_its_audience(gatehouse):
    minted = gatehouse.mint_token("app", sub="bob", kind="id_token", claims={"email": "bob@example.com"})
    claims = decode(minted.token, gatehouse.issuer, "app")
    assert claims["sub"] == "bob"
    assert claims["email"] == "bob@example.com"


def test_a_bad_request_is_an_error_with_the_providers_description(gatehouse):
    with pytest.raises(GatehouseError) as info:
        gatehouse.mint_token("app", sub="alice", kind="no_such_kind")
    assert info.value.status == 400
    assert info.value.error == "invalid_request"
    assert info.value.error_description
