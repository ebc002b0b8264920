"""A reset forgets everything the tests made and brings the seed back."""

from conftest import refresh


def mint(gatehouse):
    return gatehouse.mint_token("app", sub="carol", kind="refresh_token", scope="openid offline_access").token


def test_a_refresh_token_minted_before_a_reset_no_longer_works(gatehouse):
    used = refresh(gatehouse.issuer, mint(gatehouse))
    assert used.status_code == 200, used.text
    assert used.json()["access_token"]

    before = mint(gatehouse)
    gatehouse.advance_clock(600)
    gatehouse.reset()

    assert gatehouse.clock()["offset"] == 0
    stale = refresh(gatehouse.issuer, before)
    assert stale.status_code == 400, stale.text
    assert stale.json()["error"] == "invalid_grant"

    # The seed's client is back, so carol (made anew) can refresh again.
    again = refresh(gatehouse.issuer, mint(gatehouse))
    assert again.status_code == 200, again.text


_left_by_the_test_before = {}


def test_the_fixture_resets_between_tests_first(gatehouse):
    _left_by_the_test_before["token"] = mint(gatehouse)


def test_the_fixture_resets_between_tests_second(gatehouse):
    stale = refresh(gatehouse.issuer, _left_by_the_test_before["token"])
    assert stale.status_code == 400, stale.text
    assert stale.json()["error"] == "invalid_grant"
