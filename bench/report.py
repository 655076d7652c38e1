"""The report: Markdown with the machine, the rows, every figure's ratio to the baseline, the
issue's targets and how to read it all."""

from __future__ import annotations

import math
import os
import platform
import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from bench.servers import prism

if TYPE_CHECKING:
    from bench.run import Measured

ROOT: Final = Path(__file__).resolve().parent.parent
MIB: Final = 1024

HOW_TO_READ: Final = """\
- Every row starts its server anew, on 127.0.0.1, while nothing else of this benchmark runs.
  The machine is shared, so absolute numbers move from run to run; compare the ratios, which
  are taken to the **baseline row of the same run** (in parentheses: x1.00 is the baseline;
  for req/s higher is better, for latency, memory and start time lower is better).
- Every mock row runs `zitadel-mock serve --no-access-log --log-level warning` and the options in
  its name, except the row **as started by default**: `zitadel-mock serve --port N` alone, with
  its access log (to a file) and journal on. So the first REST row shows what users get, and the
  next one what the access log costs; the `--journal-size 0` row what the journal costs.
- **req/s, p50, p99**: a closed-loop pass at saturation: every connection sends its next
  request as soon as the answer is in; latency is from send to the last byte of the answer.
  With `--repeat N` (`BENCH_REPEAT`), every row is measured N times in rounds and the median
  repetition is shown, with the range of req/s in brackets.
- **server CPU µs/req**: user plus system CPU time the server's processes used during the
  saturation pass, divided by the answers. It depends far less on what else the shared machine
  does than req/s, which falls whenever another process takes the server's core: when the two
  disagree, trust this one for comparing servers, and the **load** column (the machine's
  1-minute load average after the row; 2 cores) for how disturbed a row was.
- **p99 at half load**: an open-loop pass at half the req/s the row just reached. Requests fall
  due on a fixed schedule whatever the server does, and a due request waits for a free
  connection, so a server that stalls shows up in the latency rather than lowering the load
  (no coordinated omission; wrk2's method, written in `bench/load/loadgen.py` because wrk2 is
  not in Debian). gRPC rows run the same schedule on HTTP/2 streams (`bench/load/grpc_paced.py`,
  hpack and a lean frame layer; h2load's `--rate` paces connections, not requests), laid out
  as their closed-loop pass, and count a call as answered well only with `grpc-status: 0`.
  "@ N/s" is the rate actually reached. With `--repeat N`, every repetition has its own
  half-load pass: the figure is the median of their p99s (the upper one of an even count),
  the range of them in brackets, and the goal is read on the median: one stall of a shared
  machine longer than a hundredth of a pass (0.1 s of 10 s) decides that pass's p99 alone.
- **peak RSS**: the kernel's high-water mark (`VmHWM`) of the server process, summed over its
  child processes if any (Prism is one `node` process, the mock and the baselines one Python
  process per worker).
- **first 200**: from starting the process to the first 200 answer to the success request
  (polled every 5 ms on new connections), i.e. import, spec loading and bind included.
- **answers**: every answer of every pass (warm-up, saturation, half load) is counted by status;
  a row with any status other than the expected one, or with connection errors, is marked
  INVALID and listed under Problems. For the mock's success cases the project's sequence is read
  before and after: every counted 200 must be a committed rotation (a few more may be committed
  by requests still in flight when a closed-loop pass stops).
- The mock's success case rotates the secret of app "web" on every call, so it writes the
  SQLite state (in memory) every time; the error cases do not write.
- "mock REST" rows answer the operation through its one REST path
  (`mockserver/protocols/rest_operation.py`) and other paths through connexion. Every mock row
  runs the control plane (namespace, `Prefer`, journal) as users get it.
- The targets compare REST on 1 worker with the baseline and with Prism by req/s (what the issue
  asks), and by server CPU per request in parentheses (the steadier figure on this machine).
- gRPC rows: h2load, one stream on each of the run's connections, or 4 connections with 32
  streams each; h2load sees HTTP statuses only, so the rows rely on the probe (which reads
  `grpc-status`) and on the sequence check.
"""


def _run(*argv: str) -> str:
    if shutil.which(argv[0]) is None:
        return "not installed"
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False, cwd=ROOT)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(tool: str, prism_found: prism.Prism | str, settings_line: str) -> list[str]:
    commit = _run("git", "rev-parse", "--short", "HEAD")
    dirty = _run("git", "status", "--porcelain", "--untracked-files=no")
    if dirty not in ("", "unknown", "not installed"):
        commit += " (with uncommitted changes)"
    prism_text = (
        f"Prism {prism_found.version} (`@stoplight/prism-cli`, static mode)"
        if isinstance(prism_found, prism.Prism)
        else f"Prism: {prism_found}"
    )
    load = os.getloadavg()
    return [
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
        f"- commit: {commit}",
        f"- machine: {os.cpu_count()} CPUs ({_cpu_model()}), {platform.system()} "
        f"{platform.release()}; load average at start {load[0]:.2f} (shared machine)",
        f"- Python {platform.python_version()}; wrk: {_run('wrk', '--version')}; "
        f"h2load: {_run('h2load', '--version')}; node: {_run('node', '--version')}; {prism_text}",
        f"- settings: {settings_line}",
    ]


def _ratio(value: float, base: float | None) -> str:
    if base is None or not base or math.isnan(value) or math.isnan(base):
        return ""
    return f" (x{value / base:.2f})"


def _ms(seconds: float) -> float:
    return seconds * 1000


def _fmt_ms(seconds: float, base: float | None) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{_ms(seconds):.1f}{_ratio(seconds, base)}"


def half_load_p99(m: Measured) -> float | None:
    """The row's p99 at half load: with repetitions, the median of theirs (the upper one of an
    even count), so that one pass stalled by the shared machine does not stand for the row."""
    if m.half_load_p99s:
        return statistics.median_high(m.half_load_p99s)
    return m.paced.p99 if m.paced is not None else None


def _answers(m: Measured) -> str:
    if m.problems:
        return "**INVALID** (see Problems)"
    passes = [p for p in (m.saturation, m.paced) if p is not None]
    total = sum(p.answered for p in passes)
    text = f"all {m.row.case.expected} ({total:,} measured)"
    if m.rotations:
        text += f"; {m.rotations}"
    return text


def _row_cells(m: Measured, base: Measured | None) -> list[str]:
    sat, paced = m.saturation, m.paced
    b_sat = base.saturation if base else None
    rate = f"{sat.rate:,.0f}{_ratio(sat.rate, b_sat.rate if b_sat else None)}" if sat else "n/a"
    if len(m.rates) > 1:
        rate += f" [{min(m.rates):,.0f}-{max(m.rates):,.0f}]"
    base_cpu = base.cpu_per_request if base else None
    cpu = (
        "n/a"
        if math.isnan(m.cpu_per_request)
        else f"{m.cpu_per_request * 1e6:,.0f}{_ratio(m.cpu_per_request, base_cpu)}"
    )
    p50 = _fmt_ms(sat.p50, b_sat.p50 if b_sat else None) if sat else "n/a"
    p99 = _fmt_ms(sat.p99, b_sat.p99 if b_sat else None) if sat else "n/a"
    half_p99 = half_load_p99(m)
    if paced is not None and half_p99 is not None:
        base_half = half_load_p99(base) if base else None
        half = f"{_fmt_ms(half_p99, base_half)} @ {paced.rate:,.0f}/s"
        if len(m.half_load_p99s) > 1:
            low, high = min(m.half_load_p99s), max(m.half_load_p99s)
            half += f" [{_ms(low):.1f}-{_ms(high):.1f}]"
        if m.paced_lag_p99 > 0.002:
            half += f" (generator late by up to {_ms(m.paced_lag_p99):.0f} ms)"
    else:
        half = "n/a"
    base_rss = base.rss_total_kib if base else None
    rss = f"{m.rss_total_kib / MIB:.0f}{_ratio(m.rss_total_kib, base_rss)}"
    if m.processes > 1:
        rss += f" ({m.processes} processes, largest {m.rss_max_kib / MIB:.0f})"
    base_first = base.first_success_s if base else None
    first = f"{m.first_success_s:.2f}{_ratio(m.first_success_s, base_first)}"
    load = "n/a" if math.isnan(m.load) else f"{m.load:.1f}"
    return [
        m.row.target,
        m.row.case.label,
        rate,
        cpu,
        p50,
        p99,
        half,
        rss,
        first,
        _answers(m),
        load,
    ]


# The REST row as users start the mock, and the quiet one every other mock row is started like.
DEFAULT_ROW: Final = "mock REST, 1 worker, as started by default (access log on)"
QUIET_ROW: Final = "mock REST, 1 worker"


def _find(
    results: Sequence[Measured], target: str, case: str, *, exact: bool = False
) -> Measured | None:
    for m in results:
        named = m.row.target == target if exact else m.row.target.startswith(target)
        if named and m.row.case.label.startswith(case):
            return m if m.saturation is not None and not m.problems else None
    return None


def targets(results: Sequence[Measured]) -> list[str]:
    """Issue 15's goals, each with where this run stands (ratios within this run)."""
    base = _find(results, "baseline", "success")
    default = _find(results, DEFAULT_ROW, "success", exact=True)
    success = _find(results, QUIET_ROW, "success", exact=True)
    errors = [_find(results, QUIET_ROW, c, exact=True) for c in ("error 401", "error 404")]
    prism_row = _find(results, "Prism", "success")
    lines = ["| goal (issue 15) | this run | goal | met |", "| --- | --- | --- | --- |"]

    def add(name: str, value: float | None, text: str, goal: str, ok: bool | None) -> None:
        mark = "n/a" if value is None or ok is None else ("yes" if ok else "**no**")
        lines.append(
            f"| {name} | {text if value is not None else 'not measured'} | {goal} | {mark} |"
        )

    def ratio(name: str, row: Measured | None, to: Measured | None, goal: float) -> None:
        if row is None or to is None or row.saturation is None or to.saturation is None:
            add(name, None, "", f"≥ x{goal:g}", None)
            return
        share = row.saturation.rate / to.saturation.rate
        by_cpu = to.cpu_per_request / row.cpu_per_request
        text = f"x{share:.2f} by req/s (x{by_cpu:.2f} by server CPU per request)"
        add(name, share, text, f"≥ x{goal:g}", share >= goal)

    ratio("REST as started by default vs bare baseline", default, base, 0.45)
    ratio("REST as started by default vs Prism static", default, prism_row, 2.5)
    ratio("REST with --no-access-log vs bare baseline", success, base, 0.45)
    for target, case, goal in (
        ("mock gRPC-web, 1 worker", "gRPC-web success", 0.9),
        ("mock gRPC, 1 worker", "gRPC success", 0.8),
        ("mock gRPC, 1 worker, 4 connections x 32 streams", "gRPC success", 0.8),
        ("mock Connect, 1 worker", "Connect JSON success", 0.9),
        ("mock Connect, 1 worker", "Connect proto success", 0.9),
        ("mock gRPC, 1 worker", "gRPC success (v2)", 0.8),
    ):
        row = _find(results, target, case, exact=True)
        ratio(f"{target}, {case} vs REST", row, success, goal)
    for m in errors:
        if m is not None:
            ratio(f"{m.row.case.label} vs success", m, success, 0.8)
    for m in results:
        half_p99 = half_load_p99(m)
        if half_p99 is not None and not m.problems and m.row.target.startswith("mock"):
            p99 = _ms(half_p99)
            add(
                f"p99 at half load, {m.row.target}, {m.row.case.label}",
                p99,
                f"{p99:.1f} ms",
                "< 5 ms",
                p99 < 5,
            )
    one_file = _find(results, "mock REST, 1 worker, --state file", "success", exact=True)
    two_files = _find(results, "mock REST, 2 workers, --state file", "success", exact=True)
    if one_file is not None and two_files is not None:
        assert one_file.saturation is not None
        assert two_files.saturation is not None
        per_worker = two_files.saturation.rate / 2
        share = per_worker / one_file.saturation.rate
        add(
            "2 workers on one state file: req/s per worker vs 1 worker on a file",
            share,
            f"{per_worker:,.0f} per worker, x{share:.2f} (x1.00: no contention)",
            "reported",
            True,
        )
    if default is not None:
        first = default.first_success_s
        text = f"{first:.2f} s"
        add("first 200 after start (as by default)", first, text, "< 0.5 s", first < 0.5)
    if success is not None:
        rss = success.rss_max_kib / MIB
        rotations = success.rotations.split(" rotations")[0] or "its"
        add(
            f"peak RSS of the worker after {rotations} rotations",
            rss,
            f"{rss:.0f} MiB",
            "< 100 MB",
            rss * 1.048576 < 100,
        )
    return lines


def render(
    results: Sequence[Measured],
    environment_lines: Sequence[str],
    notes: Sequence[str],
    contract_lines: Sequence[str],
    elapsed: float,
) -> str:
    measured = [m for m in results if m.skipped is None]
    base = measured[0] if measured and measured[0].row.target.startswith("baseline") else None
    if base is not None and (base.problems or base.saturation is None):
        base = None
    header = [
        "server",
        "case",
        "req/s",
        "server CPU µs/req",
        "p50 ms",
        "p99 ms",
        "p99 ms at half load",
        "peak RSS MiB",
        "first 200 s",
        "answers",
        "load",
    ]
    out = ["# Benchmark results", "", "`make bench` (`python -m bench`) wrote this file.", ""]
    out += [*environment_lines, f"- whole run: {elapsed:.0f} s", ""]
    out += ["## Results", "", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    out += ["| " + " | ".join(_row_cells(m, base)) + " |" for m in measured]
    if base is None:
        out += ["", "No valid baseline row in this run: no ratios."]
    out += ["", "## Goals", "", *targets(results)]
    skipped = [m for m in results if m.skipped is not None]
    if skipped or notes:
        out += ["", "## Not measured", ""]
        out += [f"- {m.row.target} / {m.row.case.label}: {m.skipped}" for m in skipped]
        out += [f"- {note}" for note in notes]
    out += ["", "## Contract suite speed", "", *contract_lines]
    problems = [m for m in results if m.problems]
    if problems:
        out += ["", "## Problems", ""]
        for m in problems:
            out += [f"- {m.row.target} / {m.row.case.label}: " + "; ".join(m.problems)]
    out += ["", "## How to read this", "", HOW_TO_READ]
    return "\n".join(out)
