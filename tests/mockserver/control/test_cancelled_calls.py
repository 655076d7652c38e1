"""A client that hangs up (HTTP/1.1) or resets its stream (HTTP/2) during ``Prefer: delay`` is
never rotated for, as a cancelled context aborts ZITADEL's command; its delay ends with it."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from h2.errors import ErrorCodes

from tests.conftest import ACME, PORTAL, WEB, LiveServer, fuzz_examples, rotate_path, start_server
from tests.support.control_helpers import fresh_ns, journal, rotate, sequence
from tests.support.h2client import H2Client
from zitadel_proto.methods import V2_GENERATE_CLIENT_SECRET as V2_PATH

GONE = "the client went away during the delay; the call never ran"
DELAY = "delay=60000"  # far beyond the test's patience: the entries show the delays were cut


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start_server()
    yield server
    server.stop()


def clients() -> int:
    return min(fuzz_examples(5) * 4, 200)  # 20 here; make fuzz: 200


def request_head(ns: str, body: bytes) -> bytes:
    return (
        f"POST {rotate_path(PORTAL, WEB)} HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer admin-pat\r\nx-zitadel-orgid: {ACME}\r\n"
        f"X-Mock-Namespace: {ns}\r\nPrefer: {DELAY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()


def wait_for_gone(server: LiveServer, ns: str, count: int) -> list[dict[str, object]]:
    """The namespace's journal once ``count`` calls are recorded (each is, once its client is
    gone and its delay cut short); fails after 30 s, half the delay."""
    deadline = time.monotonic() + 30
    while True:
        entries = journal(server, ns, limit=1000)
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


def assert_hang_ups_not_rotated(live: LiveServer, ns: str, request: bytes) -> None:
    """``clients()`` HTTP/1.1 clients send ``request`` (delayed by ``Prefer``), a probe client is
    served meanwhile, then they hang up: each is journalled as gone, none rotated."""
    before = sequence(live, ns)
    count = clients()
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", live.port), timeout=10)
        sock.sendall(request)
        socks.append(sock)
    probe = rotate(live, fresh_ns())  # another client is served meanwhile
    assert probe.status_code == 200
    for sock in socks:
        sock.close()
    entries = wait_for_gone(live, ns, count)
    assert len(entries) == count
    assert all(e["message"] == GONE and e["status"] is None for e in entries)
    assert sequence(live, ns) == before


def test_http1_clients_that_hang_up_during_a_delay_are_not_rotated(live: LiveServer) -> None:
    ns = fresh_ns()
    assert_hang_ups_not_rotated(live, ns, request_head(ns, b"{}") + b"{}")


def test_http2_streams_reset_during_a_delay_are_not_rotated(live: LiveServer) -> None:
    ns = fresh_ns()
    before = sequence(live, ns)
    count = clients()
    client = H2Client(live.port)
    try:
        headers = {
            "authorization": "Bearer admin-pat",
            "x-zitadel-orgid": ACME,
            "x-mock-namespace": ns,
            "prefer": DELAY,
            "content-type": "application/json",
        }
        streams = []
        for _ in range(count):
            stream = client.start(rotate_path(PORTAL, WEB), headers)
            client.send(stream, json.dumps({}).encode())
            streams.append(stream)
        for stream in streams:
            client.conn.reset_stream(stream, ErrorCodes.CANCEL)
        client.flush()
        entries = wait_for_gone(live, ns, count)
        assert len(entries) == count
        assert all(e["message"] == GONE for e in entries)
        assert sequence(live, ns) == before
        assert rotate(live, ns).status_code == 200  # the namespace itself goes on
        assert sequence(live, ns) == before + 1
    finally:
        client.close()


def test_connect_clients_that_hang_up_during_a_delay_are_not_rotated(live: LiveServer) -> None:
    ns = fresh_ns()
    body = json.dumps({"applicationId": WEB, "projectId": PORTAL}).encode()
    head = (
        f"POST {V2_PATH} HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer admin-pat\r\nX-Mock-Namespace: {ns}\r\nPrefer: {DELAY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    assert_hang_ups_not_rotated(live, ns, head + body)


def test_a_client_that_waits_out_the_delay_is_rotated(live: LiveServer) -> None:
    ns = fresh_ns()
    before = sequence(live, ns)
    response = rotate(live, ns, headers={"Prefer": "delay=50"})
    assert response.status_code == 200
    assert sequence(live, ns) == before + 1
