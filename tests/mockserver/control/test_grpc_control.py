"""The control plane over gRPC and gRPC-web: metadata `prefer` and `x-mock-namespace`, queued
outcomes, faults as a gRPC client sees them, and journal entries, on a real server."""

from __future__ import annotations

import grpc
import httpx
import pytest

from tests.conftest import PORTAL, WEB, LiveServer, start_server
from tests.support.control_helpers import admin, fresh_ns, journal, sequence
from tests.support.h2client import H2Client
from zitadel_proto.client import Outcome, call_grpc, call_grpc_web, metadata, request_bytes
from zitadel_proto.wire import METHOD_PATH, encode_frame

WIRES = ("grpc", "grpc-web")


def call(server: LiveServer, wire: str, ns: str, *extra: tuple[str, str], **kw: object) -> Outcome:
    pairs = metadata("admin-pat", None, ("x-mock-namespace", ns), *extra)
    if wire == "grpc":
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            return call_grpc(channel, PORTAL, WEB, pairs=pairs, **kw)  # type: ignore[arg-type]
    with httpx.Client(base_url=server.url, timeout=10) as client:
        return call_grpc_web(client, PORTAL, WEB, pairs=pairs)


@pytest.mark.parametrize("wire", WIRES)
def test_prefer_metadata_forces_the_reference_row(server: LiveServer, wire: str) -> None:
    outcome = call(server, wire, fresh_ns(), ("prefer", "code=404"))
    assert (outcome.code, outcome.message) == (5, "Application doesn't exist (COMMAND-2g66f)")
    assert [(d.id, d.message) for d in outcome.details] == [
        ("COMMAND-2g66f", "Application doesn't exist")
    ]


@pytest.mark.parametrize("wire", WIRES)
def test_prefer_metadata_picks_any_row_by_zitadel_id(server: LiveServer, wire: str) -> None:
    outcome = call(server, wire, fresh_ns(), ("prefer", "error=AUTH-Bs7Ds"))
    assert (outcome.code, outcome.message) == (7, "Organisation doesn't exist (AUTH-Bs7Ds)")


@pytest.mark.parametrize("wire", WIRES)
def test_a_forced_outcome_rotates_nothing(server: LiveServer, wire: str) -> None:
    ns = fresh_ns()
    before = sequence(server, ns)
    call(server, wire, ns, ("prefer", "code=403"))
    assert sequence(server, ns) == before


@pytest.mark.parametrize("wire", WIRES)
def test_a_malformed_prefer_is_invalid_argument(server: LiveServer, wire: str) -> None:
    outcome = call(server, wire, fresh_ns(), ("prefer", "code=banana"))
    assert outcome.code == 3
    assert outcome.message.startswith("invalid Prefer header: ")


@pytest.mark.parametrize("wire", WIRES)
def test_namespaces_isolate_grpc_rotations(server: LiveServer, wire: str) -> None:
    first, second = fresh_ns(), fresh_ns()
    a = call(server, wire, first).response
    b = call(server, wire, first).response
    c = call(server, wire, second).response
    assert a is not None
    assert b is not None
    assert c is not None
    assert b.details.sequence == a.details.sequence + 1
    assert c.details.sequence == a.details.sequence  # the other namespace starts afresh


@pytest.mark.parametrize("wire", WIRES)
def test_queued_outcomes_apply_to_grpc_calls_in_order(server: LiveServer, wire: str) -> None:
    ns = fresh_ns()
    queued = admin(server, "POST", "/outcomes", ns, json={"app": WEB, "times": 1, "code": 401})
    assert queued.status_code in (200, 201), queued.text
    assert call(server, wire, ns).code == 16
    assert call(server, wire, ns).code == 0


def test_server_honours_grpc_timeout_against_a_forced_delay(server: LiveServer) -> None:
    # gRPC-web over httpx sets no deadline of its own: what comes back is the server's answer.
    outcome = call(
        server, "grpc-web", fresh_ns(), ("prefer", "delay=3000"), ("grpc-timeout", "200m")
    )
    assert (outcome.code, outcome.message) == (4, "context deadline exceeded")


def test_a_grpc_client_deadline_shorter_than_a_delay_expires(server: LiveServer) -> None:
    outcome = call(server, "grpc", fresh_ns(), ("prefer", "delay=3000"), timeout=0.3)
    assert outcome.code == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]


def test_fault_close_resets_only_the_stream_over_http2(either_server: LiveServer) -> None:
    ns = fresh_ns()
    pairs = metadata("admin-pat", None, ("x-mock-namespace", ns))
    with grpc.insecure_channel(f"127.0.0.1:{either_server.port}") as channel:
        dropped = call_grpc(channel, PORTAL, WEB, pairs=[*pairs, ("prefer", "fault=close")])
        after = call_grpc(channel, PORTAL, WEB, pairs=pairs)  # same channel, same connection
    assert dropped.code == grpc.StatusCode.CANCELLED.value[0]
    assert after.code == 0


def test_fault_lost_rotates_but_the_client_gets_no_answer(either_server: LiveServer) -> None:
    ns = fresh_ns()
    before = sequence(either_server, ns)
    outcome = call(either_server, "grpc", ns, ("prefer", "fault=lost"))
    assert outcome.code == grpc.StatusCode.CANCELLED.value[0]
    assert sequence(either_server, ns) == before + 1


def test_fault_empty_leaves_the_client_without_a_status(either_server: LiveServer) -> None:
    outcome = call(either_server, "grpc", fresh_ns(), ("prefer", "fault=empty"))
    assert (outcome.code, outcome.message) == (
        grpc.StatusCode.UNKNOWN.value[0],
        "No status received",
    )


def test_fault_stall_runs_into_the_client_deadline(either_server: LiveServer) -> None:
    outcome = call(either_server, "grpc", fresh_ns(), ("prefer", "fault=stall"), timeout=0.5)
    assert outcome.code == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]


def test_fault_close_drops_the_connection_for_grpc_web(either_server: LiveServer) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        call(either_server, "grpc-web", fresh_ns(), ("prefer", "fault=close"))


def test_fault_truncate_resets_the_stream_after_part_of_the_message(
    either_server: LiveServer,
) -> None:
    outcome = call(either_server, "grpc", fresh_ns(), ("prefer", "fault=truncate"))
    assert outcome.code == grpc.StatusCode.CANCELLED.value[0]
    assert outcome.response is None


def test_fault_truncate_cuts_the_grpc_web_body(either_server: LiveServer) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        call(either_server, "grpc-web", fresh_ns(), ("prefer", "fault=truncate"))


@pytest.mark.parametrize("wire", WIRES)
def test_grpc_calls_are_journaled_without_secrets_or_tokens(server: LiveServer, wire: str) -> None:
    ns = fresh_ns()
    response = call(server, wire, ns).response
    refused = call(server, wire, ns, ("prefer", "code=404"))
    assert response is not None
    assert refused.code == 5
    entries = journal(server, ns)
    assert [(e["transport"], e["grpcCode"]) for e in entries[-2:]] == [(wire, 0), (wire, 5)]
    assert all(e["appId"] == WEB and e["projectId"] == PORTAL for e in entries[-2:])
    text = str(entries)
    assert response.client_secret not in text
    assert "admin-pat" not in text


def test_a_stall_past_the_calls_own_deadline_ends_in_trailers_with_deadline_exceeded() -> None:
    """The server's deadline (grpc-timeout) expires after the stall sent its 200 head: the call
    ends as grpc-go ends it then, with grpc-status 4 in trailers, not a second head."""
    live = start_server()
    client = H2Client(live.port)
    try:
        headers = {
            "content-type": "application/grpc",
            "te": "trailers",
            "authorization": "Bearer admin-pat",
            "x-mock-namespace": fresh_ns(),
            "prefer": "fault=stall",
            "grpc-timeout": "200m",
        }
        stream_id = client.start(METHOD_PATH, headers)
        client.send(stream_id, encode_frame(request_bytes(PORTAL, WEB)))
        answer = client.wait(stream_id, timeout=10)
    finally:
        client.close()
        log = live.stderr()
        live.stop()
    assert answer.status == 200
    assert answer.trailers, answer
    assert answer.header("grpc-status") == "4"
    assert "Traceback" not in log, log
