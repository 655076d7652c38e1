"""ZITADEL's own Node clients and connect-es rotate the demo app's secret against the mock.

``@zitadel/node`` (nice-grpc, native gRPC) and ``@zitadel/client`` (Connect, over native gRPC
and over gRPC-web) on v1; ``@connectrpc/connect-node`` with its Connect (JSON and binary), gRPC
and gRPC-web transports on v2 and v2beta, its services read from a FileDescriptorSet that
protoc builds from our protos. Installed with npm from ``tests/node/package-lock.json`` into
``build/node-clients`` once, then reused. Skipped where node or npm is not installed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc_tools
import pytest

from tests.conftest import PORTAL, ROOT, SSO, WEB, LiveServer

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
    for script in ("rotate.mjs", "generate.mjs"):
        shutil.copy(SOURCE / script, INSTALL / script)
    return INSTALL


@pytest.fixture(scope="module")
def descriptors(clients: Path) -> Path:
    """The v2 and v2beta services and zitadel.v1.ErrorDetail as one FileDescriptorSet."""
    out = clients / "v2.binpb"
    includes = Path(grpc_tools.__file__).parent / "_proto"
    protos = [f"zitadel_proto/zitadel/{name}.proto" for name in ("application_v2", "app_v2beta")]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{ROOT}",
            f"-I{includes}",
            "--include_imports",
            f"--descriptor_set_out={out}",
            *protos,
            "zitadel_proto/zitadel/message.proto",
        ],
        cwd=ROOT,
        check=True,
    )
    return out


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


CONNECT_ES = ("connect", "connect-proto", "connect-h2", "grpc", "grpc-web")


def run_connect_es(
    clients: Path, descriptors: Path, server: LiveServer, calls: list[dict[str, str]]
) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(NODE), "generate.mjs", server.url, str(descriptors), json.dumps(calls)],
        cwd=clients,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcomes: list[dict[str, Any]] = json.loads(done.stdout)
    return outcomes


def v2_call(transport: str, api: str = "v2", **extra: str) -> dict[str, str]:
    return {
        "transport": transport,
        "api": api,
        "token": "admin-pat",
        "projectId": PORTAL,
        "appId": WEB,
        **extra,
    }


def test_connect_es_rotates_over_every_transport_between_v1_calls(
    clients: Path, descriptors: Path, fresh_server: LiveServer
) -> None:
    (first,) = run(clients, fresh_server, [call("node-grpc")])
    outcomes = run_connect_es(
        clients,
        descriptors,
        fresh_server,
        [v2_call(t) for t in CONNECT_ES] + [v2_call("connect", "v2beta")],
    )
    (last,) = run(clients, fresh_server, [call("client-grpc-web")])
    assert [o["code"] for o in outcomes] == [0] * 6, outcomes
    assert {(o["secretLength"], o["secretAlphanumeric"]) for o in outcomes} == {(64, True)}
    assert all(o["creationSeconds"] > 0 for o in outcomes)
    assert int(last["sequence"]) == int(first["sequence"]) + 7


def test_connect_es_sees_zitadels_v2_errors_over_every_transport(
    clients: Path, descriptors: Path, server: LiveServer
) -> None:
    calls = [v2_call(t, appId=SSO) for t in CONNECT_ES]
    calls += [v2_call(t, token="no-such-token") for t in CONNECT_ES]
    calls += [v2_call(t, "v2beta", appType="isApi") for t in CONNECT_ES]
    outcomes = run_connect_es(clients, descriptors, server, calls)
    assert [(o["code"], o["message"], o["detailIds"]) for o in outcomes] == [
        (5, "Application doesn't exist (COMMAND-Kd92s)", ["COMMAND-Kd92s"])
    ] * 5 + [(16, "Errors.Token.Invalid (AUTH-7fs1e)", ["AUTH-7fs1e"])] * 5 + [
        (3, "Application is not type API (COMMAND-aeH4)", ["COMMAND-aeH4"])
    ] * 5
