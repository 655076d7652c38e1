"""Where the run points: a target the user names, or a mock the suite starts and provisions.

The local mock is started as a separate process (``python -m zitadel_mock serve``) on a free
loopback port with a fixture file written here: one disposable OIDC app in a project of its own,
a token that may rotate it, and a token of a member without that permission. The token's own org
is not the app's org, so every call must name the app's org in ``x-zitadel-orgid``.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import IO, Final

from zitadel_contract.settings import Settings

HOME_ORG: Final = "310000000000000001"
APP_ORG: Final = "310000000000000002"
PROJECT: Final = "310000000000000010"
APP: Final = "310000000000000100"
CLIENT_ID: Final = f"{APP}@contract"
START_TIMEOUT_SECONDS: Final = 30.0


@dataclass(frozen=True, slots=True)
class Target:
    """The server under test and the one app the run may rotate."""

    url: str
    project_id: str
    app_id: str
    token: str = field(repr=False)
    org_id: str | None = None
    client_id: str | None = None
    no_permission_token: str | None = field(default=None, repr=False)
    started_by_suite: bool = False

    def describe(self) -> str:
        org = f", org {self.org_id}" if self.org_id else ""
        client = f", client id {self.client_id}" if self.client_id else ""
        where = "a mock started by the suite at " if self.started_by_suite else ""
        return f"app {self.app_id} (project {self.project_id}{org}{client}) on {where}{self.url}"


def given_target(settings: Settings) -> Target:
    """The target named by the settings (which :func:`zitadel_contract.settings.resolve`
    checked)."""
    if not (settings.url and settings.token and settings.project_id and settings.app_id):
        raise ValueError("a given target needs a URL, a token, a project id and an app id")
    return Target(
        url=settings.url.rstrip("/"),
        project_id=settings.project_id,
        app_id=settings.app_id,
        token=settings.token,
        org_id=settings.org_id,
        client_id=settings.client_id,
        no_permission_token=settings.no_permission_token,
    )


def fixture_document(token: str, viewer_token: str) -> str:
    """The mock's fixture file (YAML) for a run: see the module docstring."""
    return f"""\
orgs:
  - {{id: "{HOME_ORG}", name: contract-home}}
  - {{id: "{APP_ORG}", name: contract-apps}}
projects:
  - {{id: "{PROJECT}", name: contract, org: "{APP_ORG}"}}
apps:
  - id: "{APP}"
    name: disposable
    project: "{PROJECT}"
    type: oidc
    authMethod: basic
    clientId: "{CLIENT_ID}"
tokens:
  - token: "{token}"
    name: contract-admin
    user: "310000000000001001"
    org: "{HOME_ORG}"
    memberships: [{{scope: instance, roles: [IAM_OWNER]}}]
  - token: "{viewer_token}"
    name: contract-viewer
    user: "310000000000001002"
    org: "{APP_ORG}"
    memberships: [{{scope: org, id: "{APP_ORG}", roles: [ORG_OWNER_VIEWER]}}]
"""


SERVER_EXTRA_HINT: Final = (
    "without a URL the suite starts the mock, which this install lacks: pip install "
    "'zitadel-secret-mock[server]', or name a target (URL argument or ZITADEL_CONTRACT_URL)"
)


def mock_installed() -> bool:
    """Whether ``python -m zitadel_mock serve`` can run here (the [server] extra)."""
    return all(find_spec(name) is not None for name in ("zitadel_mock", "connexion", "uvicorn"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalMock:
    """A mock process for one run; :meth:`start` returns its target, :meth:`stop` ends it."""

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self._dir = tempfile.TemporaryDirectory(prefix="zitadel-contract-")
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> Target:
        token, viewer = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        fixtures = Path(self._dir.name) / "fixtures.yaml"
        fixtures.write_text(fixture_document(token, viewer), encoding="utf-8")
        for _attempt in range(3):  # a free port can be taken between asking and binding
            port = free_port()
            if self._launch(port, fixtures):
                return Target(
                    url=f"http://127.0.0.1:{port}",
                    project_id=PROJECT,
                    app_id=APP,
                    token=token,
                    org_id=APP_ORG,
                    client_id=CLIENT_ID,
                    no_permission_token=viewer,
                    started_by_suite=True,
                )
        raise RuntimeError(f"the mock did not start: {self.log_tail()}")

    def _launch(self, port: int, fixtures: Path) -> bool:
        if self._log is not None:
            self._log.close()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        command = [self.python, "-m", "zitadel_mock", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--fixtures", str(fixtures)]
        command += ["--no-access-log", "--log-level", "warning"]
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the mock did not answer within {START_TIMEOUT_SECONDS:g} s")

    def log_tail(self) -> str:
        if self._log is None:
            return "(no output)"
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:] or "(no output)"

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        self._dir.cleanup()
