"""``python -m bench.studies.cpu_profile``: where a request's time goes in the mock, per case,
under load.

For each case the mock is started as ``make bench`` starts it, saturated with wrk (else the
Python generator), and sampled by py-spy (``py-spy record --format raw --nonblocking``) for
``--duration`` seconds. Samples of threads parked in a wait are left out. Every other sample is
charged to one component: the deepest frame of its stack that a rule below names (so a call into
``re`` or ``sqlite3`` counts for whoever made it). A second table gives inclusive shares of the
stages a request passes, which nest and do not add up. Writes the raw stacks to
``build/bench/profile/`` and the tables to ``bench/profile-summary.md``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from bench import cases
from bench.load import loadgen, wrk
from bench.run import BUILD, ROOT, mock
from bench.servers import procs

Rule = tuple[str, Callable[[str, str], bool]]


def _path(prefix: str | tuple[str, ...]) -> Callable[[str, str], bool]:
    return lambda _func, path: path.startswith(prefix)


def _func(*names: str) -> Callable[[str, str], bool]:
    return lambda func, _path: any(name in func for name in names)


# Exclusive components, matched on each frame from the leaf up; the first frame that any rule
# matches takes the sample. Order matters only within one frame.
COMPONENTS: Final[tuple[Rule, ...]] = (
    (
        "SQLite state and its read cache (state/, sqlite3)",
        _path("mockserver/state/"),
    ),
    (
        "control plane and journal (control/, rest_control.py; their SQLite too)",
        _path(("mockserver/control/", "mockserver/protocols/rest_control.py")),
    ),
    (
        "secret generation and hashing (domain/client_secrets.py)",
        _path("mockserver/domain/client_secrets.py"),
    ),
    (
        "the operation: its steps, authorize, rotate (operations/)",
        _path("mockserver/operations/"),
    ),
    ("our errors catalogue (domain/errors.py)", _path("mockserver/domain/errors.py")),
    (
        "the REST operation, its compiled spec and the gateway codec (rest_operation.py,"
        " gateway.py, protojson.py, body.py)",
        _path(
            (
                "mockserver/protocols/rest_operation.py",
                "mockserver/protocols/gateway.py",
                "mockserver/protocols/protojson.py",
                "mockserver/protocols/body.py",
            )
        ),
    ),
    ("protobuf messages (google/protobuf)", _path("google/protobuf/")),
    ("jsonschema validation", _path("jsonschema/")),
    ("referencing ($ref registry)", _path("referencing/")),
    (
        "JSON encode/decode (json, orjson)",
        _path(("json/", "mockserver/domain/jsonbytes.py")),
    ),
    (
        "connexion/starlette routing and URI parsing",
        lambda func, path: path.startswith(
            ("connexion/uri_parsing.py", "connexion/middleware/routing.py", "starlette/routing.py")
        ),
    ),
    ("connexion: other middleware, lifecycle, decorators", _path("connexion/")),
    ("starlette: requests, responses, exception middleware", _path("starlette/")),
    ("our outer app and the rest of mockserver (app.py, ...)", _path("mockserver/")),
    ("uvicorn and httptools (HTTP/1.1)", _path("uvicorn/")),
    ("asyncio / uvloop event loop", _path("asyncio/")),
)

# Inclusive stages: the share of samples with such a frame anywhere in the stack.
STAGES: Final[tuple[tuple[str, str], ...]] = (
    ("connexion middleware stack (everything under ConnexionMiddleware)", "ConnexionMiddleware."),
    ("the REST operation (RestOperation.__call__)", "RestOperation.__call__"),
    ("response validation before sending (OperationSpec.conforms)", "conforms ("),
    ("the operation's steps (Operation.run)", "Operation.run"),
    ("control plane (ControlledApp._data: namespace, Prefer, journal)", "ControlledApp._data"),
    ("ControlPlane.begin", "ControlPlane.begin"),
    ("ControlPlane.finish", "ControlPlane.finish"),
    ("SecretService.authorize", "SecretService.authorize"),
    ("SecretService.rotate", "SecretService.rotate"),
    ("Store.rotate (SQLite transaction)", "Store.rotate"),
    ("protojson of the success (protocols/protojson.py)", "protocols/protojson.py"),
    ("error handlers (connexion ExceptionMiddleware)", "ExceptionMiddleware.common_error_handler"),
    ("sync code in a worker thread (anyio thread pool)", "WorkerThread.run"),
    ("uvicorn send (httptools_impl RequestResponseCycle.send)", "RequestResponseCycle.send"),
)

IDLE_LEAVES: Final = ("Condition.wait (threading.py", "Event.wait (threading.py")

_FRAME: Final = re.compile(r"^(?P<func>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")


def split_frame(frame: str) -> tuple[str, str]:
    """``"func (path:line)"`` as (the whole frame, the path)."""
    match = _FRAME.match(frame)
    return frame, match.group("path") if match else ""


def component(frames: Sequence[str]) -> str:
    for frame in reversed(frames):
        func, path = split_frame(frame)
        for name, rule in COMPONENTS:
            if rule(func, path):
                return name
    return "other (interpreter start, stdlib called from the event loop)"


def idle(frames: Sequence[str]) -> bool:
    """A thread parked in a wait: py-spy counts these as active; they cost no CPU."""
    return frames[-1].startswith(IDLE_LEAVES)


def analyse(raw: str) -> tuple[int, Counter[str], Counter[str]]:
    """Samples, exclusive component counts and inclusive stage counts of a py-spy raw file.

    Samples of idle threads (a worker thread waiting for work) are left out of all three.
    """
    total = 0
    parts: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    for line in raw.splitlines():
        if not line.strip():
            continue
        stack, count_text = line.rsplit(" ", 1)
        count = int(count_text)
        frames = stack.split(";")
        if idle(frames):
            continue
        total += count
        parts[component(frames)] += count
        for label, needle in STAGES:
            if any(needle in frame for frame in frames):
                stages[label] += count
    return total, parts, stages


def _load(port: int, case: cases.Case, seconds: float, results: list[loadgen.Summary]) -> None:
    if wrk.available():
        results.append(
            wrk.run(port, case.request, connections=32, duration=seconds, work_dir=BUILD / "work")
        )
    else:
        raw = loadgen.run_saturate(
            "127.0.0.1", port, case.request, connections=32, duration=seconds
        )
        results.append(loadgen.summarize(raw))


def profile_case(
    case: cases.Case, seconds: float, rate: int, launch: Callable[[int], list[str]], name: str
) -> tuple[str, loadgen.Summary]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    port = procs.free_port()
    server = procs.start(f"profile {name} {case.label}", launch(port), port, BUILD / "logs")
    out_dir = BUILD / "profile"
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^a-z]+", "-", name)
    raw_path = out_dir / f"{stem}-{case.label.split()[0]}-{case.expected}.txt"
    results: list[loadgen.Summary] = []
    try:
        server.wait_for(cases.SUCCESS.request, 200)
        load = threading.Thread(target=_load, args=(port, case, seconds + 3, results))
        load.start()
        time.sleep(1.0)
        subprocess.run(
            [
                spy,
                "record",
                "--pid",
                str(server.process.pid),
                "--duration",
                str(round(seconds)),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(raw_path),
            ],
            capture_output=True,
            check=True,
        )
        load.join()
    finally:
        server.stop()
    return raw_path.read_text(), results[0]


def table(total: int, counts: Counter[str], heading: str) -> list[str]:
    lines = [f"| {heading} | share of samples |", "| --- | ---: |"]
    lines += [f"| {name} | {n / total:.1%} |" for name, n in counts.most_common()]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.studies.cpu_profile", description=__doc__
    )
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "profile-summary.md")
    args = parser.parse_args(argv)
    name = "mock"
    launch = mock()
    out = [
        f"# Profile of {name} under load",
        "",
        f"`python -m bench.studies.cpu_profile --duration {args.duration:g} --rate {args.rate}`"
        " wrote this file; see `bench/PROFILE.md` for what it means.",
    ]
    for case in (cases.SUCCESS, cases.NO_TOKEN, cases.UNKNOWN):
        print(f"profile: {name} / {case.label} ...", file=sys.stderr, flush=True)
        raw, load = profile_case(case, args.duration, args.rate, launch, name)
        total, parts, stages = analyse(raw)
        statuses = ", ".join(f"{n:,} x {s}" for s, n in sorted(load.statuses.items()))
        out += [
            "",
            f"## {case.label}",
            "",
            f"{total:,} samples; load during sampling: {load.rate:,.0f} req/s ({load.tool}), "
            f"answers {statuses}",
            "",
            *table(total, parts, "component (exclusive: deepest named frame)"),
            "",
            *table(total, stages, "stage (inclusive: nests, does not add up)"),
        ]
    text = "\n".join(out) + "\n"
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
