"""The paced gRPC generator counts what the mock really answered, over real HTTP/2 (no timing
is asserted): every scheduled call is sent once, a rotation is committed for each success, and
a call the server refuses in its trailers is not counted as good."""

from __future__ import annotations

import asyncio
import struct
from collections import Counter

import hpack
import pytest

from bench import cases
from bench.load import grpc_paced
from bench.load.grpc_paced import END_HEADERS, END_STREAM, PADDED, Frame, GrpcConnection, frame
from bench.load.loadgen import Request
from tests.conftest import LiveServer

RATE = 150
SECONDS = 1.0


def sequence(server: LiveServer) -> int:
    answer = server.rotate(cases.PORTAL, cases.WEB)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["details"]["sequence"])


@pytest.mark.parametrize(("connections", "streams"), [(4, 1), (1, 8)])
def test_every_scheduled_call_is_one_committed_rotation(
    fresh_server: LiveServer, connections: int, streams: int
) -> None:
    before = sequence(fresh_server)
    result = grpc_paced.run_paced(
        "127.0.0.1",
        fresh_server.port,
        cases.GRPC.request,
        rate=RATE,
        connections=connections,
        streams=streams,
        duration=SECONDS,
    )
    after = sequence(fresh_server)
    calls = int(RATE * SECONDS)
    assert result.scheduled == calls
    assert result.errors == 0
    assert result.statuses == Counter({200: calls})
    assert result.marked == calls
    assert len(result.latencies) == calls
    assert after - before == calls + 1  # the probe after is a rotation of its own


def test_a_call_refused_in_its_trailers_is_answered_but_not_good(server: LiveServer) -> None:
    anonymous = Request(
        "POST",
        cases.GRPC_METHOD,
        tuple((k, v) for k, v in cases.GRPC_HEADERS if k != "authorization"),
        cases.grpc_message(),
    )
    result = grpc_paced.run_paced(
        "127.0.0.1", server.port, anonymous, rate=100, connections=2, duration=0.5
    )
    assert result.errors == 0
    assert result.statuses == Counter({200: 50})  # gRPC's errors travel with HTTP 200
    assert result.marked == 0


def test_load_goes_only_to_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        grpc_paced.run_paced(
            "192.0.2.1", 80, cases.GRPC.request, rate=1, connections=1, duration=0.1
        )


class Wire(asyncio.Transport):
    """What the connection writes, kept; nothing is sent anywhere."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sent += data

    def close(self) -> None:
        pass


def test_frames_split_anywhere_padded_and_continued_are_read() -> None:
    """Padding, a header block in CONTINUATION frames and a PING, fed one byte at a time: the
    paths the mock's own answers do not take."""

    async def scenario() -> tuple[tuple[int | None, bytes | None], bytes]:
        first, steady = grpc_paced.header_blocks("127.0.0.1", 1, cases.GRPC.request)
        conn = GrpcConnection(first, steady, b"\x00\x00\x00\x00\x00")
        wire = Wire()
        conn.connection_made(wire)
        conn.data_received(frame(Frame.SETTINGS, 0, 0, struct.pack(">HI", 0x3, 8)))
        await conn.settled
        pending = asyncio.ensure_future(conn.call())
        await asyncio.sleep(0)
        encoder = hpack.Encoder()
        head = encoder.encode([(":status", "200"), ("content-type", "application/grpc")])
        trailers = encoder.encode([("grpc-status", "0"), ("grpc-message", "")])
        stream = (
            frame(Frame.PING, 0, 0, b"12345678")
            + frame(Frame.HEADERS, PADDED, 1, bytes([3]) + head[:2] + b"\x00\x00\x00")
            + frame(Frame.CONTINUATION, END_HEADERS, 1, head[2:])
            + frame(Frame.DATA, 0, 1, b"\x00\x00\x00\x00\x00")
            + frame(Frame.HEADERS, END_HEADERS | END_STREAM, 1, trailers)
        )
        for i in range(len(stream)):
            conn.data_received(stream[i : i + 1])
        return await pending, bytes(wire.sent)

    answer, sent = asyncio.run(scenario())
    assert answer == (200, b"0")
    assert frame(Frame.PING, 0x1, 0, b"12345678") in sent  # PING acknowledged
    assert frame(Frame.SETTINGS, 0x1, 0) in sent  # SETTINGS acknowledged
