"""Starting and stopping: seeds as files or text, several servers at once,
and clear errors when the server cannot start."""

import json
import os
import re
import socket
import urllib.request

import pytest

from conftest import SEED
from gatehouse_testing import Gatehouse, GatehouseError


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_a_seed_given_as_toml_text_and_two_servers_side_by_side():
    with Gatehouse(seed=SEED.read_text()) as a, Gatehouse() as b:
        assert a.port != b.port
        assert a.issuer == f"http://127.0.0.1:{a.port}"
        ready = get_json(f"{a.issuer}/readyz")
        assert ready["status"] == "ready"
        assert ready["test_mode"] is True
        assert get_json(f"{b.issuer}/.well-known/openid-configuration")["issuer"] == b.issuer
        # The seed's client is there: a refresh token for it is minted.
        assert a.mint_token("app", sub="alice", kind="refresh_token", scope="openid offline_access").token
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{a.issuer}/readyz", timeout=5)


def test_stop_ends_the_process():
    gh = Gatehouse().start()
    pid = gh.pid
    gh.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    gh.stop()


def test_a_binary_that_is_not_there_is_a_clear_error():
    with pytest.raises(GatehouseError, match=r"could not start /nonexistent/gatehouse .*GATEHOUSE_BIN"):
        Gatehouse(bin="/nonexistent/gatehouse").start()


def test_a_server_that_exits_early_is_an_error_carrying_what_it_wrote():
    with pytest.raises(GatehouseError) as info:
        Gatehouse(seed="[[clients]]\nclient_id = 42\n").start()
    message = str(info.value)
    assert message.startswith("gatehouse exited before it was ready (exit code ")
    assert "(exit code 0)" not in message
    stderr = message.split("--- stderr ---\n", 1)[1].split("--- stdout ---", 1)[0]
    assert stderr.strip(), message


def test_a_seed_path_that_does_not_exist_is_an_error_before_anything_starts():
    with pytest.raises(FileNotFoundError, match="seed file not found: no/such/seed.toml"):
        Gatehouse(seed="no/such/seed.toml").start()


def test_a_fixed_port_that_is_taken_is_an_error_saying_so():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(GatehouseError) as info:
            Gatehouse(port=port).start()
    message = str(info.value)
    assert message.startswith("gatehouse exited before it was ready"), message
    assert re.search(rf"127\.0\.0\.1:{port}.*address already in use", message, re.I | re.S), message
