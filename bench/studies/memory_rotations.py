"""``python -m bench.studies.memory_rotations``: the mock's memory over a million rotations.

The app is built as ``zitadel-mock serve`` builds it with default settings (demo fixtures, state
in memory, journal on at its default bound), and REST rotations of app "web" are driven through
its ASGI interface, no socket in between, in one process. The resident set (``VmRSS``) and its
high-water mark (``VmHWM``) are read every ``--every`` rotations: with the journal bounded, the
state of one app and the caches bounded, they must level off, not grow with the count. Every
answer's status is checked (all 200).

    .venv/bin/python -m bench.studies.memory_rotations                  # 1,000,000 rotations
    .venv/bin/python -m bench.studies.memory_rotations --rotations 200000 --every 50000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from bench.studies.inprocess_cpu import CASES, _app_module


def rss_kib() -> tuple[int, int]:
    """This process's ``VmRSS`` and ``VmHWM``, in KiB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


async def run(rotations: int, every: int) -> list[tuple[int, int, int, float]]:
    module = _app_module()
    app = module.build_app(module.Settings())
    case = CASES["REST success"]
    message = {"type": "http.request", "body": case.body, "more_body": False}
    statuses: dict[int, int] = {}

    async def receive() -> dict[str, Any]:
        return message

    async def send(sent: dict[str, Any]) -> None:
        if sent["type"] == "http.response.start":
            statuses[sent["status"]] = statuses.get(sent["status"], 0) + 1

    samples = [(0, *rss_kib(), 0.0)]
    started = time.perf_counter()
    done = 0
    while done < rotations:
        for _ in range(min(every, rotations - done)):
            await app(case.scope(), receive, send)
        done = min(done + every, rotations)
        await asyncio.sleep(0.3)  # the journal's batches are written on the event loop's timer
        samples.append((done, *rss_kib(), time.perf_counter() - started))
    if set(statuses) != {200}:
        raise SystemExit(f"not every answer was 200: {statuses}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rotations", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=100_000)
    args = parser.parse_args()
    samples = asyncio.run(run(args.rotations, args.every))
    print("| rotations | RSS MiB | peak RSS MiB | seconds |")
    print("| ---: | ---: | ---: | ---: |")
    for count, rss, peak, seconds in samples:
        print(f"| {count:,} | {rss / 1024:.1f} | {peak / 1024:.1f} | {seconds:.0f} |")
    first = samples[1] if len(samples) > 1 else samples[0]
    last = samples[-1]
    print(
        f"\nRSS after the first {first[0]:,}: {first[1] / 1024:.1f} MiB; after {last[0]:,}: "
        f"{last[1] / 1024:.1f} MiB (growth {(last[1] - first[1]) / 1024:+.1f} MiB)."
    )


if __name__ == "__main__":
    main()
