"""The in-process HTTP/2 harness's client and check (bench/studies/h2_inprocess.py): the calls it
feeds are the bytes a fresh HPACK encoder gives for each, and its count of good answers, which
reuses what an indexed-only block decoded to, is the count a full decode of every block gives."""

from __future__ import annotations

from typing import Any

import hpack
import pytest
import uvloop
from hyperframe.frame import DataFrame, HeadersFrame, WindowUpdateFrame
from uvicorn.config import Config
from uvicorn.server import ServerState

from bench.studies import h2_inprocess
from zitadel_mock.server.h2_protocol import H2Protocol

CALLS = 300


def encoded_each_time(calls: int) -> bytes:
    """The calls as the harness's client made them before it kept the steady header block:
    every block from the encoder, every frame from hyperframe."""
    client = h2_inprocess.Client()
    encoder = hpack.Encoder()
    out = b""
    for number in range(calls):
        sid = 1 + 2 * number
        headers = HeadersFrame(sid, data=encoder.encode(client.headers))
        headers.flags.add("END_HEADERS")
        data = DataFrame(sid, data=client.body)
        data.flags.add("END_STREAM")
        out += headers.serialize() + data.serialize()
        if sid % 200 == 1:
            out += WindowUpdateFrame(0, window_increment=1 << 20).serialize()
    return out


def test_the_client_sends_what_the_encoder_gives_for_every_call() -> None:
    client = h2_inprocess.Client()
    assert b"".join(client.call() for _ in range(CALLS)) == encoded_each_time(CALLS)
    assert client.steady_block is not None  # the shortcut was taken


def fully_decoded_ok(written: bytes) -> int:
    decoder = hpack.Decoder()
    count, view = 0, memoryview(written)
    while len(view) >= 9:
        length = int.from_bytes(view[:3], "big")
        kind, payload = view[3], bytes(view[9 : 9 + length])
        view = view[9 + length :]
        if kind == 0x1:
            fields = decoder.decode(payload, raw=True)
            count += any(name == b"grpc-status" and value == b"0" for name, value in fields)
    return count


def failing_every(nth: int) -> Any:
    """An app answering like the harness's no-work app, with grpc-status 13 on every nth call
    (and a new header name then, so that the HPACK table moves mid-run)."""
    calls = 0

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal calls
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        calls += 1
        failed = calls % nth == 0
        headers = [(b"content-type", b"application/grpc")]
        if failed:
            headers.append((b"x-call-%d" % calls, b"failed"))
        await send(
            {"type": "http.response.start", "status": 200, "headers": headers, "trailers": True}
        )
        await send({"type": "http.response.body", "body": b"\x00\x00\x00\x00\x00"})
        status = b"13" if failed else b"0"
        await send({"type": "http.response.trailers", "headers": [(b"grpc-status", status)]})

    return app


def served(app: Any, calls: int) -> bytes:
    async def run() -> bytes:
        config = Config(app=app, lifespan="off", proxy_headers=False, access_log=False)
        config.load()
        transport = h2_inprocess.Transport()
        protocol = H2Protocol(config, ServerState(), {})
        protocol.connection_made(transport)  # type: ignore[arg-type]
        client = h2_inprocess.Client()
        protocol.data_received(client.preface())
        await h2_inprocess.drive(protocol, h2_inprocess.batches(client, calls, 1))
        protocol.stop_idle_timer()
        return b"".join(transport.out)

    return uvloop.run(run())


@pytest.mark.parametrize(("app", "good"), [(h2_inprocess.bare, CALLS), (failing_every(7), 258)])
def test_the_check_counts_what_a_full_decode_counts(app: Any, good: int) -> None:
    written = served(app, CALLS)
    assert fully_decoded_ok(written) == good
    assert h2_inprocess.ok_answers(written) == good
