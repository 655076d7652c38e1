"""Open-loop gRPC load: the paced schedule of :mod:`bench.load.loadgen` on HTTP/2 streams.

h2load, the closed-loop tool of the gRPC rows, has no request rate (its ``--rate`` paces new
connections), so the half-load pass of a gRPC row is made here: ``connections`` cleartext
HTTP/2 connections, each with ``streams`` lanes, every lane one call at a time, with the
schedule and latency accounting of the HTTP/1.1 rows. A call counts as good
(``Result.marked``) only if it ended with ``grpc-status: 0``, since a gRPC error travels with
HTTP 200. Only loopback targets are accepted.

Header blocks go through ``hpack`` (the HPACK codec of Python's HTTP/2 field, the one ``h2``
uses), encoded with indexing as clients do: the first call of a connection adds its fields to
the server's table and every later call is the same few indexed bytes. The frame layer is
written here, not taken from ``h2``'s connection: on the same calls ``h2`` costs the client
about 450 µs of CPU each (its stream state machine, header validation and re-encoding), more
than the mock spends answering, so on 2 cores the generator would take the core the server
needs; this one costs about as much as the HTTP/1.1 generator. It speaks what a unary call
needs: SETTINGS and PING acknowledged, flow control honoured both ways (the server's window
for request bodies is kept, its stream limit checked), CONTINUATION, padding, RST_STREAM and
GOAWAY.
"""

from __future__ import annotations

import asyncio
import enum
import struct
from typing import Final, cast

import hpack

from bench.load.loadgen import (
    RESPONSE_TIMEOUT_S,
    Request,
    Result,
    check_target,
    new_loop,
    paced_schedule,
)

PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class Frame(enum.IntEnum):
    """HTTP/2 frame types this client reads or writes (RFC 9113, section 6)."""

    DATA = 0x0
    HEADERS = 0x1
    RST_STREAM = 0x3
    SETTINGS = 0x4
    PING = 0x6
    GOAWAY = 0x7
    WINDOW_UPDATE = 0x8
    CONTINUATION = 0x9


END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20  # frame flags
SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_INITIAL_WINDOW_SIZE = 0x3, 0x4
DEFAULT_WINDOW: Final = 65_535
RECEIVE_WINDOW: Final = (1 << 31) - 1  # announced once: the client never makes the server wait
_HEAD: Final = struct.Struct(">I B I")  # length << 8 | type, flags, stream id (frame header)


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return (
        struct.pack(">I", len(payload))[1:]
        + bytes((kind, flags))
        + struct.pack(">I", stream)
        + payload
    )


class _Call:
    __slots__ = ("block", "done", "grpc_status", "http_status")

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.block = b""  # header block fragments until END_HEADERS
        self.http_status: int | None = None
        self.grpc_status: bytes | None = None


class GrpcConnection(asyncio.Protocol):
    """One HTTP/2 connection with any number of unary calls in flight."""

    def __init__(self, first_block: bytes, steady_block: bytes, body: bytes) -> None:
        self.blocks = (first_block, steady_block)
        self.body = body
        self.decoder = hpack.Decoder()
        self.decoded: dict[bytes, list[tuple[bytes, bytes]]] = {}  # see _decode
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.calls: dict[int, _Call] = {}
        self.next_stream = 1
        self.send_window = DEFAULT_WINDOW  # the server's connection window for our DATA
        self.stream_window = DEFAULT_WINDOW  # its window of a new stream
        self.stream_limit: int | None = None
        self.closed = False
        self.problem: str | None = None
        self.settled: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        settings = struct.pack(">HI", SETTINGS_INITIAL_WINDOW_SIZE, RECEIVE_WINDOW)
        grow = struct.pack(">I", RECEIVE_WINDOW - DEFAULT_WINDOW)
        self.transport.write(
            PREFACE + frame(Frame.SETTINGS, 0, 0, settings) + frame(Frame.WINDOW_UPDATE, 0, 0, grow)
        )

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        pos = 0
        while len(buf) - pos >= 9:
            word, flags, stream = _HEAD.unpack_from(buf, pos)
            length, kind, stream = word >> 8, word & 0xFF, stream & 0x7FFF_FFFF
            if len(buf) - pos - 9 < length:
                break
            payload = bytes(buf[pos + 9 : pos + 9 + length])
            pos += 9 + length
            try:
                self._on(kind, flags, stream, payload)
            except (ValueError, struct.error, hpack.HPACKError) as exc:
                self._fail_all(f"cannot read the server's frames: {exc}")
                return
        del buf[:pos]

    def _on(self, kind: int, flags: int, stream: int, payload: bytes) -> None:
        if kind in (Frame.HEADERS, Frame.CONTINUATION):
            call = self.calls.get(stream)
            if kind == Frame.HEADERS:
                payload = _unpad(payload, flags)
                if flags & PRIORITY:
                    payload = payload[5:]
            if call is None:  # a stream we gave up on: its block still changes the table
                if flags & END_HEADERS:
                    self.decoder.decode(payload)
                return
            call.block += payload
            if flags & END_HEADERS:
                for name, value in self._decode(call.block):
                    if name == b":status":
                        call.http_status = int(value)
                    elif name == b"grpc-status":
                        call.grpc_status = value
                call.block = b""
            if flags & END_STREAM:
                self._end(stream, None)
        elif kind == Frame.DATA:
            if flags & END_STREAM:
                self._end(stream, None)
        elif kind == Frame.SETTINGS:
            if not flags & ACK:
                self._settings(payload)
                self._write(frame(Frame.SETTINGS, ACK, 0))
        elif kind == Frame.PING:
            if not flags & ACK:
                self._write(frame(Frame.PING, ACK, 0, payload))
        elif kind == Frame.WINDOW_UPDATE:
            if stream == 0:
                self.send_window += struct.unpack(">I", payload)[0] & 0x7FFF_FFFF
        elif kind == Frame.RST_STREAM:
            self._end(stream, f"the server reset the stream (code {payload.hex()})")
        elif kind == Frame.GOAWAY:
            self._fail_all("the server sent GOAWAY")

    def _decode(self, block: bytes) -> list[tuple[bytes, bytes]]:
        """The block's fields. A block that left the server's table as it was (all indexed, as
        the server's answers are once its table holds their fields) means the same until the
        table changes: it is decoded once, not on every call (half the client's CPU otherwise)."""
        fields = self.decoded.get(block)
        if fields is not None:
            return fields
        table = self.decoder.header_table.dynamic_entries
        newest, size = (table[0] if table else None), len(table)
        fields = cast(list[tuple[bytes, bytes]], self.decoder.decode(block, raw=True))
        if (table[0] if table else None) is newest and len(table) == size:
            self.decoded[block] = fields
        else:
            self.decoded.clear()
        return fields

    def _settings(self, payload: bytes) -> None:
        for offset in range(0, len(payload) - len(payload) % 6, 6):
            key, value = struct.unpack_from(">HI", payload, offset)
            if key == SETTINGS_MAX_CONCURRENT_STREAMS:
                self.stream_limit = value
            elif key == SETTINGS_INITIAL_WINDOW_SIZE:
                self.stream_window = value
        if not self.settled.done():
            self.settled.set_result(None)

    def _end(self, stream: int, problem: str | None) -> None:
        call = self.calls.pop(stream, None)
        if call is not None and not call.done.done():
            if problem is None:
                call.done.set_result(None)
            else:
                call.done.set_exception(ConnectionError(problem))

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_all("the server closed the connection")

    def _fail_all(self, problem: str) -> None:
        self.closed = True
        self.problem = self.problem or problem
        for call in self.calls.values():
            if not call.done.done():
                call.done.set_exception(ConnectionError(problem))
        self.calls.clear()
        if not self.settled.done():
            self.settled.set_exception(ConnectionError(problem))
        if self.transport is not None:
            self.transport.close()

    async def call(self) -> tuple[int | None, bytes | None]:
        """One unary call: its HTTP status and ``grpc-status`` (None where absent)."""
        if self.closed or self.transport is None:
            raise ConnectionError(self.problem or "the connection is closed")
        body = self.body
        if len(body) > min(self.send_window, self.stream_window):
            raise ConnectionError("the server's flow-control window does not admit the request")
        if self.stream_limit is not None and len(self.calls) >= self.stream_limit:
            raise ConnectionError(f"the server allows {self.stream_limit} streams at a time")
        stream = self.next_stream
        self.next_stream += 2
        self.send_window -= len(body)
        call = _Call(asyncio.get_running_loop().create_future())
        self.calls[stream] = call
        block = self.blocks[stream != 1]
        self.transport.write(
            frame(Frame.HEADERS, END_HEADERS, stream, block)
            + frame(Frame.DATA, END_STREAM, stream, body)
        )
        await asyncio.wait_for(call.done, RESPONSE_TIMEOUT_S)
        return call.http_status, call.grpc_status

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.write(frame(Frame.GOAWAY, 0, 0, struct.pack(">II", 0, 0)))
            self.transport.close()


def _unpad(payload: bytes, flags: int) -> bytes:
    if not flags & PADDED:
        return payload
    pad = payload[0]
    if pad >= len(payload):
        raise ValueError("padding longer than the frame")
    return payload[1 : len(payload) - pad]


def header_blocks(host: str, port: int, request: Request) -> tuple[bytes, bytes]:
    """The request's header block for a connection's first call, and for every later one."""
    fields = [
        (":method", request.method),
        (":scheme", "http"),
        (":authority", f"{host}:{port}"),
        (":path", request.path),
        *((name.lower(), value) for name, value in request.headers),
    ]
    encoder = hpack.Encoder()
    first, steady = encoder.encode(fields), encoder.encode(fields)
    if encoder.encode(fields) != steady:  # every field indexed after the first call
        raise ValueError("the request's header block does not settle")
    return first, steady


async def _connect(
    host: str, port: int, blocks: tuple[bytes, bytes], body: bytes
) -> GrpcConnection:
    _, conn = await asyncio.get_running_loop().create_connection(
        lambda: GrpcConnection(*blocks, body), host, port
    )
    await asyncio.wait_for(conn.settled, RESPONSE_TIMEOUT_S)
    return conn


def run_paced(
    host: str,
    port: int,
    request: Request,
    *,
    rate: float,
    connections: int,
    streams: int = 1,
    duration: float,
) -> Result:
    """``rate`` calls per second for ``duration`` seconds on ``connections`` x ``streams``
    lanes; ``request`` holds the call's path, metadata and length-prefixed message."""
    check_target(host)
    blocks = header_blocks(host, port, request)

    async def paced() -> Result:
        pool = [await _connect(host, port, blocks, request.body) for _ in range(connections)]
        good = 0

        async def exchange(lane: int) -> int | None:
            nonlocal good
            index = lane // streams
            try:
                if pool[index].closed:
                    pool[index] = await _connect(host, port, blocks, request.body)
                http_status, grpc_status = await pool[index].call()
            except (OSError, TimeoutError):
                return None
            if http_status is not None and grpc_status == b"0":
                good += 1
            return http_status

        try:
            lanes = connections * streams
            result = await paced_schedule(lanes, exchange, rate=rate, duration=duration)
        finally:
            for conn in pool:
                conn.close()
        result.marked = good
        return result

    loop = new_loop()
    try:
        return loop.run_until_complete(paced())
    finally:
        loop.close()
