"""Connect unary and v2 gRPC-web go through the one control-plane driver: its faults, notes and
deadline as a Connect (or gRPC-web) client sees them, on a real socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import PORTAL, WEB, LiveServer, start_server
from tests.support.control_helpers import fresh_ns, journal
from zitadel_proto.wire import encode_frame
from zitadel_proto.zitadel.application_v2_pb2 import GenerateClientSecretRequest

V2 = "/zitadel.application.v2.ApplicationService/GenerateClientSecret"
GOOD = {"applicationId": WEB, "projectId": PORTAL}
UNKNOWN = {"applicationId": "no-such-app", "projectId": PORTAL}
CONNECT = {"Content-Type": "application/json", "Authorization": "Bearer admin-pat"}


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start_server()
    yield server
    server.stop()


def raw_exchange(live: LiveServer, headers: dict[str, str], body: bytes) -> bytes:
    """Everything the server sends before it closes the connection."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST {V2} HTTP/1.1\r\nHost: mock\r\nContent-Length: {len(body)}\r\n{head}"
        "Connection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", live.port), timeout=30) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):  # ends when the server closes
            received += chunk
    return received


def test_truncate_cuts_an_error_answer_too(live: LiveServer) -> None:
    """As on REST and gRPC: the driver cuts whatever the call answered, half of the body."""
    body = httpx.Request("POST", "/", json=UNKNOWN).content
    received = raw_exchange(live, {**CONNECT, "Prefer": "fault=truncate"}, body)
    head, _, part = received.partition(b"\r\n\r\n")
    length = int(
        next(
            line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        ).split(b":")[1]
    )
    assert head.startswith(b"HTTP/1.1 404")
    assert 0 < len(part) < length


def test_truncate_journals_the_bytes_sent(live: LiveServer) -> None:
    ns = fresh_ns()
    headers = {**CONNECT, "Prefer": "fault=truncate", "X-Mock-Namespace": ns}
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{live.url}{V2}", json=GOOD, headers=headers)
    entry = journal(live, ns)[0]
    assert (entry["api"], entry["transport"], entry["outcome"]) == ("v2", "connect", "fault")
    assert entry["message"].endswith(" body bytes sent")


def test_lost_names_connects_status_of_the_error(live: LiveServer) -> None:
    ns = fresh_ns()
    headers = {**CONNECT, "Prefer": "fault=lost", "X-Mock-Namespace": ns}
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{live.url}{V2}", json=UNKNOWN, headers=headers)
    message = journal(live, ns)[0]["message"]
    assert message == "the call answered 404; the response was dropped"


def test_a_stall_past_connect_timeout_drops_the_connection_after_its_head(
    live: LiveServer,
) -> None:
    body = httpx.Request("POST", "/", json=GOOD).content
    headers = {**CONNECT, "Prefer": "fault=stall", "Connect-Timeout-Ms": "100"}
    received = raw_exchange(live, headers, body)
    assert received.startswith(b"HTTP/1.1 200")
    assert received.endswith(b"\r\n\r\n")  # the head, and nothing after it


def test_the_early_refusals_are_journalled_with_their_api(live: LiveServer) -> None:
    ns = fresh_ns()
    response = live.client.get(V2, headers={"X-Mock-Namespace": ns})
    entry = journal(live, ns)[0]
    assert response.status_code == 405
    assert (entry["api"], entry["status"]) == ("v2", 405)


def test_a_v2_grpc_web_truncate_is_journalled_by_the_driver(live: LiveServer) -> None:
    ns = fresh_ns()
    message = GenerateClientSecretRequest(application_id=WEB, project_id=PORTAL)
    headers = {
        "Content-Type": "application/grpc-web",
        "Authorization": "Bearer admin-pat",
        "Prefer": "fault=truncate",
        "X-Mock-Namespace": ns,
    }
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            f"{live.url}{V2}", content=encode_frame(message.SerializeToString()), headers=headers
        )
    entry = journal(live, ns)[0]
    assert (entry["api"], entry["transport"]) == ("v2", "grpc-web")
    assert entry["message"].endswith(" body bytes sent")
