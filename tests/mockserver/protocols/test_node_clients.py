"""ZITADEL's own Node clients rotate the demo app's secret against the mock.

``@zitadel/node`` (nice-grpc, native gRPC) and ``@zitadel/client`` (Connect, over native gRPC
and over gRPC-web), installed with npm from ``tests/node/package-lock.json`` into
``build/node-clients`` once, then reused. Skipped where node or npm is not installed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PORTAL, ROOT, WEB, LiveServer

SOURCE = ROOT / "tests" / "node"
INSTALL = ROOT / "build" / "node-clients"
CLIENTS = ("node-grpc", "client-grpc", "client-grpc-web")
NODE, NPM = shutil.which("node"), shutil.which("npm")

pytestmark = pytest.mark.skipif(NODE is None or NPM is None, reason="node and npm are needed")


@pytest.fixture(scope="module")
def clients() -> Path:
    """The installed clients; ``npm ci`` runs only when the lock file changed."""
    lock = (SOURCE / "package-lock.json").read_bytes()
    stamp = INSTALL / ".installed"
    digest = hashlib.sha256(lock).hexdigest()
    if not (stamp.exists() and stamp.read_text() == digest):
        INSTALL.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(SOURCE / name, INSTALL / name)
        done = subprocess.run(
            [str(NPM), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=INSTALL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"npm could not install the ZITADEL clients: {done.stderr[-500:]}")
        stamp.write_text(digest)
    shutil.copy(SOURCE / "rotate.mjs", INSTALL / "rotate.mjs")
    return INSTALL


def run(clients: Path, server: LiveServer, calls: list[dict[str, str]]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(NODE), "rotate.mjs", server.url, json.dumps(calls)],
        cwd=clients,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcomes: list[dict[str, Any]] = json.loads(done.stdout)
    return outcomes


def call(client: str, token: str = "admin-pat", **extra: str) -> dict[str, str]:
    return {"client": client, "token": token, "projectId": PORTAL, "appId": WEB, **extra}


def test_every_official_client_rotates_the_demo_apps_secret_in_one_sequence(
    clients: Path, fresh_server: LiveServer
) -> None:
    outcomes = run(clients, fresh_server, [call(c) for c in CLIENTS] + [call(CLIENTS[0])])
    assert [o["code"] for o in outcomes] == [0, 0, 0, 0], outcomes
    assert {(o["secretLength"], o["secretAlphanumeric"]) for o in outcomes} == {(64, True)}
    assert {o["resourceOwner"] for o in outcomes} == {"319487622871056385"}
    sequences = [int(o["sequence"]) for o in outcomes]
    assert sequences == list(range(sequences[0], sequences[0] + 4))


def test_every_official_client_sees_zitadels_errors(clients: Path, server: LiveServer) -> None:
    calls = [call(c, token="no-such-token") for c in CLIENTS]
    calls += [call(c, orgId="999999999999999999") for c in CLIENTS]
    outcomes = run(clients, server, calls)
    assert [(o["code"], o["message"]) for o in outcomes] == [
        (16, "Errors.Token.Invalid (AUTH-7fs1e)")
    ] * 3 + [(7, "Organisation doesn't exist (AUTH-Bs7Ds)")] * 3
    connect = [o for o in outcomes if o["client"] != "node-grpc"]
    assert {tuple(o["detailTypes"]) for o in connect} == {("zitadel.v1.ErrorDetail",)}
