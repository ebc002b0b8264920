"""Start Gatehouse in test mode for a test suite.

A fresh provider on an in-memory database and a free loopback port, with the
test endpoints (``/test/v1/tokens``, ``/test/v1/clock``, ``/test/v1/reset``)
behind small methods. Uses nothing but the standard library.

    with Gatehouse(seed="tests/gatehouse-seed.toml") as gh:
        token = gh.mint_token("app", sub="alice").token
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

__all__ = ["Gatehouse", "GatehouseError", "MintedToken", "free_port"]

_PORT_ATTEMPTS = 5
_OUTPUT_LIMIT = 64 * 1024
_ADDRESS_IN_USE = ("address already in use", "addrinuse", "os error 98", "os error 48")


class GatehouseError(Exception):
    """A request to a test endpoint that Gatehouse refused, or a server that did not start."""

    def __init__(
        self,
        message: str,
        status: Optional[int] = None,
        error: Optional[str] = None,
        error_description: Optional[str] = None,
        body: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.error_description = error_description
        self.body = body


@dataclass(frozen=True)
class MintedToken:
    token: str
    expires_at: int
    """Unix seconds."""

    def __str__(self) -> str:
        return self.token


def free_port() -> int:
    """A free loopback port, as the kernel hands one out (bind 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Tail:
    """Drains a pipe in a thread, keeping its last characters."""

    def __init__(self, stream: Any) -> None:
        self._chunks: deque = deque()
        self._size = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in iter(stream.readline, b""):
            text = line.decode("utf-8", "replace")
            with self._lock:
                self._chunks.append(text)
                self._size += len(text)
                while self._size > _OUTPUT_LIMIT and len(self._chunks) > 1:
                    self._size -= len(self._chunks.popleft())
        stream.close()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._chunks)


_running: "set[subprocess.Popen]" = set()


@atexit.register
def _kill_running() -> None:
    # Whatever the suite forgot to stop goes down with it.
    for proc in list(_running):
        if proc.poll() is None:
            proc.kill()


def _seed_file(seed: Optional[Union[str, os.PathLike]], tmp: "callable") -> Optional[str]:
    # A seed is a path when such a file exists, TOML text when it holds a
    # newline, `=` or `[` (which no sensible path does); anything else is a
    # path that is missing.
    if seed is None:
        return None
    if isinstance(seed, os.PathLike) or os.path.exists(seed):
        path = os.fspath(seed)
        if not os.path.exists(path):
            raise FileNotFoundError(f"seed file not found: {path}")
        return os.path.abspath(path)
    if not any(c in seed for c in "\n=["):
        raise FileNotFoundError(f"seed file not found: {seed}")
    path = os.path.join(tmp(), "seed.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(seed)
    return path


class Gatehouse:
    """A Gatehouse server in test mode.

    ``seed`` is a seed file's path or the TOML text of one; ``bin`` the
    gatehouse binary (default: the env ``GATEHOUSE_BIN``, else ``gatehouse``
    on PATH); ``env`` extra environment for the server, which wins over the
    defaults; ``port`` a fixed port instead of a free one; ``timeout`` how
    long to wait for ``/readyz``, in seconds.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        seed: Optional[Union[str, os.PathLike]] = None,
        bin: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        port: Optional[int] = None,
        timeout: float = 30.0,
    ) -> None:
        self.seed = seed
        self.bin = bin or os.environ.get("GATEHOUSE_BIN") or "gatehouse"
        self.env = dict(env or {})
        self.timeout = timeout
        self._fixed_port = port
        self.port: Optional[int] = None
        self.issuer: Optional[str] = None
        self._proc: Optional[subprocess.Popen] = None
        self._stdout: Optional[_Tail] = None
        self._stderr: Optional[_Tail] = None
        self._tmp: Optional[str] = None
        self._startup_error: Optional[GatehouseError] = None

    # -- starting and stopping ---------------------------------------------

    def __enter__(self) -> "Gatehouse":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _tmpdir(self) -> str:
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="gatehouse-testing-")
        return self._tmp

    def _remove_tmp(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def start(self) -> "Gatehouse":
        """Starts the server and returns once its ``/readyz`` answers ready."""
        if self._proc is not None:
            raise RuntimeError("this Gatehouse is already started")
        try:
            seed = _seed_file(self.seed, self._tmpdir)
            args = [self.bin, "serve", "--test-mode"]
            if seed:
                args += ["--seed", seed]
            attempt = 0
            while True:
                attempt += 1
                port = self._fixed_port or free_port()
                issuer = f"http://127.0.0.1:{port}"
                if self._launch(args, port, issuer):
                    return self
                output = self.output()
                text = output["stderr"] + output["stdout"]
                retry = (
                    self._fixed_port is None
                    and attempt < _PORT_ATTEMPTS
                    and any(s in text.lower() for s in _ADDRESS_IN_USE)
                )
                if not retry:
                    assert self._startup_error is not None
                    raise self._startup_error
        except BaseException:
            self._remove_tmp()
            raise

    def _launch(self, args: List[str], port: int, issuer: str) -> bool:
        env = dict(os.environ)
        # The seed comes from the arguments only, and the database is the
        # in-memory one unless `env` says otherwise.
        env.pop("GATEHOUSE_SEED", None)
        env.update(
            GATEHOUSE_TEST_MODE="true",
            GATEHOUSE_DATABASE_URL="sqlite::memory:",
            GATEHOUSE_LISTEN=f"127.0.0.1:{port}",
            GATEHOUSE_ISSUER=issuer,
        )
        env.update(self.env)
        try:
            proc = subprocess.Popen(
                args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as e:
            raise GatehouseError(
                f"could not start {self.bin} ({e}); set GATEHOUSE_BIN or the bin argument to the gatehouse binary"
            ) from None
        _running.add(proc)
        self._proc = proc
        self._stdout = _Tail(proc.stdout)
        self._stderr = _Tail(proc.stderr)
        self.port, self.issuer = port, issuer

        deadline = time.monotonic() + self.timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._stdout.join(2)
                self._stderr.join(2)
                self._forget()
                self._startup_error = GatehouseError(
                    f"gatehouse exited before it was ready (exit code {proc.returncode})\n{self._output_text()}"
                )
                return False
            try:
                with urllib.request.urlopen(f"{issuer}/readyz", timeout=2) as response:
                    text = response.read().decode()
                body = json.loads(text)
                if body.get("status") == "ready" and body.get("test_mode") is True:
                    return True
                if body.get("test_mode") is not True:
                    self._kill()
                    raise GatehouseError(
                        f"{issuer}/readyz says the server is not in test mode: {text}\n{self._output_text()}"
                    )
                last = f"200 {text}"
            except urllib.error.HTTPError as e:
                last = f"{e.code} {e.read().decode(errors='replace')}"
            except (urllib.error.URLError, OSError, ValueError) as e:
                last = str(getattr(e, "reason", e))
            time.sleep(0.05)
        self._kill()
        raise GatehouseError(
            f"gatehouse was not ready at {issuer}/readyz within {self.timeout} s (last answer: {last})\n"
            f"{self._output_text()}"
        )

    def _forget(self) -> None:
        if self._proc is not None:
            _running.discard(self._proc)
        self._proc = None

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        self._forget()

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL after five seconds). Safe to call twice."""
        proc = self._proc
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self._forget()
        self._remove_tmp()

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc is not None else None

    def output(self) -> Dict[str, str]:
        """What the server wrote on stdout and stderr (the last 64 KiB of each)."""
        return {
            "stdout": self._stdout.text if self._stdout else "",
            "stderr": self._stderr.text if self._stderr else "",
        }

    def _output_text(self) -> str:
        out = self.output()
        return f"--- stderr ---\n{out['stderr']}--- stdout ---\n{out['stdout']}"

    # -- the test endpoints ------------------------------------------------

    def _call(self, method: str, route: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        if self.issuer is None or self._proc is None:
            raise RuntimeError("this Gatehouse is not started")
        data = None
        headers = {"accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        request = urllib.request.Request(f"{self.issuer}{route}", data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode(errors="replace")
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if status != 200 or not isinstance(answer, dict):
            error = answer.get("error") if isinstance(answer, dict) else None
            description = answer.get("error_description") if isinstance(answer, dict) else None
            detail = description or error or (text if len(text) <= 200 else text[:200] + "…")
            raise GatehouseError(
                f"{method} {route} answered {status}: {detail}",
                status=status,
                error=error,
                error_description=description,
                body=text,
            )
        return answer

    def mint_token(
        self,
        client_id: str,
        sub: Optional[str] = None,
        aud: Optional[Union[str, Sequence[str]]] = None,
        scope: Optional[str] = None,
        claims: Optional[Mapping[str, Any]] = None,
        expires_in: Optional[int] = None,
        kind: Optional[str] = None,
        alg: Optional[str] = None,
        **extra: Any,
    ) -> MintedToken:
        """Mints a token signed with the provider's keys.

        ``sub`` is a username (an unknown one is created, with the username
        as its subject); ``kind`` is ``access_token`` (the default),
        ``id_token`` or ``refresh_token``; ``alg`` ``RS256``, ``ES256`` or
        ``EdDSA``; a negative ``expires_in`` gives a token already expired.
        """
        body: Dict[str, Any] = {"client_id": client_id}
        for name, value in (
            ("sub", sub),
            ("aud", list(aud) if aud is not None and not isinstance(aud, str) else aud),
            ("scope", scope),
            ("claims", dict(claims) if claims is not None else None),
            ("expires_in", expires_in),
            ("kind", kind),
            ("alg", alg),
        ):
            if value is not None:
                body[name] = value
        body.update(extra)
        answer = self._call("POST", "/test/v1/tokens", body)
        return MintedToken(token=answer["token"], expires_at=answer["expires_at"])

    def advance_clock(self, seconds: int) -> Dict[str, int]:
        """Moves the provider's clock by ``seconds``; returns ``{"offset": ..., "now": ...}``."""
        return self._call("POST", "/test/v1/clock", {"advance": seconds})

    def reset_clock(self) -> Dict[str, int]:
        """Returns the provider's clock to real time."""
        return self._call("POST", "/test/v1/clock", {"reset": True})

    def clock(self) -> Dict[str, int]:
        """The clock's offset from real time and the provider's now, in seconds."""
        return self._call("GET", "/test/v1/clock")

    def reset(self) -> Dict[str, Any]:
        """Empties users, clients, sessions and grants, resets the clock and reloads the seed."""
        return self._call("POST", "/test/v1/reset", {})
