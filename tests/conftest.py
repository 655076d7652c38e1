"""Shared fixtures: the demo ids, and mock servers started as real processes on real sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

import httpx
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# No example database: a failure found once is reported with the seed to reproduce it
# (print_blob), not replayed forever from a local .hypothesis folder that CI does not have.
settings.register_profile("mock", database=None, print_blob=True)
settings.load_profile("mock")


def fuzz_examples(default: int) -> int:
    """Examples for a property test: ``default`` in ``make test``; ``make fuzz`` raises it."""
    return int(os.environ.get("ZITADEL_FUZZ_EXAMPLES", default))


ACME = "319487622871056385"
GLOBEX = "319487622871056386"
PORTAL = "319487650192752641"
SHOP = "319487650192752642"
WEB = "319487671630840321"
SPA = "319487671630840322"
BACKEND = "319487671630840323"
SSO = "319487671630840324"
STOREFRONT = "319487671630840325"


def rotate_path(project: str, app: str) -> str:
    return f"/management/v1/projects/{project}/apps/{app}/oidc_config/_generate_client_secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raw_request(port: int, request: bytes) -> bytes:
    """Send bytes as they are (for requests no HTTP client would send) and read to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class LiveServer:
    """A ``zitadel-mock serve`` process and an HTTP client pointed at it."""

    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rotate(
        self,
        project: str = PORTAL,
        app: str = WEB,
        token: str | None = "admin-pat",
        **kwargs: object,
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if "content" not in kwargs and "json" not in kwargs:
            kwargs["json"] = {}
        return self.client.post(rotate_path(project, app), headers=headers, **kwargs)  # type: ignore[arg-type]

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def kill9(self) -> None:
        """SIGKILL the server and all its workers at once (needs ``own_group``)."""
        self.client.close()
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.log.close()

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


QUIET: Final = ("--no-access-log", "--log-level", "warning")


def start_server(
    *args: str,
    env: dict[str, str] | None = None,
    own_group: bool = False,
    access_log: bool = False,
) -> LiveServer:
    """Start the mock as a separate process and wait until it accepts connections.

    Quiet unless ``access_log`` (then as users start it: access log on, level info, into
    :meth:`LiveServer.stderr`). ``own_group`` puts it (and its workers) in a process group of
    its own, for ``kill9``.
    """
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by LiveServer.stop
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zitadel_mock",
            "serve",
            "--port",
            str(port),
            *(() if access_log else QUIET),
            *args,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
        env={**os.environ, **(env or {})},
        start_new_session=own_group,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            err = log.read().decode(errors="replace")
            log.close()
            raise RuntimeError(f"mock exited with {process.returncode}: {err}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return LiveServer(process, port, log)
        except OSError:
            time.sleep(0.05)
    process.kill()
    process.wait()
    log.close()
    raise RuntimeError("mock did not start within 30 s")


@pytest.fixture(scope="session")
def server() -> Iterator[LiveServer]:
    """One mock with the demo fixtures for the whole session; tests assert relative state only."""
    live = start_server()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def logged_server() -> Iterator[LiveServer]:
    """One mock as users start it (access log on, level info) for the whole session."""
    live = start_server(access_log=True)
    yield live
    live.stop()


@pytest.fixture(params=["quiet", "access log on"])
def either_server(request: pytest.FixtureRequest) -> LiveServer:
    """The session's quiet mock, then the one with its access log on: for what the access log,
    which wraps the server's ``send``, could break (a fault's way to drop the exchange)."""
    return request.getfixturevalue("server" if request.param == "quiet" else "logged_server")  # type: ignore[no-any-return]


@pytest.fixture
def fresh_server() -> Iterator[LiveServer]:
    """A mock of its own, started with ``--seed 7``, for tests that need known state."""
    live = start_server("--seed", "7")
    yield live
    live.stop()
