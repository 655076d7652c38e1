"""Issue 7, item 4: the contract suite's speed, in cases per second against the local mock.

Each row starts what it measures anew, on 127.0.0.1, after the benchmark's rows:

- the contract suite, ``zitadel-mock verify URL`` against a running mock with the demo fixtures
  (the README's command line, fixed seed, 100 examples per property): cases are the suite's own
  count (its "cases run" line), per second of the whole run (pytest's start included), and the
  mock's CPU time in that run;
- schemathesis alone (``bench/schemathesis_run.py``: the spec's cases with schemathesis' response
  checks), in process on the mock's ASGI app and over a socket to a running mock: the same cases,
  only the transport differs.

The client's CPU time (the measured command and every process it started: for ``verify``, its
pytest process) is shown beside the mock's: on a shared machine it moves far less than the wall
time. With ``repeat`` above 1 each row is measured that many times, in rounds, and the run with
the median wall time is shown, with the range of cases/s in brackets.

Alone (not the whole ``make bench``)::

    .venv/bin/python -m bench.studies.contracts_speed --repeat 3 --only verify

Against another checkout, in alternation (each round measures this checkout's ``verify`` row,
then the same row with the other interpreter's ``zitadel-mock``, mock and suite both)::

    .venv/bin/python -m bench.studies.contracts_speed --repeat 5 --only verify \
        --against ../main/.venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from bench import cases
from bench.load.loadgen import Request
from bench.servers import procs

MOCK: Final = str(Path(sys.executable).parent / "zitadel-mock")
SCHEMATHESIS_EXAMPLES: Final = 300
VERIFY_SEED: Final = "20261127"
VERIFY_OPTIONS: Final = (
    *("--org-id", cases.ACME, "--project-id", cases.PORTAL, "--app-id", cases.WEB),
    *("--client-id", f"{cases.WEB}@portal", "--seed", VERIFY_SEED),
)
VERIFY_TOKENS: Final = {
    "ZITADEL_CONTRACT_TOKEN": "admin-pat",
    "ZITADEL_CONTRACT_NO_PERMISSION_TOKEN": "acme-viewer-pat",
}
# Answered by the admin API, the last of the parts the mock builds after it listens.
FULLY_BUILT: Final = Request("GET", "/__mock/state", (), b"")
CASES_RUN: Final = re.compile(r"cases run: (\d+)")


@dataclass(frozen=True, slots=True)
class Speed:
    label: str
    cases: int
    seconds: float
    outcome: str
    mock_cpu_s: float | None = None
    client_cpu_s: float | None = None
    rates: tuple[float, ...] = ()  # cases/s of every repetition, when repeated

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds > 0 and self.cases else 0.0

    def row(self) -> str:
        rate = f"{self.rate:,.0f}" if self.rate else "n/a"
        if len(self.rates) > 1:
            rate += f" [{min(self.rates):,.0f} to {max(self.rates):,.0f}]"
        cpu = "in this process" if self.mock_cpu_s is None else f"{self.mock_cpu_s:.1f} s"
        client = "n/a" if self.client_cpu_s is None else f"{self.client_cpu_s:.1f} s"
        return (
            f"| {self.label} | {self.cases:,} | {self.seconds:.1f} | {rate} | {client} | {cpu} "
            f"| {self.outcome} |"
        )


def children_cpu_s() -> float:
    """CPU seconds (user + system) of this process' waited-for children so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def median(speeds: Sequence[Speed]) -> Speed:
    """The repetition with the median wall time (the upper one of an even count), with every
    repetition's rate; a repetition that did not complete is shown instead."""
    troubled = [s for s in speeds if not s.cases]
    if troubled:
        return troubled[0]
    ordered = sorted(speeds, key=lambda s: s.seconds)
    middle = ordered[len(ordered) // 2]
    return replace(middle, rates=tuple(sorted(s.rate for s in speeds)))


def with_mock(
    root: Path, extra: tuple[str, ...], body: Callable[[str], Speed], mock: str = MOCK
) -> Speed:
    """Run ``body(url)`` against a mock started for it; the mock's CPU seconds are added."""
    port = procs.free_port()
    argv = [mock, "serve", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    server = procs.start(f"contracts {' '.join(extra)}", [*argv, *extra], port, root / "logs")
    try:
        server.wait_for(cases.SUCCESS.request, 200)
        # The mock answers its operations before the rest of it is built (docs/start-up.md);
        # the suite is timed against the whole mock, not beside its background build.
        server.wait_for(FULLY_BUILT, 200)
        before = server.cpu_seconds()
        speed = body(f"http://127.0.0.1:{port}")
        used = server.cpu_seconds() - before
    finally:
        server.stop()
    return replace(speed, mock_cpu_s=used)


def verify(label: str, mock: str = MOCK) -> Callable[[str], Speed]:
    def run(url: str) -> Speed:
        cpu_before = children_cpu_s()
        began = time.monotonic()
        done = subprocess.run(
            [mock, "verify", url, *VERIFY_OPTIONS],
            capture_output=True,
            text=True,
            env={**os.environ, **VERIFY_TOKENS},
            timeout=600,
            check=False,
        )
        seconds = time.monotonic() - began
        client = children_cpu_s() - cpu_before
        found = CASES_RUN.search(done.stdout)
        outcome = "the contract holds" if done.returncode == 0 else f"exit {done.returncode}"
        return Speed(
            label, int(found.group(1)) if found else 0, seconds, outcome, client_cpu_s=client
        )

    return run


def schemathesis(label: str, where: list[str]) -> Speed:
    cpu_before = children_cpu_s()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.studies.schemathesis_run",
            *where,
            "--examples",
            str(SCHEMATHESIS_EXAMPLES),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    client = children_cpu_s() - cpu_before
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return Speed(label, 0, 0.0, f"failed to run (exit {done.returncode})")
    result = json.loads(lines[-1])
    failures = int(result["failures"])
    outcome = "no failure" if not failures else f"**{failures} failing cases**"
    return Speed(
        label, int(result["cases"]), float(result["seconds"]), outcome, client_cpu_s=client
    )


def rows(work: Path, against: str | None = None) -> list[tuple[str, Callable[[], Speed]]]:
    """Each row's name (for ``--only``) and how to measure it once; with ``against`` (another
    interpreter), its ``verify`` row right after this checkout's, so that rounds alternate."""
    other: list[tuple[str, Callable[[], Speed]]] = []
    if against is not None:
        mock = str(Path(against).parent / "zitadel-mock")
        label = f"contract suite, `zitadel-mock verify URL`, over a socket, with {against}"
        other.append(("verify-against", lambda: with_mock(work, (), verify(label, mock), mock)))
    return [
        (
            "verify",
            lambda: with_mock(
                work, (), verify("contract suite, `zitadel-mock verify URL`, over a socket")
            ),
        ),
        *other,
        (
            "schemathesis-asgi",
            lambda: schemathesis(
                "schemathesis alone, in process on the mock's ASGI app", ["--asgi"]
            ),
        ),
        (
            "schemathesis-socket",
            lambda: with_mock(
                work,
                (),
                lambda url: schemathesis("schemathesis alone, over a socket", ["--url", url]),
            ),
        ),
    ]


def measure(
    work: Path, repeat: int = 1, only: str | None = None, against: str | None = None
) -> list[str]:
    """Markdown lines for the report."""
    print("bench: contract suite speed ...", file=sys.stderr, flush=True)
    chosen = [(name, run) for name, run in rows(work, against) if only is None or only in name]
    runs: list[list[Speed]] = [[] for _ in chosen]
    for _ in range(max(1, repeat)):
        for (_, run), measured in zip(chosen, runs, strict=True):
            measured.append(run())
    repeated = f", each row measured {repeat} times (the median run shown)" if repeat > 1 else ""
    return [
        f"Demo fixtures; the suite with seed {VERIFY_SEED} and 100 examples per property; "
        f"schemathesis alone with {SCHEMATHESIS_EXAMPLES} generated cases. Wall time of each "
        "whole run; the client's CPU time (the command and the processes it started) and the "
        f"mock's in it show where that time went{repeated}.",
        "",
        "| run | cases | seconds | cases/s | client CPU | mock CPU | result |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
        *(median(measured).row() for measured in runs),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.studies.contracts_speed",
        description="Only the contract suite speed rows of make bench, printed.",
    )
    parser.add_argument("--repeat", type=int, default=1, help="measure each row this many times")
    parser.add_argument("--only", help="rows whose name contains this (verify, schemathesis)")
    parser.add_argument(
        "--against",
        metavar="PYTHON",
        help="also the verify row with this interpreter's zitadel-mock (another checkout's "
        "venv), right after this checkout's in every round",
    )
    args = parser.parse_args(argv)
    work = Path(__file__).resolve().parents[2] / "build" / "bench"  # make bench's own folder
    print("\n".join(measure(work, args.repeat, args.only, args.against)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
