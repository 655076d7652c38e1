"""``python -m bench.studies.instructions``: instructions per request, counted, not timed.

On a shared guest, time per request moves by a fifth from one pass to the next, with no change
of code (bench/PROFILE.md); the number of instructions a request executes hardly moves at all.
This study runs the in-process harnesses (``inprocess_cpu.py``: the ASGI app as users start it,
no socket; ``h2_inprocess.py``: gRPC calls fed to our HTTP/2 connection, no socket) under
valgrind's cachegrind, which counts every instruction the process executes
(``--cache-sim=no``: no cache model, so no estimate of time). Each case runs twice, with ``n``
and ``3n`` requests (each after the harness's warm-up), and the difference of the two counts,
divided by the requests between them, is the figure: the start-up, the app's building and the
first requests' one-time work cancel out. ``PYTHONHASHSEED`` fixed (:data:`HASH_SEED`) keeps
dict and set layouts the same from run to run: two runs of one checkout with the same ``-n``
agreed to within 1,200 instructions in 575,000 (0.2%). Compare figures of one ``-n`` only:
another moves them by up to 2% (the journal starts trimming once it holds its 1,000 entries, a
batch is written every 256).

    .venv/bin/python -m bench.studies.instructions                  # this checkout
    .venv/bin/python -m bench.studies.instructions --against DIR    # and another, side by side

Instructions are not time: a cache miss costs more than an instruction, a system call is not
counted (nor the kernel's side of a socket). The figure says whether a change makes a request
do less work; ``make bench`` says what that buys over real sockets. valgrind is installed from
Debian's packages when missing (as root).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final, NamedTuple

from bench import tools
from bench.studies.h2_inprocess import warm_up_calls
from bench.studies.inprocess_cpu import warm_up_requests

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ROOT / "bench" / "studies"


class Case(NamedTuple):
    """A case of one of the in-process harnesses: its script, its name there, the arguments
    after them, and how many requests the script runs before the ``n`` asked for."""

    script: Path
    name: str
    extra: tuple[str, ...]
    warm_up: Callable[[int], int]


def _asgi(name: str, *extra: str) -> Case:
    return Case(STUDIES / "inprocess_cpu.py", name, extra, warm_up_requests)


def _http2(name: str) -> Case:
    return Case(STUDIES / "h2_inprocess.py", name, (), warm_up_calls)


# The ASGI harness's cases (one with the access log on, as users start the mock), and the HTTP/2
# harness's: one gRPC call at a time through our HTTP/2 connection, to the mock, or to an app
# that does no work (the HTTP/2 layer alone). The HTTP/2 figures hold the harness's client too,
# about 32,000 instructions a call (h2_inprocess's docstring).
CASES: dict[str, Case] = {
    "REST success": _asgi("REST success"),
    "REST success, access log on": _asgi("REST success", "--access-log"),
    "REST 401": _asgi("REST 401"),
    "REST 404": _asgi("REST 404"),
    "gRPC success (the app alone)": _asgi("gRPC success"),
    "gRPC-web success": _asgi("gRPC-web success"),
    "Connect JSON success (v2)": _asgi("Connect JSON success"),
    "Connect proto success (v2)": _asgi("Connect proto success"),
    "gRPC success through HTTP/2": _http2("mock 1x1"),
    "HTTP/2 layer alone (no-work app)": _http2("bare 1x1"),
}
# Not 0: that turns hash randomisation off, which users' processes have on, and with it moves
# the journal's redaction onto its keyed BLAKE2b digest of words (domain/client_secrets.
# word_digest): a REST success counted 574,781 instructions under 0, 542,329 under 1.
HASH_SEED: Final = "1"
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def counted(python: str, cwd: Path, case: Case, n: int) -> int:
    """Instructions of one run of the harness: ``n`` requests of ``case`` after its warm-up."""
    argv = [python, str(case.script), "-n", str(n), "--rounds", "1", "--case", case.name]
    done = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            *argv,
            *case.extra,
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        # PYTHONPATH: this checkout's bench package, which the HTTP/2 harness imports
        env={**os.environ, "PYTHONHASHSEED": HASH_SEED, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    found = _REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{case.name} under valgrind failed:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_request(python: str, cwd: Path, name: str, n: int) -> float:
    case = CASES[name]
    few, many = n, 3 * n  # each after the harness's own warm-up
    extra = (many + case.warm_up(many)) - (few + case.warm_up(few))
    return (counted(python, cwd, case, many) - counted(python, cwd, case, few)) / extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=500, help="requests of the shorter run")
    parser.add_argument("--case", action="append", choices=list(CASES), help="only these cases")
    parser.add_argument("--against", type=Path, help="another checkout with its own .venv")
    args = parser.parse_args()
    missing = tools.ensure("valgrind", "valgrind")
    if missing:
        raise SystemExit(missing)
    checkouts = {"this checkout": (sys.executable, ROOT)}
    if args.against is not None:
        other = args.against.resolve()
        checkouts = {str(other): (str(other / ".venv/bin/python"), other), **checkouts}
    names = args.case or list(CASES)
    jobs = [(label, name) for name in names for label in checkouts]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        figures = dict(
            zip(
                jobs,
                pool.map(lambda job: per_request(*checkouts[job[0]], job[1], args.n), jobs),
                strict=True,
            )
        )
    labels = list(checkouts)
    ratio = " | ratio" if len(labels) > 1 else ""
    print(f"| case | {' | '.join(labels)}{ratio} |")
    print(f"| --- |{' ---: |' * len(labels)}{' ---: |' if ratio else ''}")
    for name in names:
        cells = [f"{figures[(label, name)]:,.0f}" for label in labels]
        if ratio:
            cells.append(f"{figures[(labels[-1], name)] / figures[(labels[0], name)]:.3f}")
        print(f"| {name} | {' | '.join(cells)} |")
    print(f"\nInstructions per request (cachegrind; runs of {args.n} and {3 * args.n} requests).")


if __name__ == "__main__":
    main()
