"""``python -m bench.studies.first_answer --against DIR``: the first 200 after start of this
checkout and another, alternating.

Each run starts one checkout's ``zitadel-mock serve --port N`` (from ``DIR/.venv``; here from
this interpreter's venv), as ``make bench``'s row "as started by default" does, and takes the time
from the start to the first 200 answer to the REST rotation the way the bench takes it: a new
connection every 5 ms (:func:`bench.servers.procs.Server.wait_for`). The median of ``--runs``
alternating runs is printed for each checkout: on a shared machine the absolute figures move
with the load, the two side by side do not.

    .venv/bin/python -m bench.studies.first_answer --against /work/main --runs 9
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench import cases
from bench.servers import procs

ROOT = Path(__file__).resolve().parents[2]


def first_answer(checkout: Path, logs: Path) -> float:
    port = procs.free_port()
    mock = checkout / ".venv" / "bin" / "zitadel-mock"
    server = procs.start(checkout.name, [str(mock), "serve", "--port", str(port)], port, logs)
    try:
        return server.wait_for(cases.SUCCESS.request, 200)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.first_answer")
    parser.add_argument("--against", type=Path, required=True, help="the other checkout")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    checkouts = [ROOT, args.against.resolve()]
    seconds: dict[Path, list[float]] = {checkout: [] for checkout in checkouts}
    with tempfile.TemporaryDirectory(prefix="first-answer-") as logs:
        for _ in range(args.runs):
            for checkout in checkouts:
                seconds[checkout].append(first_answer(checkout, Path(logs)))
    for checkout, runs in seconds.items():
        print(
            f"{checkout}: first 200 median {statistics.median(runs):.3f} s "
            f"(min {min(runs):.3f}, max {max(runs):.3f}, {len(runs)} runs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
