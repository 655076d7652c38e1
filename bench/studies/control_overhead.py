"""What the control plane costs per request, in one process (no network, no server).

    .venv/bin/python bench/control_overhead.py

Prints (1) the time of ``ControlPlane.begin`` + ``finish`` alone, and (2) requests per second of
the same POST through the whole ASGI app with the control plane (journal on / off) and straight
to the REST app, as medians of interleaved rounds, with the ratio to the REST app alone. Compare the
ratios of one run; absolute numbers move with the machine's load.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from zitadel_mock.app import Settings, build_app

ROUNDS = 11
PATH = (
    "/management/v1/projects/319487650192752641/apps/319487671630840321"
    "/oidc_config/_generate_client_secret"
)
HEADERS = [
    (b"host", b"x"),
    (b"authorization", b"Bearer admin-pat"),
    (b"content-type", b"application/json"),
    (b"content-length", b"2"),
]


def scope(extra: tuple[tuple[bytes, bytes], ...]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 1),
        "client": ("127.0.0.1", 2),
        "headers": [*HEADERS, *extra],
    }


async def rate(app: Any, n: int, extra: tuple[tuple[bytes, bytes], ...] = ()) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter()
    for _ in range(n):
        await app(scope(extra), receive, send)
    assert set(statuses) == {200}, statuses
    return n / (time.perf_counter() - started)


def control_path_micros(n: int = 20_000) -> float:
    control = build_app(Settings()).control
    headers = [(k.decode(), v.decode()) for k, v in HEADERS]
    started = time.perf_counter()
    for _ in range(n):
        call = control.begin(
            transport="rest", method="POST", path=PATH, headers=headers, app_id="1"
        )
        control.finish(call, status=200)
    control.journal.flush()
    return (time.perf_counter() - started) / n * 1e6


async def main() -> None:
    print(f"begin+finish alone: {control_path_micros():.1f} µs per request")
    journal_on = build_app(Settings())
    journal_off = build_app(Settings(journal_size=0))
    apps: dict[str, tuple[Any, tuple[tuple[bytes, bytes], ...]]] = {
        "REST app alone": (journal_on.rest, ()),
        "control, journal off": (journal_off, ()),
        "control, journal on": (journal_on, ()),
        "control, journal on, namespace": (journal_on, ((b"x-mock-namespace", b"bench"),)),
    }
    for app, extra in apps.values():
        await rate(app, 200, extra)
    rates: dict[str, list[float]] = {name: [] for name in apps}
    ratios: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(ROUNDS):  # each round runs all four back to back: its ratios share the load
        for name, (app, extra) in apps.items():
            rates[name].append(await rate(app, 500, extra))
        for name in apps:
            ratios[name].append(rates[name][-1] / rates["REST app alone"][-1])
    for name in apps:
        print(
            f"{name:32s} median {statistics.median(rates[name]):6.0f} requests/s"
            f"  median ratio {statistics.median(ratios[name]):.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
