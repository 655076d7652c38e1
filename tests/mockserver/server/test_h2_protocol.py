"""The HTTP/2 side of the port, spoken to frame by frame with a raw h2 client."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import grpc
import httpx
import pytest
from h2.errors import ErrorCodes

from tests.conftest import PORTAL, WEB, LiveServer, raw_request, rotate_path, start_server
from tests.support.h2client import H2Client
from zitadel_proto.client import call_grpc, metadata
from zitadel_proto.wire import METHOD_PATH, encode_frame

REST = rotate_path(PORTAL, WEB)
AUTH = {"authorization": "Bearer admin-pat"}
JSON_AUTH = {**AUTH, "content-type": "application/json"}


def test_many_concurrent_streams_on_one_connection_each_get_their_answer(
    server: LiveServer,
) -> None:
    client = H2Client(server.port)
    try:
        streams = [client.start(REST, JSON_AUTH) for _ in range(100)]
        for stream_id in streams:  # every request is open before the first body goes out
            client.send(stream_id, b"{}")
        client.wait(*streams, timeout=30)
        answers = [client.answers[s] for s in streams]
    finally:
        client.close()
    assert {a.status for a in answers} == {200}
    sequences = sorted(int(json.loads(a.data)["details"]["sequence"]) for a in answers)
    assert sequences == list(range(sequences[0], sequences[0] + 100))


def test_a_body_in_many_small_data_frames_is_read_whole(server: LiveServer) -> None:
    client = H2Client(server.port)
    try:
        stream_id = client.start(REST, JSON_AUTH)
        body = json.dumps({"projectId": "ignored", "pad": "x" * 200}).encode()
        for at in range(0, len(body), 7):
            client.send(stream_id, body[at : at + 7], end_stream=False)
        client.send(stream_id, b"", end_stream=True)
        answer = client.wait(stream_id)
    finally:
        client.close()
    assert answer.status == 200
    assert json.loads(answer.data)["details"]["resourceOwner"] == "319487622871056385"


def test_a_body_larger_than_every_window_is_read_as_the_windows_reopen(
    server: LiveServer,
) -> None:
    client = H2Client(server.port)
    try:
        message = b"\xff" * (3 * 1024 * 1024)  # > stream window (1 MiB) and > 64 KiB default
        answer = client.request(
            METHOD_PATH, {"content-type": "application/grpc", **AUTH}, encode_frame(message)
        )
    finally:
        client.close()
    assert answer.header("grpc-status") == "13"
    assert "unmarshalling" in (answer.header("grpc-message") or "")


def test_a_large_response_respects_a_small_client_window(server: LiveServer) -> None:
    expected = httpx.get(server.url + "/docs/swagger-ui-bundle.js", timeout=10).content
    client = H2Client(server.port, window=1000)
    try:
        stream_id = client.start("/docs/swagger-ui-bundle.js", method="GET", end_stream=True)
        answer = client.wait(stream_id, timeout=60)
    finally:
        client.close()
    assert len(expected) > 500_000
    assert (answer.status, bytes(answer.data)) == (200, expected)


def test_a_stream_reset_by_the_client_leaves_the_connection_serving(server: LiveServer) -> None:
    client = H2Client(server.port)
    try:
        cancelled = client.start(REST, JSON_AUTH)
        client.send(cancelled, b'{"pad": "', end_stream=False)
        client.conn.reset_stream(cancelled, ErrorCodes.CANCEL)
        client.flush()
        answer = client.request(REST, JSON_AUTH, b"{}")
    finally:
        client.close()
    assert answer.status == 200


def test_garbage_after_the_preface_gets_goaway_and_a_close(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x04\x09\xff" * 20)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    goaway = received.find(b"\x07\x00\x00\x00\x00\x00")  # type GOAWAY, flags 0, stream 0
    assert goaway >= 3, received
    assert server.rotate().status_code == 200


def test_bytes_that_are_neither_http_version_get_a_400(server: LiveServer) -> None:
    answer = raw_request(server.port, b"\x16\x03\x01garbage\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")


def test_a_request_that_stops_matching_the_preface_is_http_1_1(server: LiveServer) -> None:
    answer = raw_request(
        server.port, b"PUT /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 404")


def test_a_preface_arriving_byte_by_byte_is_still_http_2(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for byte in b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n":
            sock.sendall(bytes([byte]))
            time.sleep(0.001)
        sock.sendall(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")  # an empty SETTINGS frame
        first = sock.recv(9)
    assert first[3] == 0x04  # the server's first frame is its SETTINGS


def test_a_client_goaway_closes_the_connection(server: LiveServer) -> None:
    client = H2Client(server.port)
    try:
        client.conn.close_connection()
        client.flush()
        client.sock.settimeout(10)
        while client.sock.recv(65536):  # raw: our h2 state machine is closed already
            pass
    finally:
        client.close()


@pytest.fixture
def stoppable() -> LiveServer:
    return start_server()


def test_a_dropped_connection_leaves_no_task_behind(stoppable: LiveServer) -> None:
    client = H2Client(stoppable.port)
    stream_id = client.start(REST, JSON_AUTH)
    client.send(stream_id, b'{"waiting": ', end_stream=False)  # the app waits for the rest
    time.sleep(0.3)
    client.sock.shutdown(socket.SHUT_RDWR)
    client.close()
    time.sleep(0.3)
    started = time.monotonic()
    stoppable.process.send_signal(signal.SIGINT)
    try:
        stoppable.process.wait(10)  # uvicorn waits for every task: a leaked one would hang it
    except subprocess.TimeoutExpired:
        pytest.fail("the server did not stop: a request task outlived its connection")
    finally:
        stoppable.stop()
    assert time.monotonic() - started < 10


def test_a_graceful_stop_sends_goaway(stoppable: LiveServer) -> None:
    client = H2Client(stoppable.port)
    try:
        assert client.request(REST, JSON_AUTH, b"{}").status == 200
        stoppable.process.send_signal(signal.SIGINT)
        client.read_until_closed()
    finally:
        client.close()
        stoppable.stop()
    assert client.goaway is not None
    assert client.goaway.error_code == ErrorCodes.NO_ERROR


def test_a_malformed_header_resets_its_stream_and_spares_the_connection(server: LiveServer) -> None:
    client = H2Client(server.port)
    client.conn.config.validate_outbound_headers = False
    client.conn.config.normalize_outbound_headers = False
    try:
        bad = client.start(REST, {**JSON_AUTH, "Connection": "keep-alive"}, end_stream=True)
        refused = client.wait(bad)
        answer = client.request(REST, JSON_AUTH, b"{}")
    finally:
        client.close()
    assert refused.reset == ErrorCodes.PROTOCOL_ERROR
    assert answer.status == 200


def test_white_space_around_a_header_value_is_kept_as_grpc_go_keeps_it(server: LiveServer) -> None:
    # Go's HTTP/2 server passes " Bearer  x " on; ZITADEL splits it at "Bearer ", finds the token
    # " x " and refuses it as unknown (row 3), and the connection serves the next call.
    pairs = [("authorization", " Bearer  x ")]
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        refused = call_grpc(channel, PORTAL, WEB, pairs=pairs)
        accepted = call_grpc(channel, PORTAL, WEB, pairs=metadata("admin-pat"))
    assert (refused.code, refused.message) == (16, "Errors.Token.Invalid (AUTH-7fs1e)")
    assert accepted.code == 0


def test_a_malformed_header_block_sent_again_is_refused_again(server: LiveServer) -> None:
    # The connection keeps what a header block said for the next request with the same block;
    # a refused block is not kept.
    client = H2Client(server.port)
    client.conn.config.validate_outbound_headers = False
    client.conn.config.normalize_outbound_headers = False
    try:
        first = client.wait(client.start(REST, {**JSON_AUTH, "te": "gzip"}, end_stream=True))
        again = client.wait(client.start(REST, {**JSON_AUTH, "te": "gzip"}, end_stream=True))
    finally:
        client.close()
    assert first.reset == again.reset == ErrorCodes.PROTOCOL_ERROR


def test_the_same_header_block_twice_gets_two_answers_of_its_own(server: LiveServer) -> None:
    client = H2Client(server.port)
    try:
        answers = [client.request(REST, JSON_AUTH, b"{}") for _ in range(2)]
    finally:
        client.close()
    sequences = [int(json.loads(a.data)["details"]["sequence"]) for a in answers]
    assert sequences[1] == sequences[0] + 1
