"""Server CPU per native gRPC call through our HTTP/2 connection, in one process, no socket.

    .venv/bin/python -m bench.studies.h2_inprocess                   # this checkout
    .venv/bin/python -m bench.studies.h2_inprocess --against DIR     # and DIR, alternating

The connection (:class:`zitadel_mock.server.h2_protocol.H2Protocol`) is given a transport that
only collects what it writes, and fed the bytes h2load sends for the bench's gRPC case (one
HPACK encoder for the connection, as a client keeps it): HEADERS then DATA with END_STREAM, a
WINDOW_UPDATE for the connection every so often. Each call's answer is checked (one
``grpc-status: 0`` per call, read back with hpack's decoder). The client's own work is kept
small, since ``bench.studies.instructions`` counts every instruction of the process: once the
encoder gives a block of indexed fields only (from the second call on), that block is every
call's, and an answer block of indexed fields only is decoded once while the table stands
still (``tests/bench/test_h2_inprocess.py`` holds both to the full coding). That client costs
about 32,000 instructions a call; coding every block with hpack and every frame with hyperframe
cost 405,000. Two apps:
``mock``, the app as ``zitadel-mock serve`` builds it (demo fixtures, journal on), and
``bare``, an ASGI app that answers the same frames and trailers with no work, so that its
figure is the HTTP/2 layer alone. Two layouts: ``1x1`` (one call in flight, as each of the
bench's 32 connections has) and ``1x32`` (32 calls fed at once, as each of 4 connections x 32
streams). The process's CPU time per call, median of the rounds, in µs; uvloop's loop, as served.

What it leaves out: the kernel's side of the socket and uvloop's reads and writes (the same for
every change of the HTTP/2 layer), which ``bench.studies.server_ab`` includes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import hpack
import uvloop
from hyperframe.frame import SettingsFrame, WindowUpdateFrame
from uvicorn.config import Config
from uvicorn.server import ServerState

from bench.cases import GRPC_METHOD, grpc_message
from bench.load.grpc_paced import (
    END_HEADERS,
    END_STREAM,
    PADDED,
    PREFACE,
    PRIORITY,
    Frame,
    frame,
)
from zitadel_mock.app import Settings, build_app
from zitadel_mock.server.h2_protocol import H2Protocol


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
        # The header block once it is indexed fields only: the encoder gives it for every call.
        self.steady_block: bytes | None = None

    def preface(self) -> bytes:
        ack = SettingsFrame(0)
        ack.flags.add("ACK")
        return PREFACE + SettingsFrame(0).serialize() + ack.serialize()

    def call(self) -> bytes:
        sid, self.stream_id = self.stream_id, self.stream_id + 2
        block = self.steady_block
        if block is None:
            block = self.encoder.encode(self.headers)
            if indexed_only(block):  # the encoder's table is left as it was: so from now on
                self.steady_block = block
        out = frame(Frame.HEADERS, END_HEADERS, sid, block)
        out += frame(Frame.DATA, END_STREAM, sid, self.body)
        if sid % 200 == 1:  # the client gives the connection's window back now and then
            out += WindowUpdateFrame(0, window_increment=1 << 20).serialize()
        return out


def indexed_only(block: bytes) -> bool:
    """Whether an HPACK block is only indexed fields of one byte each (RFC 7541 section 6.1):
    decoding or encoding it leaves the dynamic table as it was."""
    return all(byte >= 0x80 and byte != 0xFF for byte in block)


def ok_answers(written: bytes) -> int:
    """How many HEADERS blocks in ``written`` carry ``grpc-status: 0``, every block decoded in
    order by one HPACK decoder. A block of indexed fields only (the rule for each answer once
    the table holds its fields) changes no table, so what it decoded to is kept and reused
    until a block that may change the table comes: the same result, without hpack's Python
    decoding of each block again (which cost more instructions than the server's HTTP/2 layer)."""
    decoder = hpack.Decoder()
    known: dict[bytes, bool] = {}
    count = 0
    at, end = 0, len(written)
    while end - at >= 9:
        length = int.from_bytes(written[at : at + 3], "big")
        kind, flags = written[at + 3], written[at + 4]
        payload = written[at + 9 : at + 9 + length]
        at += 9 + length
        if kind == Frame.CONTINUATION or (kind == Frame.HEADERS and flags & (PADDED | PRIORITY)):
            raise SystemExit("a header block in CONTINUATION, padded or prioritised: not read here")
        if kind != Frame.HEADERS:
            continue
        ok = known.get(payload)
        if ok is None:
            fields = decoder.decode(payload, raw=True)
            ok = any(name == b"grpc-status" and value == b"0" for name, value in fields)
            if indexed_only(payload):
                known[payload] = ok
            else:
                known.clear()
        count += ok
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
        count = warm_up_calls(n) if warm else n
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


def warm_up_calls(n: int) -> int:
    """The calls of a case's warm-up connection before its rounds of ``n``."""
    return max(n // 4, 64)


CASES = [(app, layout) for app in ("bare", "mock") for layout in ("1x1", "1x32")]


def run_here(n: int, rounds: int, only: list[str] | None = None) -> dict[str, float]:
    results = {}
    for app_kind, layout in CASES:
        name = f"{app_kind} {layout}"
        if not only or name in only:
            results[name] = uvloop.run(measure(app_kind, layout, n, rounds))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="alternating runs with --against")
    parser.add_argument("--against", type=Path, action="append", default=[])
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--case",
        action="append",
        choices=[f"{app} {layout}" for app, layout in CASES],
        help="only these cases (without --against)",
    )
    args = parser.parse_args()
    if args.json or not args.against:
        results = run_here(args.n, args.rounds, args.case)
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
            # This checkout's harness and its bench package, the other checkout's mock.
            env = {**os.environ, "PYTHONPATH": str(here.parents[2])}
            out = subprocess.run(
                argv, capture_output=True, text=True, check=False, cwd=cwd, env=env
            )
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
