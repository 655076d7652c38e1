"""Issue 7, item 4: the contract suite's speed, in cases per second against the local mock.

Each row starts what it measures anew, on 127.0.0.1, after the benchmark's rows:

- the contract suite, ``zitadel-mock verify URL`` against a running mock with the demo fixtures
  (the README's command line, fixed seed, 100 examples per property): cases are the suite's own
  count (its "cases run" line), per second of the whole run (pytest's start included), and the
  mock's CPU time in that run;
- schemathesis alone (``bench/schemathesis_run.py``: the spec's cases with schemathesis' response
  checks), in process on the mock's ASGI app and over a socket to a running mock: the same cases,
  only the transport differs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench import cases
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
CASES_RUN: Final = re.compile(r"cases run: (\d+)")


@dataclass(frozen=True, slots=True)
class Speed:
    label: str
    cases: int
    seconds: float
    outcome: str
    mock_cpu_s: float | None = None

    def row(self) -> str:
        rate = f"{self.cases / self.seconds:,.0f}" if self.seconds > 0 and self.cases else "n/a"
        cpu = "in this process" if self.mock_cpu_s is None else f"{self.mock_cpu_s:.1f} s"
        return (
            f"| {self.label} | {self.cases:,} | {self.seconds:.1f} | {rate} | {cpu} "
            f"| {self.outcome} |"
        )


def with_mock(root: Path, extra: tuple[str, ...], body: Callable[[str], Speed]) -> Speed:
    """Run ``body(url)`` against a mock started for it; the mock's CPU seconds are added."""
    port = procs.free_port()
    argv = [MOCK, "serve", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    server = procs.start(f"contracts {' '.join(extra)}", [*argv, *extra], port, root / "logs")
    try:
        server.wait_for(cases.SUCCESS.request, 200)
        before = server.cpu_seconds()
        speed = body(f"http://127.0.0.1:{port}")
        used = server.cpu_seconds() - before
    finally:
        server.stop()
    return Speed(speed.label, speed.cases, speed.seconds, speed.outcome, used)


def verify(label: str) -> Callable[[str], Speed]:
    def run(url: str) -> Speed:
        began = time.monotonic()
        done = subprocess.run(
            [MOCK, "verify", url, *VERIFY_OPTIONS],
            capture_output=True,
            text=True,
            env={**os.environ, **VERIFY_TOKENS},
            timeout=600,
            check=False,
        )
        seconds = time.monotonic() - began
        found = CASES_RUN.search(done.stdout)
        outcome = "the contract holds" if done.returncode == 0 else f"exit {done.returncode}"
        return Speed(label, int(found.group(1)) if found else 0, seconds, outcome)

    return run


def schemathesis(label: str, where: list[str]) -> Speed:
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
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return Speed(label, 0, 0.0, f"failed to run (exit {done.returncode})")
    result = json.loads(lines[-1])
    failures = int(result["failures"])
    outcome = "no failure" if not failures else f"**{failures} failing cases**"
    return Speed(label, int(result["cases"]), float(result["seconds"]), outcome)


def measure(work: Path) -> list[str]:
    """Markdown lines for the report."""
    print("bench: contract suite speed ...", file=sys.stderr, flush=True)
    rows = [
        with_mock(work, (), verify("contract suite, `zitadel-mock verify URL`, over a socket")),
        schemathesis("schemathesis alone, in process on the mock's ASGI app", ["--asgi"]),
        with_mock(
            work,
            (),
            lambda url: schemathesis("schemathesis alone, over a socket", ["--url", url]),
        ),
    ]
    return [
        f"Demo fixtures; the suite with seed {VERIFY_SEED} and 100 examples per property; "
        f"schemathesis alone with {SCHEMATHESIS_EXAMPLES} generated cases. Wall time of each "
        "whole run; the mock's CPU time in it shows how much of that the mock took.",
        "",
        "| run | cases | seconds | cases/s | mock CPU | result |",
        "| --- | ---: | ---: | ---: | --- | --- |",
        *(speed.row() for speed in rows),
    ]
