"""Server CPU per request, in one process: the whole ASGI app as users start it, no network.

    .venv/bin/python bench/studies/inprocess_cpu.py                 # this checkout
    .venv/bin/python bench/studies/inprocess_cpu.py --against DIR   # and DIR, in turn

The app is built as ``zitadel-mock serve`` builds it with default settings (demo fixtures, state
in memory, journal on), and each case's request is driven through its ASGI interface ``N`` times
per round; the CPU time of the process (``time.process_time()``) per request is taken for each
round, and the median of the rounds is printed, in µs. Cases run interleaved within a round so
that each round's figures share the machine's load. No server, socket or HTTP parser is involved:
what is measured is the app's own cost (the part this repository can change), which moves far
less with the shared machine's load than ``make bench``'s req/s.

Cases: REST success (a rotation of app "web"), REST 401 (no token), REST 404 (unknown app), gRPC
(HTTP/2 scope with the trailers extension; h2 itself is not in it), gRPC-web (binary, over
HTTP/1.1), and v2's GenerateClientSecret over Connect, JSON and binary proto, of the same app.
Every answer's status (and gRPC status) is checked. ``--access-log`` turns the access
log on, as ``zitadel-mock serve`` starts it (its lines to /dev/null); without it the app is
``make bench``'s quiet rows'. ``bench/studies/instructions.py`` runs this script under valgrind
and counts instructions instead of timing them.

``--against DIR`` (once or more) runs this script under ``DIR/.venv/bin/python`` and under this
interpreter in turn, ``--runs`` times each, alternating, and prints a column for each: the way to
compare a commit with another on a loaded machine (``git worktree add DIR COMMIT`` and a venv
there). Checkouts before issue 10's layout installed the mock as ``mockserver``; the import below
takes either. ``--statistic min`` takes each case's least disturbed round instead of the median,
for A/B of changes of a microsecond or two.

Issue 15's comparison (ecf596a is the commit before issue 10's layout)::

    git worktree add /tmp/base ecf596a && (cd /tmp/base && python3 -m venv .venv \
        && .venv/bin/pip install -q -e '.[dev]')
    .venv/bin/python bench/studies/inprocess_cpu.py --against /tmp/base --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def _app_module() -> Any:
    """``zitadel_mock.app``; in a checkout from before issue 10, the same module under the name it
    was installed as then."""
    try:
        return importlib.import_module("zitadel_mock.app")
    except ImportError:
        return importlib.import_module("mock" + "server.app")


if not __package__:  # run as a script (as --against and bench.studies.instructions run it)
    sys.path.append(str(Path(__file__).resolve().parents[2]))  # after the checkout's own mock
from bench import cases as sent  # noqa: E402 - the path above first


class Case:
    """One of the benchmark's cases (``bench/cases.py``) in process: its request as a fresh
    scope per call (names lower-cased, as servers give them), and what its answer must be."""

    def __init__(self, case: sent.Case, *, http2: bool = False, grpc_ok: bool = False) -> None:
        request = case.request
        self.template: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "2" if http2 else "1.1",
            "method": request.method,
            "scheme": "http",
            "path": request.path,
            "raw_path": request.path.encode(),
            "query_string": b"",
            "root_path": "",
            "server": ("127.0.0.1", 8080),
            "client": ("127.0.0.1", 40000),
            "headers": [
                (b"host", b"127.0.0.1:8080"),
                *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers),
                (b"content-length", b"%d" % len(request.body)),
            ],
        }
        if http2:
            self.template["extensions"] = {"http.response.trailers": {}}
        self.body = request.body
        self.status = case.expected
        self.grpc_ok = grpc_ok

    def scope(self) -> dict[str, Any]:
        scope = dict(self.template)
        scope["headers"] = list(self.template["headers"])
        return scope


CASES: dict[str, Case] = {
    "REST success": Case(sent.SUCCESS),
    "REST 401": Case(sent.NO_TOKEN),
    "REST 404": Case(sent.UNKNOWN),
    "gRPC success": Case(sent.GRPC, http2=True, grpc_ok=True),
    "gRPC-web success": Case(sent.GRPC_WEB, grpc_ok=True),
    "Connect JSON success": Case(sent.CONNECT_JSON),
    "Connect proto success": Case(sent.CONNECT_PROTO),
}


async def drive(app: Any, case: Case, n: int) -> float:
    """CPU seconds per request of ``n`` requests of ``case`` through ``app``."""
    message = {"type": "http.request", "body": case.body, "more_body": False}
    answers: list[Any] = []

    async def receive() -> dict[str, Any]:
        return message

    async def send(sent: dict[str, Any]) -> None:
        answers.append(sent)

    scopes = [case.scope() for _ in range(n)]
    started = time.process_time()
    for scope in scopes:
        await app(scope, receive, send)
    elapsed = time.process_time() - started
    check(case, answers)
    return elapsed / n


def check(case: Case, answers: list[dict[str, Any]]) -> None:
    starts = [m for m in answers if m["type"] == "http.response.start"]
    statuses = {m["status"] for m in starts}
    if statuses != {case.status}:
        raise SystemExit(f"unexpected statuses {statuses}")
    if case.grpc_ok:
        wire = b"".join(
            m.get("body", b"") for m in answers if m["type"] == "http.response.body"
        ) + b"".join(
            b"".join(k + b":" + v for k, v in m["headers"])
            for m in answers
            if m["type"] == "http.response.trailers"
        )
        if wire.count(b"grpc-status:0") != len(starts):
            raise SystemExit("not every gRPC answer has grpc-status 0")


async def measure(
    n: int,
    rounds: int,
    only: list[str],
    statistic: str,
    journal_size: int | None = None,
    *,
    access_log: bool = False,
) -> dict[str, float]:
    module = _app_module()
    settings = (
        module.Settings() if journal_size is None else module.Settings(journal_size=journal_size)
    )
    app = module.build_app(settings)
    if access_log:
        log_access(app)
    cases = {name: CASES[name] for name in only}
    for case in cases.values():  # warm-up: caches, compiled validators, the journal's batches
        await drive(app, case, warm_up_requests(n))
    per_round: dict[str, list[float]] = {name: [] for name in cases}
    gc.collect()
    for _ in range(rounds):
        for name, case in cases.items():
            per_round[name].append(await drive(app, case, n))
    pick = min if statistic == "min" else statistics.median
    return {name: pick(values) * 1e6 for name, values in per_round.items()}


def warm_up_requests(n: int) -> int:
    """The requests of a case's warm-up before its ``n`` measured ones."""
    return max(n // 4, 50)


def log_access(app: Any) -> None:
    """The access log on, as ``zitadel-mock serve`` starts it, its lines written to /dev/null."""
    import logging.config  # noqa: PLC0415

    logs = importlib.import_module("zitadel_mock.server.logs")
    config = logs.log_config("text", "info")
    config["handlers"]["main"]["stream"] = open(os.devnull, "w")  # noqa: SIM115 - for the run
    logging.config.dictConfig(config)
    app.log_access()


def compare(others: list[Path], runs: int, argv: list[str]) -> None:
    """Alternate runs of this script in each of ``others`` and here; print the medians side by
    side, with the ratio of this checkout to the first of ``others``."""
    checkouts: dict[str, tuple[str, Path | None]] = {
        str(other): (str(other / ".venv/bin/python"), other) for other in others
    }
    checkouts["this checkout"] = (sys.executable, None)
    results: dict[str, list[dict[str, float]]] = {label: [] for label in checkouts}
    for _ in range(runs):
        for label, (python, cwd) in checkouts.items():
            out = subprocess.run(
                [python, __file__, "--json", *argv],
                check=True,
                capture_output=True,
                text=True,
                cwd=cwd,
            ).stdout
            results[label].append(json.loads(out))
    labels = list(results)
    names = list(results[labels[0]][0])
    print(f"| case | {' | '.join(labels)} | ratio to the first |")
    print(f"| --- | {' | '.join('---:' for _ in labels)} | ---: |")
    for name in names:
        medians = [statistics.median(r[name] for r in results[label]) for label in labels]
        spread = [
            f"{m:.1f} ({min(r[name] for r in results[label]):.1f} to "
            f"{max(r[name] for r in results[label]):.1f})"
            for m, label in zip(medians, labels, strict=True)
        ]
        print(f"| {name} | {' | '.join(spread)} | {medians[-1] / medians[0]:.2f} |")
    print(f"\nµs of CPU per request, median of {runs} runs each (range), alternating.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="requests per case per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--case", action="append", choices=list(CASES), help="only these cases")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--statistic",
        choices=("median", "min"),
        default="median",
        help="of the rounds (min: the least disturbed round, for A/B of small changes)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        action="append",
        help="another checkout with its own .venv (may be given more than once)",
    )
    parser.add_argument("--runs", type=int, default=3, help="with --against: runs of each")
    parser.add_argument(
        "--journal-size", type=int, help="the app's journal size (default: as users start it)"
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="the access log on, as by default (off as in make bench's quiet rows otherwise)",
    )
    args = parser.parse_args()
    only = args.case or list(CASES)
    if args.against is not None:
        passed = ["-n", str(args.n), "--rounds", str(args.rounds), "--statistic", args.statistic]
        if args.journal_size is not None:
            passed += ["--journal-size", str(args.journal_size)]
        if args.access_log:
            passed.append("--access-log")
        for name in only:
            passed += ["--case", name]
        compare([path.resolve() for path in args.against], args.runs, passed)
        return
    result = asyncio.run(
        measure(
            args.n, args.rounds, only, args.statistic, args.journal_size, access_log=args.access_log
        )
    )
    if args.json:
        print(json.dumps(result))
        return
    for name, micros in result.items():
        print(f"{name:18s} {micros:7.1f} µs CPU per request")


if __name__ == "__main__":
    main()
