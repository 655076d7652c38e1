"""Each fault as a real client sees it over a real socket, and what it did to the state."""

from __future__ import annotations

import contextlib
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import PORTAL, WEB, LiveServer, rotate_path, start_server
from tests.support.control_helpers import fresh_ns, journal, rotate, sequence

MAX_STALL = 1.0


@pytest.fixture(
    scope="module",
    params=[(1, False), (1, True), (2, True)],
    ids=["quiet", "access log on", "2 workers, access log on"],
)
def faulty(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The mock quiet, and as users start it, with one worker and two: the access log, which
    wraps the server's ``send``, must leave the faults their way to drop the connection."""
    workers, access_log = request.param
    live = start_server(
        "--max-stall", str(MAX_STALL), "--workers", str(workers), access_log=access_log
    )
    yield live
    live.stop()


def journal_written(server: LiveServer, ns: str) -> list[dict[str, Any]]:
    """The namespace's journal once it holds an entry: a read flushes only its own worker's
    batch, another worker's is written within 0.2 s (docs/frontend.md)."""
    deadline = time.monotonic() + 2
    while not (entries := journal(server, ns)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return entries


def fault(server: LiveServer, ns: str, name: str) -> httpx.Response:
    return rotate(server, ns, headers={"Prefer": f"fault={name}"})


def test_close_drops_the_connection_before_any_response(faulty: LiveServer) -> None:
    ns = fresh_ns()
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        fault(faulty, ns, "close")
    assert sequence(faulty, ns) == 6  # nothing ran


def test_lost_runs_the_call_then_drops_the_connection(faulty: LiveServer) -> None:
    ns = fresh_ns()
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        fault(faulty, ns, "lost")
    assert sequence(faulty, ns) == 7  # the secret was rotated; the client never learnt it
    (entry,) = journal_written(faulty, ns)
    assert (entry["status"], entry["message"]) == (
        None,
        "the call answered 200; the response was dropped",
    )


def test_empty_answers_200_with_no_body(faulty: LiveServer) -> None:
    ns = fresh_ns()
    response = fault(faulty, ns, "empty")
    assert (response.status_code, response.headers["content-length"], response.content) == (
        200,
        "0",
        b"",
    )
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert sequence(faulty, ns) == 6


def test_truncate_sends_half_the_body_content_length_promises(faulty: LiveServer) -> None:
    ns = fresh_ns()
    with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body"):
        fault(faulty, ns, "truncate")
    assert sequence(faulty, ns) == 7


def test_truncate_on_the_wire_is_a_full_head_and_a_short_body(faulty: LiveServer) -> None:
    ns = fresh_ns()
    request = (
        f"POST {rotate_path(PORTAL, WEB)} HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer admin-pat\r\nX-Mock-Namespace: {ns}\r\n"
        "Prefer: fault=truncate\r\nContent-Length: 2\r\n\r\n{}"
    ).encode()
    with socket.create_connection(("127.0.0.1", faulty.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[
            1
        ]
    )
    assert len(body) == length // 2
    assert body.startswith(b'{"clientSecret"')


def test_stall_sends_the_head_then_nothing_until_the_client_gives_up(faulty: LiveServer) -> None:
    ns = fresh_ns()
    headers = {"Prefer": "fault=stall", "X-Mock-Namespace": ns, "Authorization": "Bearer admin-pat"}
    with (
        httpx.Client(base_url=faulty.url, timeout=0.3) as client,
        client.stream("POST", rotate_path(PORTAL, WEB), headers=headers, json={}) as response,
    ):
        assert response.status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            response.read()
    assert sequence(faulty, ns) == 6


def test_stall_is_bounded_by_the_servers_maximum(faulty: LiveServer) -> None:
    request = (
        f"POST {rotate_path(PORTAL, WEB)} HTTP/1.1\r\nHost: x\r\n"
        "Prefer: fault=stall\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", faulty.port), timeout=MAX_STALL + 10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):  # ends when the server closes, not on our timeout
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK")
    assert received.endswith(b"\r\n\r\n")  # the head, and not a byte of body


@pytest.mark.parametrize("name", ["close", "lost", "empty", "truncate"])
def test_the_server_keeps_serving_after_a_fault_without_logging_errors(
    faulty: LiveServer, name: str
) -> None:
    ns = fresh_ns()
    with contextlib.suppress(httpx.RemoteProtocolError):
        fault(faulty, ns, name)
    assert rotate(faulty, ns).status_code == 200
    log = faulty.stderr()
    assert "Exception in ASGI application" not in log
    assert "ASGI callable" not in log


def test_a_fault_can_follow_a_delay(faulty: LiveServer) -> None:
    ns = fresh_ns()
    response = rotate(faulty, ns, headers={"Prefer": "delay=50, fault=empty"})
    assert response.content == b""
    (entry,) = journal_written(faulty, ns)
    assert entry["forced"] == {"source": "prefer", "prefer": "fault=empty, delay=50", "delayMs": 50}


def access_line(server: LiveServer, request_id: str) -> str:
    """The access line of ``request_id`` (held by the log for up to a tenth of a second)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for line in server.stderr().splitlines():
            if line.endswith(f" request_id={request_id}"):
                return line
        time.sleep(0.05)
    raise AssertionError(f"no access line for {request_id}")


@pytest.mark.parametrize(("name", "status"), [("close", "-"), ("lost", "-"), ("empty", "200")])
def test_an_exchange_a_fault_dropped_is_logged_without_a_status(
    logged_server: LiveServer, name: str, status: str
) -> None:
    request_id = f"fault-{uuid.uuid4().hex[:12]}"
    headers = {"Prefer": f"fault={name}", "X-Request-Id": request_id}
    with contextlib.suppress(httpx.RemoteProtocolError):
        rotate(logged_server, fresh_ns(), headers=headers)
    line = access_line(logged_server, request_id)
    assert f" zitadel_mock.access: POST {rotate_path(PORTAL, WEB)} {status} " in line
