"""``python -m bench.studies.server_ab --against DIR``: server CPU per request of this checkout
and another, over real sockets, alternating.

Each run starts one checkout's ``zitadel-mock serve --no-access-log --log-level warning`` (from
``DIR/.venv``; here from this interpreter's venv), warms it up, and loads it with the same tool:
wrk (1 thread, 32 connections) for REST, gRPC-web and Connect, h2load (32 clients, 1 stream
each) for native gRPC. The server's user and system CPU time over the pass
(``/proc/PID/stat``), divided by the answers, is that run's figure; the median of ``--runs``
alternating runs is printed, with req/s. Both checkouts see the same machine at nearly the same
time: the way to compare a commit with another on a shared machine, where ``make bench``'s
absolute numbers move from run to run.

    git worktree add /tmp/base ecf596a && (cd /tmp/base && python3 -m venv .venv \\
        && .venv/bin/pip install -q -e '.[dev]')
    .venv/bin/python -m bench.studies.server_ab --against /tmp/base --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench import cases
from bench.cases import Case
from bench.load import h2load, wrk
from bench.load.loadgen import Summary
from bench.servers import procs

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 32
# Each kind's case and, for native gRPC (h2load), its connections and streams on each; the
# HTTP/1.1 kinds run wrk with CONNECTIONS.
KINDS: dict[str, tuple[Case, tuple[int, int] | None]] = {
    "rest": (cases.SUCCESS, None),
    "grpc-web": (cases.GRPC_WEB, None),
    "grpc": (cases.GRPC, (CONNECTIONS, 1)),
    "grpc-4x32": (cases.GRPC, (4, 32)),
    "v2-grpc": (cases.V2_GRPC, (CONNECTIONS, 1)),
    "connect-json": (cases.CONNECT_JSON, None),
    "connect-proto": (cases.CONNECT_PROTO, None),
}
DEFAULT_KINDS = ("rest", "grpc-web", "grpc")


def _module(checkout: Path) -> str:
    """The mock's module name in ``checkout``: before issue 10's layout (no ``domain/`` folder)
    it was installed under its folder's name."""
    return "zitadel_mock" if (checkout / "mockserver" / "domain").is_dir() else "mock" + "server"


def load(port: int, kind: str, seconds: float, work: Path) -> Summary:
    """One closed-loop pass of ``kind``'s case: wrk for HTTP/1.1, h2load for native gRPC; every
    answer must have the case's status."""
    case, layout = KINDS[kind]
    request = case.request
    if layout is not None:
        summary = h2load.run_h2load(
            port,
            request.path,
            request.headers,
            request.body or b"",
            connections=layout[0],
            duration=seconds,
            work_dir=work,
            streams=layout[1],
        )
    else:
        summary = wrk.run(port, request, connections=CONNECTIONS, duration=seconds, work_dir=work)
    if set(summary.statuses) != {case.expected} or summary.errors:
        raise SystemExit(f"{case.label}: unexpected answers {dict(summary.statuses)}")
    return summary


def one_run(checkout: Path | None, kind: str, seconds: int, work: Path) -> tuple[float, float]:
    """req/s and server CPU µs per request of one pass (after a second of warm-up)."""
    python = sys.executable if checkout is None else str(checkout / ".venv/bin/python")
    module = "zitadel_mock" if checkout is None else _module(checkout)
    port = procs.free_port()
    argv = [python, "-m", module, "serve", "--port", str(port), "--no-access-log"]
    # From the checkout's own folder: ``-m`` looks in the working directory first.
    server = procs.start(
        kind, [*argv, "--log-level", "warning"], port, work / "logs", cwd=checkout or ROOT
    )
    try:
        server.wait_for(cases.SUCCESS.request, 200)
        load(port, kind, 1, work)
        before = server.cpu_seconds()
        summary = load(port, kind, seconds, work)
        used = server.cpu_seconds() - before
    finally:
        server.stop()
    answers = sum(summary.statuses.values())
    return answers / summary.duration, used / answers * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, required=True, help="a checkout with a .venv")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument(
        "--kind", action="append", choices=KINDS, help=f"default: {', '.join(DEFAULT_KINDS)}"
    )
    args = parser.parse_args()
    other = args.against.resolve()
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for kind in args.kind or DEFAULT_KINDS:
                for label, checkout in ((str(other), other), ("this checkout", None)):
                    run = one_run(checkout, kind, args.seconds, Path(tmp))
                    figures.setdefault((kind, label), []).append(run)
    print(f"| case | {other} | this checkout | CPU ratio |")
    print("| --- | ---: | ---: | ---: |")
    for kind in args.kind or DEFAULT_KINDS:
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
