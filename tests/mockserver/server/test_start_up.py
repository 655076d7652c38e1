"""What start-up leaves for later (connexion, h2, the WebSocket library, the gRPC and Connect
codecs) is not imported on the way to the first answer, and each still answers as before when
its first request comes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import grpc
import pytest

from tests.conftest import PORTAL, WEB, LiveServer, start_server
from zitadel_proto.client import call_grpc, metadata

# Built as `zitadel-mock serve` builds it (cli._serve_until_stopped), up to the first request.
START_UP = """
import json, sys
from zitadel_mock.app import MockApp, Settings, build_service, open_state
from zitadel_mock.server import serving
settings = Settings()
store, _ = open_state(settings)
MockApp(build_service(settings, store), settings)
serving._config(None, "127.0.0.1", 0, "info", True).load()
print(json.dumps(sorted(sys.modules)))
"""
LEFT_FOR_LATER = ("connexion", "jsonschema", "httpx", "h2", "websockets", "wsproto")
CODECS = (
    "zitadel_mock.protocols.connect",
    "zitadel_mock.protocols.connect_grpc",
    "zitadel_mock.protocols.grpc_app",
    "zitadel_mock.protocols.grpc_codec",
)
V2 = "/zitadel.application.v2.ApplicationService/GenerateClientSecret"
UPGRADE = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@pytest.fixture
def started() -> Iterator[LiveServer]:
    """A mock of its own, asked nothing yet."""
    live = start_server()
    yield live
    live.stop()


def test_start_up_imports_none_of_what_it_leaves_for_later() -> None:
    done = subprocess.run(
        [sys.executable, "-c", START_UP], capture_output=True, text=True, check=True
    )
    imported = json.loads(done.stdout)
    assert "uvicorn" in imported  # the list is the real one
    assert [m for m in imported if m.split(".")[0] in LEFT_FOR_LATER or m in CODECS] == []


def test_a_native_grpc_call_as_the_first_request_is_answered(started: LiveServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{started.port}") as channel:
        outcome = call_grpc(channel, PORTAL, WEB, pairs=metadata("admin-pat", None))
    assert outcome.code == 0
    assert outcome.response is not None
    assert outcome.response.client_secret


def test_a_connect_call_as_the_first_request_is_answered(started: LiveServer) -> None:
    answer = started.client.post(
        V2,
        json={"applicationId": WEB, "projectId": PORTAL},
        headers={"Authorization": "Bearer admin-pat"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["clientSecret"]


def test_a_websocket_upgrade_is_refused_as_uvicorns_websockets_protocol_refuses_it(
    started: LiveServer,
) -> None:
    with socket.create_connection(("127.0.0.1", started.port), timeout=10) as conn:
        conn.sendall(UPGRADE)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    # The handshake was the websockets library's: the app closed the socket before accepting.
    assert received.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert b"content-type: text/plain; charset=utf-8" in received.lower()


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_freezing_the_start_up_turns_the_collector_back_on() -> None:
    # serve starts with it off (zitadel_mock.command); the serving process must not stay so.
    code = (
        "import gc; gc.disable()\n"
        "from zitadel_mock.server.serving import freeze_start_up\n"
        "freeze_start_up(); print(gc.isenabled(), gc.get_freeze_count() > 0)"
    )
    assert run_python(code) == "True True"


def test_serve_that_stops_before_serving_leaves_the_collector_on() -> None:
    code = (
        "import contextlib, gc, io\n"
        "from zitadel_mock.command import main\n"
        "with contextlib.redirect_stderr(io.StringIO()):\n"
        "    status = main(['serve', '--watch'])  # needs --fixtures: refused before serving\n"
        "print(status, gc.isenabled())"
    )
    assert run_python(code) == "2 True"


def test_a_deferred_app_that_cannot_be_built_stops_serve_with_exit_1() -> None:
    # A bug (the spec is package data): serve stops as a failure at start would have stopped it.
    code = (
        "import sys\n"
        "from zitadel_mock.protocols import gateway_app\n"
        "def broken(*args, **kwargs):\n"
        "    raise RuntimeError('no spec')\n"
        "gateway_app.build_rest_app = broken\n"
        "from zitadel_mock.command import main\n"
        "sys.exit(main(['serve', '--port', '0', '--log-level', 'warning']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1, done.stderr
    assert "building connexion's app of openapi.yaml failed" in done.stderr
    assert "RuntimeError: no spec" in done.stderr
