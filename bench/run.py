"""``python -m bench``: every row measured in one run, on this machine, then the report.

A row is one server (started fresh for the row) and one case. For each row: the time from the
process start to its first successful answer; one probe of the case (a row whose case is not
served as expected is skipped or failed, never measured); a warm-up pass; a closed-loop pass at
saturation (wrk, else the Python generator; h2load for gRPC); an open-loop pass at half the
rate just measured (the Python generator, on HTTP/2 streams for gRPC); the peak RSS of the
server's processes; and, for cases that rotate, a check that every counted success was a
committed rotation (the project's sequence moved by that much).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from bench import cases, report, tools
from bench.cases import Case
from bench.load import grpc_paced, h2load, loadgen, wrk
from bench.load.loadgen import Summary
from bench.servers import prism, procs
from bench.studies.contracts_speed import measure as measure_contracts

ROOT: Final = Path(__file__).resolve().parent.parent
BUILD: Final = ROOT / "build" / "bench"
SPEC: Final = ROOT / "openapi.yaml"
MOCK: Final = str(Path(sys.executable).parent / "zitadel-mock")
DEFAULT_DURATION_S: Final = 10.0

Launcher = Callable[[int], list[str]]


@dataclass(frozen=True, slots=True)
class Row:
    """A server and a case. ``optional`` rows are skipped (not failed) when the probe misses."""

    target: str
    case: Case
    launch: Launcher
    transport: str = "http1"  # "http1" or "grpc"
    h2_layout: tuple[int, int] | None = None  # gRPC: (connections, streams on each); default
    # the run's connections with one stream each
    stateful: bool = False  # the mock: rotating cases are checked against the sequence
    optional: bool = False
    skip: str | None = None


@dataclass
class Measured:
    row: Row
    first_success_s: float = float("nan")
    saturation: Summary | None = None
    paced: Summary | None = None
    paced_target: float = 0.0
    paced_lag_p99: float = float("nan")
    rss_total_kib: int = 0
    rss_max_kib: int = 0
    processes: int = 0
    rotations: str = ""
    cpu_per_request: float = float("nan")  # server CPU seconds per answer at saturation
    load: float = float("nan")  # the machine's 1-minute load average after the row
    rates: list[float] = field(default_factory=list)  # req/s of every repetition
    # p99 at half load of every repetition (seconds), in order; the report shows their median
    half_load_p99s: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    duration: float
    warmup: float
    connections: int
    tool: str  # "wrk" or "python"
    only: list[str] | None
    repeat: int = 1


def mock(*extra: str) -> Launcher:
    """``zitadel-mock serve`` as the README's users start it, quiet, on ``port``."""
    quiet = ("--no-access-log", "--log-level", "warning")
    return lambda port: [MOCK, "serve", "--port", str(port), *quiet, *extra]


def default_mock() -> Launcher:
    """``zitadel-mock serve`` with nothing but the port: access log and journal on, as users
    start it (its log goes to the row's log file)."""
    return lambda port: [MOCK, "serve", "--port", str(port)]


def baseline(kind: str, *extra: str) -> Launcher:
    return lambda port: [
        sys.executable,
        "-m",
        "bench.servers.baseline",
        "--port",
        str(port),
        "--kind",
        kind,
        *extra,
    ]


def serve_help() -> str:
    done = subprocess.run([MOCK, "serve", "--help"], capture_output=True, text=True, check=False)
    return done.stdout


def plan(prism_found: prism.Prism | str, state_dir: Path) -> list[Row]:
    """Every row of the report, in order; the first is the baseline the ratios are taken to."""
    help_text = serve_help()
    rows = [
        Row("baseline: bare Starlette route", cases.SUCCESS, baseline("starlette")),
        Row("ceiling: raw ASGI", cases.SUCCESS, baseline("asgi")),
        Row(
            "ceiling: raw ASGI on the mock's protocol (sniffs HTTP/1.1 or 2)",
            cases.SUCCESS,
            baseline("asgi", "--sniffing"),
        ),
        Row(report.DEFAULT_ROW, cases.SUCCESS, default_mock(), stateful=True),
        Row("mock REST, 1 worker", cases.SUCCESS, mock(), stateful=True),
        Row("mock REST, 1 worker", cases.NO_TOKEN, mock(), stateful=True),
        Row("mock REST, 1 worker", cases.UNKNOWN, mock(), stateful=True),
    ]
    # Without the request journal, the control plane's largest cost (Prism keeps none).
    rows.append(
        Row(
            "mock REST, 1 worker, --journal-size 0",
            cases.SUCCESS,
            mock("--journal-size", "0"),
            stateful=True,
        )
    )
    # Several workers share one SQLite file (``--state``); the 1-worker row on a file tells the
    # file's cost apart from the second worker's gain. One file per row (kept across --repeat).
    has = {option: option in help_text for option in ("--state", "--workers")}
    rows += [
        Row(
            "mock REST, 1 worker, --state file",
            cases.SUCCESS,
            mock("--state", str(state_dir / "one-worker.db")),
            stateful=True,
            skip=None if has["--state"] else "`zitadel-mock serve` has no `--state` option",
        ),
        Row(
            "mock REST, 2 workers, --state file",
            cases.SUCCESS,
            mock("--workers", "2", "--state", str(state_dir / "two-workers.db")),
            stateful=True,
            skip=None if has["--workers"] else "`zitadel-mock serve` has no `--workers` option",
        ),
    ]
    # Hook: gRPC and gRPC-web on the same port. The rows run when their probe is answered with
    # grpc-status 0; until then they are listed as skipped with what the probe got.
    rows += [
        Row("mock gRPC, 1 worker", cases.GRPC, mock(), "grpc", stateful=True, optional=True),
        Row(
            "mock gRPC, 1 worker, 4 connections x 32 streams",
            cases.GRPC,
            mock(),
            "grpc",
            (4, 32),
            stateful=True,
            optional=True,
        ),
        Row("mock gRPC-web, 1 worker", cases.GRPC_WEB, mock(), stateful=True, optional=True),
    ]
    # v2 GenerateClientSecret (connect-go's paths): Connect JSON (the Python SDK's wire), Connect
    # binary proto, and native gRPC; goal: Connect JSON at 0.9x the REST success row or better.
    rows += [
        Row("mock Connect, 1 worker", cases.CONNECT_JSON, mock(), stateful=True),
        Row("mock Connect, 1 worker", cases.CONNECT_PROTO, mock(), stateful=True),
        Row("mock gRPC, 1 worker", cases.V2_GRPC, mock(), "grpc", stateful=True, optional=True),
    ]
    if isinstance(prism_found, prism.Prism):
        rows.append(
            Row(
                f"Prism {prism_found.version}, static",
                cases.SUCCESS,
                lambda port: prism_found.argv(SPEC, port),
            )
        )
    else:
        rows.append(Row("Prism, static", cases.SUCCESS, lambda port: [], skip=prism_found))
    return rows


def current_sequence(port: int) -> int:
    """Rotate app "web" once over REST and read the project's sequence from the answer."""
    answer = procs.probe(port, cases.SUCCESS.request)
    if answer is None or answer[0] != 200:
        raise RuntimeError(f"sequence probe failed: {answer and answer[0]}")
    body = answer[1].split(b"\r\n\r\n", 1)[1]
    return int(json.loads(body)["details"]["sequence"])


def check_case(server: procs.Server, row: Row) -> str | None:
    """One call of the case: None if it is answered as expected, else what came back."""
    case = row.case
    if row.transport == "grpc":
        answer = h2load.call(
            server.port, case.request.path, case.request.headers, case.request.body
        )
        if answer.ok:
            return None
        return answer.problem or f"HTTP {answer.http_status}, grpc-status {answer.grpc_status}"
    got = procs.probe(server.port, case.request)
    if got is None:
        return "no answer"
    if got[0] != case.expected:
        return f"HTTP {got[0]} instead of {case.expected}"
    if case.marker_re is not None and not re.search(case.marker_re, got[1]):
        return f"HTTP {got[0]} without {case.marker_re!r} in the body"
    return None


def closed_pass(server: procs.Server, row: Row, settings: Settings, seconds: float) -> Summary:
    request, port = row.case.request, server.port
    if row.transport == "grpc":
        connections, streams = row.h2_layout or (settings.connections, 1)
        return h2load.run_h2load(
            port,
            request.path,
            request.headers,
            request.body,
            connections=connections,
            streams=streams,
            duration=seconds,
            work_dir=BUILD / "work",
        )
    if settings.tool == "wrk":
        return wrk.run(
            port,
            request,
            connections=settings.connections,
            duration=seconds,
            work_dir=BUILD / "work",
            marker=row.case.marker_lua,
        )
    result = loadgen.run_saturate(
        "127.0.0.1", port, request, connections=settings.connections, duration=seconds
    )
    return loadgen.summarize(result)


def paced_pass(port: int, row: Row, settings: Settings, rate: float) -> loadgen.Result:
    """The open-loop pass at ``rate``: the HTTP/1.1 generator, or for a gRPC row the same
    schedule on HTTP/2 streams, laid out as the row's closed-loop pass is."""
    if row.transport == "grpc":
        connections, streams = row.h2_layout or (settings.connections, 1)
        return grpc_paced.run_paced(
            "127.0.0.1",
            port,
            row.case.request,
            rate=rate,
            connections=connections,
            streams=streams,
            duration=settings.duration,
        )
    return loadgen.run_paced(
        "127.0.0.1",
        port,
        row.case.request,
        rate=rate,
        connections=settings.connections,
        duration=settings.duration,
    )


def verify(name: str, summary: Summary, case: Case, problems: list[str]) -> int:
    """Record every answer that was not the expected one; return the expected answers."""
    good = summary.statuses.get(case.expected, 0)
    others = {s: n for s, n in summary.statuses.items() if s != case.expected}
    if others:
        problems.append(f"{name}: unexpected statuses {others}")
    if summary.errors:
        problems.append(f"{name}: {summary.errors} connection errors or timeouts")
    if summary.marked is not None and summary.marked != summary.answered:
        mark = repr(case.marker_lua) if case.marker_lua is not None else "grpc-status 0"
        problems.append(f"{name}: {summary.answered - summary.marked} answers without {mark}")
    if summary.answered == 0:
        problems.append(f"{name}: no answers at all")
    return good


def measure(row: Row, settings: Settings) -> Measured:
    out = Measured(row)
    if row.skip:
        out.skipped = row.skip
        return out
    port = procs.free_port()
    server = procs.start(f"{row.target} {row.case.label}", row.launch(port), port, BUILD / "logs")
    try:
        out.first_success_s = server.wait_for(cases.SUCCESS.request, 200)
        missing = check_case(server, row)
        if missing is not None:
            if row.optional:
                out.skipped = f"not served by this build: {missing}"
            else:
                out.problems.append(f"probe of the case: {missing}")
            return out
        before = current_sequence(port) if row.stateful and row.case.rotates else None
        warm = closed_pass(server, row, settings, settings.warmup)
        counted = verify("warm-up", warm, row.case, out.problems)
        cpu_before = server.cpu_seconds()
        out.saturation = closed_pass(server, row, settings, settings.duration)
        if out.saturation.answered:
            cpu = server.cpu_seconds() - cpu_before
            out.cpu_per_request = cpu / out.saturation.answered
        counted += verify("saturation", out.saturation, row.case, out.problems)
        if out.saturation.rate > 0:
            out.paced_target = out.saturation.rate / 2
            paced = paced_pass(port, row, settings, out.paced_target)
            out.paced = loadgen.summarize(paced)
            out.paced_lag_p99 = loadgen.percentile(paced.lags, 0.99)
            counted += verify("half load", out.paced, row.case, out.problems)
        if before is not None:
            after = current_sequence(port)
            in_flight = settings.connections
            if row.h2_layout is not None:
                in_flight = row.h2_layout[0] * row.h2_layout[1]
            out.rotations = rotation_check(before, after, counted, in_flight, out.problems)
        out.rss_total_kib, out.rss_max_kib = server.peak_rss_kib()
        out.processes = len(server.pids())
        out.load = os.getloadavg()[0]
    except (RuntimeError, OSError) as exc:
        out.problems.append(str(exc))
    finally:
        server.stop()
    return out


def rotation_check(
    before: int, after: int, counted: int, in_flight: int, problems: list[str]
) -> str:
    """Every counted success must be a committed rotation; answers still in flight when a
    closed-loop pass ends may rotate without being counted (at most ``in_flight`` a pass)."""
    rotations = after - before - 1
    slack = 2 * in_flight
    if not counted <= rotations <= counted + slack:
        problems.append(
            f"sequence moved by {rotations} for {counted} counted successes (allowed up to "
            f"{slack} uncounted in flight)"
        )
        return "mismatch"
    return f"{rotations:,} rotations for {counted:,} counted 200s"


def median_run(measured: list[Measured]) -> Measured:
    """The repetition with the median req/s (the upper one of an even count), carrying every
    repetition's req/s and p99 at half load; a repetition with problems is shown instead, so
    that no problem hides behind a good run."""
    troubled = [m for m in measured if m.problems]
    if troubled:
        return troubled[0]
    rated = sorted((m.saturation.rate, i) for i, m in enumerate(measured) if m.saturation)
    if not rated:
        return measured[0]
    middle = measured[rated[len(rated) // 2][1]]
    middle.rates = [rate for rate, _ in rated]
    middle.half_load_p99s = [m.paced.p99 for m in measured if m.paced is not None]
    return middle


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--duration",
        type=float,
        default=float(os.environ.get("BENCH_DURATION") or DEFAULT_DURATION_S),
        help="seconds of each measured pass (env BENCH_DURATION; default %(default)s)",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per row")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--tool", choices=["auto", "wrk", "python"], default="auto", help="saturation generator"
    )
    parser.add_argument("--no-prism", action="store_true", help="leave Prism out")
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("BENCH_REPEAT") or 1),
        help="measure every row this many times, in rounds, and report the median by req/s "
        "(env BENCH_REPEAT; default %(default)s)",
    )
    parser.add_argument(
        "--only",
        action="append",
        help="measure only rows whose target or case contains this (may be given more than"
        " once; the baseline row, which the ratios are taken to, is always measured)",
    )
    parser.add_argument(
        "--no-contracts",
        dest="contracts",
        action="store_false",
        help="leave out the contract suite's speed",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    notes: list[str] = []
    tool = args.tool
    if tool in ("auto", "wrk"):
        missing = tools.ensure("wrk", "wrk")
        if missing:
            notes.append(f"{missing}: the Python generator saturated instead")
            tool = "python"
        else:
            tool = "wrk"
    h2load_note = tools.ensure("h2load", "nghttp2-client")
    if args.no_prism:
        prism_found: prism.Prism | str = "left out (--no-prism)"
    else:
        print("bench: installing or finding Prism ...", file=sys.stderr)
        prism_found = prism.ensure(BUILD / "prism")
    settings = Settings(
        args.duration, args.warmup, args.connections, tool, args.only, max(1, args.repeat)
    )
    environment = report.environment(tool, prism_found, settings_line(settings))
    with tempfile.TemporaryDirectory(prefix="bench-state-") as state_dir:
        rows = plan(prism_found, Path(state_dir))
        if h2load_note:
            rows = [
                dataclasses.replace(r, skip=h2load_note) if r.transport == "grpc" else r
                for r in rows
            ]
        chosen = [
            row
            for number, row in enumerate(rows)
            if not args.only
            or number == 0
            or any(part in f"{row.target} {row.case.label}" for part in args.only)
        ]
        runs: list[list[Measured]] = [[] for _ in chosen]
        for round_number in range(settings.repeat):
            for row, measured in zip(chosen, runs, strict=True):
                print(
                    f"bench: [{round_number + 1}/{settings.repeat}] {row.target} / "
                    f"{row.case.label} ...",
                    file=sys.stderr,
                    flush=True,
                )
                measured.append(measure(row, settings))
        results = [median_run(measured) for measured in runs]
    contract_lines = ["Left out (--no-contracts or --only)."]
    if args.contracts and not args.only:
        contract_lines = measure_contracts(BUILD, settings.repeat)
    elapsed = time.monotonic() - began
    text = report.render(results, environment, notes, contract_lines, elapsed)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"bench: written to {args.out} in {elapsed:.0f} s", file=sys.stderr)
    failed = [m for m in results if m.problems]
    for m in failed:
        print(f"bench: INVALID {m.row.target} / {m.row.case.label}: {m.problems}", file=sys.stderr)
    return 1 if failed else 0


def settings_line(settings: Settings) -> str:
    tool = "wrk (1 thread)" if settings.tool == "wrk" else "the Python generator"
    text = (
        f"{settings.duration:g} s per measured pass, {settings.warmup:g} s warm-up, "
        f"{settings.connections} connections, saturation by {tool}, half-load pass by the "
        "Python generator"
    )
    if settings.repeat > 1:
        text += f"; every row {settings.repeat} times in rounds, the median by req/s shown"
    return text
