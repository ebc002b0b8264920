"""A pytest plugin: the ``gatehouse`` fixture.

One Gatehouse in test mode serves the whole session; the ``gatehouse``
fixture resets it before each test (users, clients, sessions and grants
emptied, the clock back to real time, the seed loaded again), so each test
starts from the seed alone.

The binary is ``--gatehouse-bin``, else the ini option ``gatehouse_bin``,
else the env ``GATEHOUSE_BIN``, else ``gatehouse`` on PATH. The seed is
``--gatehouse-seed`` or the ini option ``gatehouse_seed`` (relative to the
rootdir), or whatever a ``gatehouse_seed`` fixture of your own returns (a
path or TOML text; session-scoped)::

    @pytest.fixture(scope="session")
    def gatehouse_seed():
        return Path(__file__).parent / "gatehouse-seed.toml"

Registered through the ``pytest11`` entry point, so installing the package
is enough.
"""

from __future__ import annotations

import os
from typing import Iterator, Optional

import pytest

from . import Gatehouse


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gatehouse")
    group.addoption("--gatehouse-bin", default=None, help="the gatehouse binary (default: $GATEHOUSE_BIN, else gatehouse on PATH)")
    group.addoption("--gatehouse-seed", default=None, help="the seed file of the session's Gatehouse")
    parser.addini("gatehouse_bin", "the gatehouse binary", default=None)
    parser.addini("gatehouse_seed", "the seed file of the session's Gatehouse, relative to the rootdir", default=None)


@pytest.fixture(scope="session")
def gatehouse_seed(pytestconfig: pytest.Config) -> Optional[str]:
    """The seed of the session's Gatehouse: a path, TOML text, or None."""
    seed = pytestconfig.getoption("gatehouse_seed")
    if seed:
        return seed
    seed = pytestconfig.getini("gatehouse_seed")
    if seed:
        return os.path.join(str(pytestconfig.rootpath), seed)
    return None


@pytest.fixture(scope="session")
def gatehouse_server(pytestconfig: pytest.Config, gatehouse_seed: Optional[str]) -> Iterator[Gatehouse]:
    """The session's Gatehouse, as it is (no reset)."""
    bin = pytestconfig.getoption("gatehouse_bin") or pytestconfig.getini("gatehouse_bin") or None
    with Gatehouse(seed=gatehouse_seed, bin=bin) as gh:
        yield gh


@pytest.fixture
def gatehouse(gatehouse_server: Gatehouse) -> Gatehouse:
    """The session's Gatehouse, reset to its seed before the test."""
    gatehouse_server.reset()
    return gatehouse_server
