"""``python -m bench.studies.server_ab --against DIR``: server CPU per request of this checkout
and another, over real sockets, alternating.

Each run starts one checkout's ``zitadel-mock serve --no-access-log --log-level warning`` (from
``DIR/.venv``; here from this interpreter's venv), warms it up, and loads it with the same tool:
wrk (1 thread, 32 connections) for REST and gRPC-web, h2load (32 clients, 1 stream each) for
native gRPC. The server's user and system CPU time over the pass (``/proc/PID/stat``), divided
by the answers, is that run's figure; the median of ``--runs`` alternating runs is printed, with
req/s. Both checkouts see the same machine at nearly the same time: the way to compare a commit
with another on a shared machine, where ``make bench``'s absolute numbers move from run to run.

    git worktree add /tmp/base ecf596a && (cd /tmp/base && python3 -m venv .venv \\
        && .venv/bin/pip install -q -e '.[dev]')
    .venv/bin/python -m bench.studies.server_ab --against /tmp/base --runs 3
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import cases
from bench.servers.procs import free_port

ROOT = Path(__file__).resolve().parents[2]
PORTAL, WEB = "319487650192752641", "319487671630840321"
REST_PATH = f"/management/v1/projects/{PORTAL}/apps/{WEB}/oidc_config/_generate_client_secret"
GRPC_PATH = "/zitadel.management.v1.ManagementService/RegenerateOIDCClientSecret"
KINDS = ("rest", "grpc-web", "grpc")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_script(work: Path, kind: str) -> Path:
    body = work / "grpc.bin"
    body.write_bytes(cases.grpc_message())
    script = work / f"{kind}.lua"
    if kind == "rest":
        lines = ['wrk.body = "{}"', 'wrk.headers["Content-Type"] = "application/json"']
    else:
        lines = [
            f'local f = io.open("{body}", "rb")',
            'wrk.body = f:read("*a")',
            'wrk.headers["Content-Type"] = "application/grpc-web+proto"',
            'wrk.headers["X-Grpc-Web"] = "1"',
        ]
    lines += ['wrk.method = "POST"', 'wrk.headers["Authorization"] = "Bearer admin-pat"']
    script.write_text("\n".join(lines) + "\n")
    return script


def one_run(checkout: Path | None, kind: str, seconds: int, work: Path) -> tuple[float, float]:
    """req/s and server CPU µs per request of one pass."""
    python = sys.executable if checkout is None else str(checkout / ".venv/bin/python")
    port = free_port()
    module = "zitadel_mock" if checkout is None else _module(checkout)
    quiet = ("--no-access-log", "--log-level", "warning")
    server = subprocess.Popen(
        [python, "-m", module, "serve", "--port", str(port), *quiet],
        cwd=checkout or ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)
        url = f"http://127.0.0.1:{port}"
        if kind == "grpc":
            body = work / "grpc.bin"
            body.write_bytes(cases.grpc_message())
            command = [
                "h2load",
                "--clients=32",
                "--max-concurrent-streams=1",
                "--threads=1",
                f"--duration={seconds}",
                f"--data={body}",
                "--header=content-type: application/grpc",
                "--header=te: trailers",
                "--header=authorization: Bearer admin-pat",
                url + GRPC_PATH,
            ]
            warm = [*command[:4], "--duration=1", *command[5:]]
        else:
            script = wrk_script(work, kind)
            target = url + (REST_PATH if kind == "rest" else GRPC_PATH)
            command = ["wrk", "-t1", "-c32", f"-d{seconds}s", "-s", str(script), target]
            warm = ["wrk", "-t1", "-c32", "-d1s", "-s", str(script), target]
        subprocess.run(warm, capture_output=True, check=True)
        before = cpu_seconds(server.pid)
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        used = cpu_seconds(server.pid) - before
    finally:
        server.terminate()
        server.wait(10)
    if kind == "grpc":
        done = re.search(r"(\d+) succeeded", out)
        answers = int(done[1]) if done else 0
    else:
        done = re.search(r"(\d+) requests in", out)
        answers = int(done[1]) if done else 0
    if not answers:
        raise SystemExit(f"no answers counted for {kind}:\n{out}")
    return answers / seconds, used / answers * 1e6


def _module(checkout: Path) -> str:
    """The mock's module name in ``checkout``: before issue 10's layout (no ``domain/`` folder)
    it was installed under its folder's name."""
    return "zitadel_mock" if (checkout / "mockserver" / "domain").is_dir() else "mock" + "server"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, required=True, help="a checkout with a .venv")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--kind", action="append", choices=KINDS, help="default: all")
    args = parser.parse_args()
    other = args.against.resolve()
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for kind in args.kind or KINDS:
                for label, checkout in ((str(other), other), ("this checkout", None)):
                    run = one_run(checkout, kind, args.seconds, Path(tmp))
                    figures.setdefault((kind, label), []).append(run)
    print(f"| case | {other} | this checkout | CPU ratio |")
    print("| --- | ---: | ---: | ---: |")
    for kind in args.kind or KINDS:
        cells = []
        cpus = []
        for label in (str(other), "this checkout"):
            runs = figures[(kind, label)]
            rate = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            cpus.append(cpu)
            cells.append(f"{cpu:.0f} µs ({rate:,.0f} req/s)")
        print(f"| {kind} | {cells[0]} | {cells[1]} | {cpus[1] / cpus[0]:.2f} |")
    print(f"\nServer CPU µs per request (req/s), median of {args.runs} alternating runs.")


if __name__ == "__main__":
    main()
