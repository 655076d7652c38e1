"""Requests per second, and server CPU per request, of REST, gRPC-web and native gRPC in one run.

    python bench/transports.py [--requests 3000] [--connections 32] [--rounds 2]

Starts the mock as ``zitadel-mock serve`` does (HTTP/1.1 and HTTP/2 on one port) and, for the
before/after comparison of REST, a second one on uvicorn's plain httptools protocol (and the same
pair serving a bare ASGI route, where the protocol's own cost is not hidden by the app's). h2load
sends a fixed number of requests per row (``--h1`` for HTTP/1.1: REST, gRPC-web binary and
text; HTTP/2: native gRPC, REST), rows alternating over ``--rounds`` rounds so that both servers
see the same noise. Every request is a successful rotation of the demo app's secret. Besides
requests/s (noisy on a shared machine) it reports the server process's CPU milliseconds per
request (user + system from /proc), which noise disturbs far less. Prints a Markdown table and
writes it to bench/results/transports.md. Needs h2load (Debian: nghttp2-client) and Linux.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import PORTAL, WEB, free_port, rotate_path  # noqa: E402
from zitadel_proto.client import request_bytes  # noqa: E402
from zitadel_proto.wire import METHOD_PATH, encode_frame  # noqa: E402

PLAIN_HTTPTOOLS = """
import sys, uvicorn
from mockserver.app import Settings, build_app
uvicorn.run(build_app(Settings()), host="127.0.0.1", port=int(sys.argv[1]), http="httptools",
            loop="uvloop", log_level="warning", access_log=False, server_header=False)
"""
BARE_ROUTE = """
import sys, uvicorn
from mockserver.sniff import SniffingProtocol
from tests.faulty_app import app
http = SniffingProtocol if sys.argv[2] == "sniffing" else "httptools"
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http=http, loop="uvloop",
            log_level="critical", access_log=False)
"""
AUTH = "authorization: Bearer admin-pat"


def start(port: int, plain: bool, bare: str = "") -> subprocess.Popen[bytes]:
    if bare:
        command = [sys.executable, "-c", BARE_ROUTE, str(port), bare]
    elif plain:
        command = [sys.executable, "-c", PLAIN_HTTPTOOLS, str(port)]
    else:
        command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port)]
        command += ["--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the mock did not start")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def h2load(
    pid: int, url: str, body: Path, headers: list[str], options: list[str]
) -> tuple[float, float, str]:
    """(requests/s, server CPU ms per request, status codes) of one h2load run."""
    command = ["h2load", *options, "-d", str(body)]
    for header in headers:
        command += ["-H", header]
    before = cpu_seconds(pid)
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before
    rate = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"requests: \d+ total, \d+ started, (\d+) done", out).group(1))  # type: ignore[union-attr]
    codes = re.search(r"status codes: (\d+) 2xx", out)
    return rate, 1000 * used / max(done, 1), f"{codes.group(1) if codes else 0}/{done} 2xx"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("h2load") is None or not Path("/proc/self/stat").exists():
        print("bench/transports.py needs h2load and Linux's /proc", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-transports-"))
    frame = encode_frame(request_bytes(PORTAL, WEB))
    bodies = {"grpc": frame, "grpc-web-text": base64.b64encode(frame), "rest": b"{}"}
    for name, body in bodies.items():
        (work / name).write_bytes(body)
    ports = {name: free_port() for name in ("after", "before", "bare-before", "bare-after")}
    servers = {
        "after": start(ports["after"], plain=False),
        "before": start(ports["before"], plain=True),
        "bare-before": start(ports["bare-before"], plain=True, bare="httptools"),
        "bare-after": start(ports["bare-after"], plain=False, bare="sniffing"),
    }
    n, count = args.connections, f"-n{args.requests}"
    h1, h2 = ["--h1", count, f"-c{n}"], [count, f"-c{n}", "-m1"]
    rest = rotate_path(PORTAL, WEB)
    json_type, grpc_type = "content-type: application/json", "content-type: application/grpc"
    bare = ["--h1", f"-n{10 * args.requests}", f"-c{n}"]
    plan = [
        ("bare ASGI route, HTTP/1.1, plain httptools", "bare-before", "/", "rest", [], bare),
        ("bare ASGI route, HTTP/1.1, sniffing protocol", "bare-after", "/", "rest", [], bare),
        ("REST, HTTP/1.1, plain httptools (before)", "before", rest, "rest", [json_type], h1),
        ("REST, HTTP/1.1, sniffing protocol (after)", "after", rest, "rest", [json_type], h1),
        (
            "gRPC-web binary, HTTP/1.1",
            "after",
            METHOD_PATH,
            "grpc",
            ["content-type: application/grpc-web+proto"],
            h1,
        ),
        (
            "gRPC-web text, HTTP/1.1",
            "after",
            METHOD_PATH,
            "grpc-web-text",
            ["content-type: application/grpc-web-text"],
            h1,
        ),
        (
            f"native gRPC, HTTP/2, {n} conn x 1 stream",
            "after",
            METHOD_PATH,
            "grpc",
            [grpc_type, "te: trailers"],
            h2,
        ),
        (
            "native gRPC, HTTP/2, 4 conn x 32 streams",
            "after",
            METHOD_PATH,
            "grpc",
            [grpc_type, "te: trailers"],
            [count, "-c4", "-m32"],
        ),
        (f"REST, HTTP/2, {n} conn x 1 stream", "after", rest, "rest", [json_type], h2),
    ]
    rows: dict[str, list[tuple[float, float, str]]] = {}
    try:
        for _ in range(args.rounds):
            for label, server, path, body_name, headers, options in plan:
                url = f"http://127.0.0.1:{ports[server]}{path}"
                pid = servers[server].pid
                rows.setdefault(label, []).append(
                    h2load(pid, url, work / body_name, [*headers, AUTH], options)
                )
    finally:
        for process in servers.values():
            process.terminate()
            process.wait()
    lines = [
        f"| transport ({args.requests} requests x {args.rounds} rounds, loopback)"
        " | requests/s per round | server CPU ms/request per round | answers |",
        "| --- | --- | --- | --- |",
    ]
    for label, results in rows.items():
        rates = " / ".join(f"{rate:,.0f}" for rate, _, _ in results)
        cpu = " / ".join(f"{ms:.3f}" for _, ms, _ in results)
        lines.append(f"| {label} | {rates} | {cpu} | {results[-1][2]} |")
    table = "\n".join(lines)
    print(table)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "transports.md").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
