"""Bad input over gRPC and gRPC-web always gets a gRPC status, as grpc-go gives it; never a hang."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator

import grpc
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PORTAL, WEB, LiveServer, fuzz_examples, raw_request, start_server
from tests.support.h2client import Answer, H2Client
from zitadel_proto.client import parse_grpc_web, request_bytes
from zitadel_proto.wire import METHOD_PATH, decode_grpc_message, encode_frame

GOOD = request_bytes(PORTAL, WEB)
AUTH = {"authorization": "Bearer admin-pat"}


@pytest.fixture(scope="module")
def mock() -> Iterator[LiveServer]:
    """A server of this module's own, whose log must show no traceback at the end."""
    live = start_server()
    yield live
    log = live.stderr()
    live.stop()
    assert "Traceback" not in log, log


def native(
    server: LiveServer,
    body: bytes,
    headers: dict[str, str] | None = None,
    path: str = METHOD_PATH,
    method: str = "POST",
) -> Answer:
    client = H2Client(server.port)
    try:
        stream_id = client.start(
            path, {"content-type": "application/grpc", "te": "trailers", **(headers or {})}, method
        )
        client.send(stream_id, body)
        return client.wait(stream_id)
    finally:
        client.close()


def status(answer: Answer) -> tuple[int, int, str]:
    """(HTTP status, grpc-status, grpc-message) of a trailers-only answer."""
    assert answer.ended, answer
    assert answer.data == b"", "an error carries no message"
    assert answer.trailers == [], "an error is trailers-only"
    code = answer.header("grpc-status")
    assert code is not None, answer.headers
    return answer.status, int(code), decode_grpc_message(answer.header("grpc-message") or "")


@pytest.mark.parametrize(
    ("body", "headers", "code", "message"),
    [
        (
            encode_frame(GOOD)[:-3],
            {},
            13,
            f"unexpected EOF: the request ended inside a gRPC message "
            f"({len(GOOD)} bytes announced, {len(GOOD) - 3} received)",
        ),
        (
            b"\x00\x00\x00",
            {},
            13,
            "unexpected EOF: the request ended inside a gRPC message "
            "(a 5-byte prefix expected, 3 received)",
        ),
        (
            b"\x00\x00\x00\x00\x02" + GOOD,
            {},
            13,
            "cardinality violation: received multiple request messages for "
            "non-client-streaming RPC",
        ),
        (
            encode_frame(GOOD) * 2,
            {},
            13,
            "cardinality violation: received multiple request messages for "
            "non-client-streaming RPC",
        ),
        (
            b"",
            {},
            13,
            "cardinality violation: received no request message from non-client-streaming RPC",
        ),
        (
            encode_frame(GOOD, flags=1),
            {},
            13,
            "grpc: compressed flag set with identity or empty encoding",
        ),
        (
            encode_frame(GOOD, flags=1),
            {"grpc-encoding": "identity"},
            13,
            "grpc: compressed flag set with identity or empty encoding",
        ),
        (
            encode_frame(GOOD, flags=1),
            {"grpc-encoding": "snappy"},
            12,
            'grpc: Decompressor is not installed for grpc-encoding "snappy"',
        ),
        (encode_frame(GOOD, flags=2), {}, 13, "grpc: received unexpected payload format 2"),
        (
            encode_frame(b"\xff\xff\xff\xff"),
            {},
            13,
            "grpc: error unmarshalling request: proto: cannot parse invalid wire-format data",
        ),
        (
            encode_frame(b"\x0a\x02\xc3\x28"),  # project_id that is not UTF-8
            {},
            13,
            "grpc: error unmarshalling request: proto: cannot parse invalid wire-format data",
        ),
    ],
    ids=[
        "truncated-message",
        "truncated-prefix",
        "prefix-shorter-than-message",
        "two-messages",
        "empty-body",
        "compressed-without-encoding",
        "compressed-with-identity",
        "unknown-encoding",
        "unknown-payload-format",
        "garbage-protobuf",
        "invalid-utf8-string",
    ],
)
def test_bad_frames_get_grpc_gos_status(
    mock: LiveServer, body: bytes, headers: dict[str, str], code: int, message: str
) -> None:
    assert status(native(mock, body, {**AUTH, **headers})) == (200, code, message)


def test_gzip_compressed_requests_are_accepted(mock: LiveServer) -> None:
    answer = native(mock, encode_frame(gzip.compress(GOOD), 1), {**AUTH, "grpc-encoding": "gzip"})
    assert answer.header("grpc-status") == "0"
    assert len(answer.data) > 64


def test_a_gzip_frame_that_is_not_gzip_is_internal(mock: LiveServer) -> None:
    answer = native(mock, encode_frame(b"not gzip", 1), {**AUTH, "grpc-encoding": "gzip"})
    http, code, message = status(answer)
    assert (http, code) == (200, 13)
    assert message.startswith("grpc: failed to decompress the received message: ")


def test_grpcio_with_gzip_compression_rotates(mock: LiveServer) -> None:
    with grpc.insecure_channel(
        f"127.0.0.1:{mock.port}", compression=grpc.Compression.Gzip
    ) as channel:
        stub: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(METHOD_PATH)
        raw = stub(GOOD, metadata=(("authorization", "Bearer admin-pat"),), timeout=10)
    assert len(raw) > 64


def test_a_message_over_4_mib_is_refused_from_its_prefix_alone(mock: LiveServer) -> None:
    client = H2Client(mock.port)
    try:
        stream_id = client.start(METHOD_PATH, {"content-type": "application/grpc", **AUTH})
        client.send(stream_id, b"\x00" + (5 * 1024 * 1024).to_bytes(4, "big"), end_stream=False)
        answer = client.wait(stream_id)  # answered although the stream is still open
    finally:
        client.close()
    assert status(answer) == (
        200,
        8,
        "grpc: received message larger than max (5242880 vs. 4194304)",
    )
    assert answer.reset == 0  # then RST_STREAM(NO_ERROR): the client may stop uploading


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/nothing", 12, 'malformed method name: "/nothing"'),
        (
            "/zitadel.management.v1.ManagementService/",
            12,
            "unknown method  for service zitadel.management.v1.ManagementService",
        ),
        ("/grpc.health.v1.Health/Check", 12, "unknown service grpc.health.v1.Health"),
    ],
)
def test_unknown_methods_are_unimplemented(
    mock: LiveServer, path: str, code: int, message: str
) -> None:
    assert status(native(mock, encode_frame(GOOD), AUTH, path=path)) == (200, code, message)


def test_a_get_is_refused_before_any_grpc_response(mock: LiveServer) -> None:
    answer = native(mock, b"", AUTH, method="GET")
    assert status(answer) == (405, 13, "invalid gRPC request method GET")


def test_a_malformed_timeout_is_refused(mock: LiveServer) -> None:
    answer = native(mock, encode_frame(GOOD), {**AUTH, "grpc-timeout": "soon"})
    assert status(answer) == (400, 13, "malformed grpc-timeout: soon")


def test_a_well_formed_timeout_is_accepted(mock: LiveServer) -> None:
    answer = native(mock, encode_frame(GOOD), {**AUTH, "grpc-timeout": "10S"})
    assert answer.header("grpc-status") == "0"


def test_grpc_over_http_1_1_gets_a_grpc_status(mock: LiveServer) -> None:
    body = encode_frame(GOOD)
    request = (
        f"POST {METHOD_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc\r\n"
        f"Authorization: Bearer admin-pat\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    head = raw_request(mock.port, request).partition(b"\r\n\r\n")[0].decode().lower()
    assert head.startswith("http/1.1 400")
    assert "grpc-status: 13" in head
    assert "grpc-message: grpc requires http/2" in head


def web(server: LiveServer, body: bytes, content_type: str) -> httpx.Response:
    headers = {"content-type": content_type, **AUTH}
    return httpx.post(server.url + METHOD_PATH, content=body, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("body", "content_type", "code", "fragment"),
    [
        (b"!!not base64!!", "application/grpc-web-text", 13, "not base64"),
        (base64.b64encode(encode_frame(GOOD))[:-4], "application/grpc-web-text", 13, "EOF"),
        (encode_frame(GOOD)[:-1], "application/grpc-web+proto", 13, "unexpected EOF"),
        (encode_frame(b"\xff\xff"), "application/grpc-web", 13, "unmarshalling"),
        (b"", "application/grpc-web", 13, "no request message"),
    ],
)
def test_bad_grpc_web_bodies_get_a_status_in_the_trailer_frame(
    mock: LiveServer, body: bytes, content_type: str, code: int, fragment: str
) -> None:
    response = web(mock, body, content_type)
    assert response.status_code == 200
    outcome = parse_grpc_web(response)
    assert outcome.code == code
    assert fragment in outcome.message


def test_grpc_web_text_accepts_several_padded_base64_chunks(mock: LiveServer) -> None:
    frame = encode_frame(GOOD)
    first = base64.b64encode(frame[:7])
    assert first.endswith(b"==")  # padding in the middle of the body
    body = first + base64.b64encode(frame[7:])
    outcome = parse_grpc_web(web(mock, body, "application/grpc-web-text"))
    assert outcome.code == 0


@pytest.mark.fuzz
@settings(
    max_examples=fuzz_examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.one_of(st.binary(max_size=64), st.builds(encode_frame, st.binary(max_size=48))),
    content_type=st.sampled_from(
        ["application/grpc-web", "application/grpc-web+proto", "application/grpc-web-text"]
    ),
)
def test_any_grpc_web_body_gets_a_grpc_status(
    mock: LiveServer, body: bytes, content_type: str
) -> None:
    response = web(mock, body, content_type)
    assert response.status_code == 200
    assert 0 <= parse_grpc_web(response).code <= 16
