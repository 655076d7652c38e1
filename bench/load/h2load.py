"""Native gRPC (HTTP/2 cleartext): a one-call probe over ``h2``, and load from h2load.

h2load sees HTTP statuses only, and a gRPC error travels with HTTP 200 and a ``grpc-status``
trailer; so a gRPC row is trusted only through the probe (which reads the trailer) and the
sequence check the runner does for rotating cases (every counted answer must be a committed
rotation).
"""

from __future__ import annotations

import re
import socket
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from bench.load.loadgen import Summary, percentile


@dataclass(frozen=True, slots=True)
class GrpcAnswer:
    """What one call got: HTTP status, ``grpc-status`` (None if absent), or why there was none."""

    http_status: int | None
    grpc_status: str | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.http_status == 200 and self.grpc_status == "0"


def call(
    port: int, path: str, headers: tuple[tuple[str, str], ...], body: bytes, timeout: float = 5.0
) -> GrpcAnswer:
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
    )
    status: int | None = None
    grpc_status: str | None = None
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            conn.initiate_connection()
            stream = conn.get_next_available_stream_id()
            conn.send_headers(
                stream,
                [
                    (":method", "POST"),
                    (":scheme", "http"),
                    (":authority", f"127.0.0.1:{port}"),
                    (":path", path),
                    *headers,
                ],
            )
            conn.send_data(stream, body, end_stream=True)
            sock.sendall(conn.data_to_send())
            while data := sock.recv(65536):
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.ResponseReceived):
                        fields = _fields(event.headers)
                        status = int(fields[":status"])
                        grpc_status = fields.get("grpc-status", grpc_status)
                    elif isinstance(event, h2.events.TrailersReceived):
                        grpc_status = _fields(event.headers).get("grpc-status", grpc_status)
                    elif isinstance(event, h2.events.DataReceived):
                        conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif isinstance(event, h2.events.StreamEnded | h2.events.StreamReset):
                        return GrpcAnswer(status, grpc_status)
                sock.sendall(conn.data_to_send())
    except (OSError, h2.exceptions.ProtocolError) as exc:
        return GrpcAnswer(status, grpc_status, f"{type(exc).__name__}: {exc}")
    return GrpcAnswer(status, grpc_status, "connection closed before the stream ended")


def _fields(headers: object) -> dict[str, str]:
    """h2's headers as text (they are text already with ``header_encoding``; typed as bytes)."""
    pairs: list[tuple[str | bytes, str | bytes]] = list(headers)  # type: ignore[call-overload]
    return {_text(k): _text(v) for k, v in pairs}


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


_FINISHED = re.compile(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s")


def run_h2load(
    port: int,
    path: str,
    headers: tuple[tuple[str, str], ...],
    body: bytes,
    *,
    connections: int,
    duration: float,
    work_dir: Path,
    streams: int = 1,
) -> Summary:
    """One closed-loop pass: ``connections`` HTTP/2 connections, ``streams`` in flight on each."""
    work_dir.mkdir(parents=True, exist_ok=True)
    body_file = work_dir / "grpc-request.bin"
    body_file.write_bytes(body)
    log_file = work_dir / "h2load-requests.tsv"
    log_file.unlink(missing_ok=True)  # h2load appends to it: a second pass would count twice
    seconds = max(1, round(duration))
    argv = [
        "h2load",
        f"--clients={connections}",
        f"--max-concurrent-streams={streams}",
        "--threads=1",
        f"--duration={seconds}",
        f"--data={body_file}",
        f"--log-file={log_file}",
    ]
    argv += [f"--header={name}: {value}" for name, value in headers]
    argv.append(f"http://127.0.0.1:{port}{path}")
    completed = subprocess.run(
        argv, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    match = _FINISHED.search(completed.stdout)
    if match is None:
        raise RuntimeError(f"h2load printed no result:\n{completed.stdout}\n{completed.stderr}")
    elapsed = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    for line in log_file.read_text().splitlines():
        _start, status, micros = line.split("\t")[:3]
        statuses[int(status)] += 1
        latencies.append(int(micros) / 1e6)
    failed = re.search(r"(\d+) failed, (\d+) errored, (\d+) timeout", completed.stdout)
    errors = sum(int(n) for n in failed.groups()) if failed else 0
    return Summary(
        tool="h2load",
        duration=elapsed,
        statuses=statuses,
        p50=percentile(latencies, 0.50),
        p99=percentile(latencies, 0.99),
        errors=errors,
    )
