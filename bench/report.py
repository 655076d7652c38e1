"""The report: Markdown with the machine, the rows, every figure's ratio to the baseline, the
issue's targets and how to read it all."""

from __future__ import annotations

import math
import os
import platform
import shutil
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
  (no coordinated omission; wrk2's method, written in `bench/loadgen.py` because wrk2 is not in
  Debian). "@ N/s" is the rate actually reached.
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
    b_paced = base.paced if base else None
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
    if paced is not None:
        half = f"{_fmt_ms(paced.p99, b_paced.p99 if b_paced else None)} @ {paced.rate:,.0f}/s"
        if m.paced_lag_p99 > 0.002:
            half += f" (generator late by up to {_ms(m.paced_lag_p99):.0f} ms)"
    else:
        half = "n/a (no paced HTTP/2 generator)" if m.row.transport == "grpc" else "n/a"
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


def _find(results: Sequence[Measured], target: str, case: str) -> Measured | None:
    for m in results:
        if m.row.target.startswith(target) and m.row.case.label.startswith(case):
            return m if m.saturation is not None and not m.problems else None
    return None


def targets(results: Sequence[Measured]) -> list[str]:
    """The issue's targets, each with where this run stands."""
    base = _find(results, "baseline", "success")
    success = _find(results, "mock REST, 1 worker", "success")
    errors = [_find(results, "mock REST, 1 worker", c) for c in ("error 401", "error 404")]
    prism_row = _find(results, "Prism", "success")
    lines = ["| target (issue 7) | this run | goal | met |", "| --- | --- | --- | --- |"]

    def add(name: str, value: float | None, text: str, goal: str, ok: bool | None) -> None:
        mark = "n/a" if value is None or ok is None else ("yes" if ok else "**no**")
        lines.append(
            f"| {name} | {text if value is not None else 'not measured'} | {goal} | {mark} |"
        )

    if success is None or success.saturation is None:
        return [*lines, "| mock REST, 1 worker | not measured | | n/a |"]
    rate = success.saturation.rate
    for name, other, goal in (("bare baseline", base, 0.35), ("Prism static", prism_row, 2.0)):
        if other is None or other.saturation is None:
            add(f"REST 1 worker vs {name}", None, "", f"≥ x{goal:g}", None)
            continue
        share = rate / other.saturation.rate
        by_cpu = other.cpu_per_request / success.cpu_per_request
        add(
            f"REST 1 worker vs {name}",
            share,
            f"x{share:.2f} by req/s (x{by_cpu:.2f} by server CPU per request)",
            f"≥ x{goal:g}",
            share >= goal,
        )
    for m in [success, *errors]:
        if m is not None and m.paced is not None:
            p99 = _ms(m.paced.p99)
            add(f"p99 at half load, {m.row.case.label}", p99, f"{p99:.1f} ms", "< 10 ms", p99 < 10)
    first = success.first_success_s
    add("first successful answer after start", first, f"{first:.2f} s", "< 1 s", first < 1)
    rss = success.rss_max_kib / MIB
    add("peak RSS per worker", rss, f"{rss:.0f} MiB", "< 120 MB", rss * 1.048576 < 120)
    for m in errors:
        if m is not None and m.saturation is not None:
            share = m.saturation.rate / rate
            by_cpu = success.cpu_per_request / m.cpu_per_request
            add(
                f"{m.row.case.label} vs success",
                share,
                f"x{share:.2f} by req/s (x{by_cpu:.2f} by server CPU per request)",
                "≥ x0.80 (within 20%)",
                share >= 0.8,
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
    out += ["", "## Targets", "", *targets(results)]
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
