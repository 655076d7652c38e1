"""Server CPU per native gRPC call through our HTTP/2 connection, in one process, no socket.

    .venv/bin/python -m bench.studies.h2_inprocess                   # this checkout
    .venv/bin/python -m bench.studies.h2_inprocess --against DIR     # and DIR, alternating

The connection (:class:`zitadel_mock.server.h2_protocol.H2Protocol`) is given a transport that
only collects what it writes, and fed the bytes h2load sends for the bench's gRPC case (one
HPACK encoder for the connection, as a client keeps it): HEADERS then DATA with END_STREAM, a
WINDOW_UPDATE for the connection every so often. Each call's answer is checked (one
``grpc-status: 0`` per call, read back with our own HPACK decoder). Two apps: ``mock``, the
app as ``zitadel-mock serve`` builds it (demo fixtures, journal on), and ``bare``, an ASGI app
that answers the same frames and trailers with no work, so that its figure is the HTTP/2
layer alone. Two layouts: ``1x1`` (one call in flight, as each of the bench's 32 connections
has) and ``1x32`` (32 calls fed at once, as each of 4 connections x 32 streams). The process's
CPU time per call, median of the rounds, in µs; uvloop's loop, as served.

What it leaves out: the kernel's side of the socket and uvloop's reads and writes (the same for
every change of the HTTP/2 layer), which ``bench.studies.server_ab`` includes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import hpack
import uvloop
from hyperframe.frame import DataFrame, Frame, HeadersFrame, SettingsFrame, WindowUpdateFrame
from uvicorn.config import Config
from uvicorn.server import ServerState

from zitadel_mock.app import Settings, build_app
from zitadel_mock.server.h2_protocol import H2Protocol

PORTAL = "319487650192752641"
WEB = "319487671630840321"
GRPC_METHOD = "/zitadel.management.v1.ManagementService/RegenerateOIDCClientSecret"
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def grpc_message() -> bytes:
    message = b""
    for number, value in ((1, PORTAL), (2, WEB)):
        data = value.encode()
        message += bytes([number << 3 | 2, len(data)]) + data
    return b"\x00" + struct.pack(">I", len(message)) + message


class Transport:
    """What :class:`H2Protocol` needs of an asyncio transport; keeps what is written."""

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.out.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def can_write_eof(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 40000)}.get(
            name, default
        )


class Client:
    """The bytes of gRPC calls as h2load writes them, stream after stream."""

    def __init__(self) -> None:
        self.encoder = hpack.Encoder()
        self.stream_id = 1
        self.headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":authority", "127.0.0.1:8080"),
            (":path", GRPC_METHOD),
            ("user-agent", "h2load nghttp2/1.64.0"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("authorization", "Bearer admin-pat"),
            ("content-length", str(len(grpc_message()))),
        ]
        self.body = grpc_message()

    def preface(self) -> bytes:
        ack = SettingsFrame(0)
        ack.flags.add("ACK")
        return PREFACE + SettingsFrame(0).serialize() + ack.serialize()

    def call(self) -> bytes:
        sid, self.stream_id = self.stream_id, self.stream_id + 2
        headers = HeadersFrame(sid, data=self.encoder.encode(self.headers))
        headers.flags.add("END_HEADERS")
        data = DataFrame(sid, data=self.body)
        data.flags.add("END_STREAM")
        out = headers.serialize() + data.serialize()
        if sid % 200 == 1:  # the client gives the connection's window back now and then
            out += WindowUpdateFrame(0, window_increment=1 << 20).serialize()
        return out


def ok_answers(written: bytes) -> int:
    """How many HEADERS blocks in ``written`` carry ``grpc-status: 0``."""
    decoder = hpack.Decoder()
    count = 0
    view = memoryview(written)
    while len(view) >= 9:
        frame, length = Frame.parse_frame_header(view[:9])
        frame.parse_body(view[9 : 9 + length])
        view = view[9 + length :]
        if isinstance(frame, HeadersFrame):
            for name, value in decoder.decode(frame.data, raw=True):
                if name == b"grpc-status" and value == b"0":
                    count += 1
    return count


async def bare(scope: Any, receive: Any, send: Any) -> None:
    """Reads the request and answers as the mock's gRPC success does, with no work between."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/grpc")],
            "trailers": True,
        }
    )
    await send({"type": "http.response.body", "body": b"\x00\x00\x00\x00\x20" + b"x" * 32})
    await send({"type": "http.response.trailers", "headers": [(b"grpc-status", b"0")]})


def build(app_kind: str) -> Any:
    if app_kind == "bare":
        return bare
    return build_app(Settings())


def batches(client: Client, n: int, in_flight: int) -> list[bytes]:
    """The bytes of ``n`` calls, ``in_flight`` calls to a read (made before the clock starts)."""
    out = []
    for start in range(0, n, in_flight):
        out.append(b"".join(client.call() for _ in range(min(in_flight, n - start))))
    return out


async def drive(protocol: Any, reads: list[bytes]) -> None:
    """Each read fed to the connection, and its calls run to their end before the next (waiting
    on the connection's last ``finish``, not spinning: a call may wait on a timer)."""
    finish = protocol.finish
    idle = asyncio.Event()

    def finished(stream: Any) -> None:
        finish(stream)
        if not protocol.streams:
            idle.set()

    protocol.finish = finished
    for data in reads:
        idle.clear()
        protocol.data_received(data)
        await idle.wait()
        while protocol.flush_scheduled:
            await asyncio.sleep(0)
    protocol.finish = finish


async def measure(app_kind: str, layout: str, n: int, rounds: int) -> float:
    config = Config(app=build(app_kind), lifespan="off", proxy_headers=False, access_log=False)
    config.load()
    gc.collect()
    gc.freeze()  # as a serving process does once the app is built (serving.freeze_start_up)
    in_flight = int(layout.split("x")[1])
    per_round = []
    for warm in (True, *([False] * rounds)):
        transport = Transport()
        protocol = H2Protocol(config, ServerState(), {})
        protocol.connection_made(transport)  # type: ignore[arg-type]
        client = Client()
        protocol.data_received(client.preface())
        count = max(n // 4, 64) if warm else n
        reads = batches(client, count, in_flight)
        gc.collect()
        started = time.process_time()
        await drive(protocol, reads)
        elapsed = time.process_time() - started
        protocol.stop_idle_timer()
        if ok_answers(b"".join(transport.out)) != count:
            raise SystemExit(f"{app_kind} {layout}: not every call answered grpc-status 0")
        if not warm:
            per_round.append(elapsed / count)
    return statistics.median(per_round) * 1e6


CASES = [(app, layout) for app in ("bare", "mock") for layout in ("1x1", "1x32")]


def run_here(n: int, rounds: int) -> dict[str, float]:
    results = {}
    for app_kind, layout in CASES:
        results[f"{app_kind} {layout}"] = uvloop.run(measure(app_kind, layout, n, rounds))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="alternating runs with --against")
    parser.add_argument("--against", type=Path, action="append", default=[])
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json or not args.against:
        results = run_here(args.n, args.rounds)
        if args.json:
            print(json.dumps(results))
        else:
            for name, value in results.items():
                print(f"{name}: {value:.1f} µs")
        return
    here = Path(__file__).resolve()
    columns: dict[str, list[dict[str, float]]] = {}
    for _ in range(args.runs):
        for checkout in [*args.against, None]:
            python = sys.executable if checkout is None else str(checkout / ".venv/bin/python")
            cwd = str(checkout) if checkout is not None else str(here.parents[2])
            argv = [python, str(here), "--json", "-n", str(args.n), "--rounds", str(args.rounds)]
            out = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd)
            if out.returncode != 0:
                raise SystemExit(f"{checkout or 'this checkout'}: {out.stderr.strip()[-2000:]}")
            columns.setdefault(str(checkout or "this checkout"), []).append(json.loads(out.stdout))
    names = list(columns)
    print("| case | " + " | ".join(names) + " |")
    print("| --- |" + " ---: |" * len(names))
    for app_kind, layout in CASES:
        key = f"{app_kind} {layout}"
        cells = [f"{statistics.median(r[key] for r in columns[c]):.1f}" for c in names]
        print(f"| {key} | " + " | ".join(cells) + " |")
    print(f"\nCPU µs per call, median of {args.rounds} rounds, median of {args.runs} runs each.")


if __name__ == "__main__":
    main()
