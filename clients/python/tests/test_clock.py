"""The provider's clock moves forward for the tokens it checks."""

import time

from conftest import userinfo


def test_an_hour_later_a_token_minted_before_has_expired_at_userinfo(gatehouse):
    token = gatehouse.mint_token("app", sub="alice", scope="openid", expires_in=300).token
    fresh = userinfo(gatehouse.issuer, token)
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["sub"] == "alice"

    real_now = int(time.time())
    advanced = gatehouse.advance_clock(3600)
    assert advanced["offset"] == 3600
    assert abs(advanced["now"] - (real_now + 3600)) <= 2
    assert gatehouse.clock()["offset"] == 3600
    assert userinfo(gatehouse.issuer, token).status_code == 401

    # The move pruned what had expired by then, so the token stays refused;
    # one minted once the clock is back works.
    assert gatehouse.reset_clock()["offset"] == 0
    assert gatehouse.clock()["offset"] == 0
    later = gatehouse.mint_token("app", sub="alice", scope="openid", expires_in=300).token
    assert userinfo(gatehouse.issuer, later).status_code == 200


def test_advances_add_up(gatehouse):
    gatehouse.advance_clock(60)
    assert gatehouse.advance_clock(60)["offset"] == 120


def test_the_fixture_starts_each_test_on_real_time(gatehouse):
    # The test before left the clock two minutes ahead.
    assert gatehouse.clock()["offset"] == 0
