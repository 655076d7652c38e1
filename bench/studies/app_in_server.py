"""``python -m bench.studies.app_in_server``: what the mock's app costs inside a serving process
under load, against the same app driven alone in that process at the same moment.

The mock's app (as ``zitadel-mock serve`` builds it, ``--no-access-log``) is served by this
module in a child process, behind a wrapper that times each real request's call into the app
(``time.thread_time_ns``: this thread's CPU, so what the loop does for other connections in
between is not counted; the app never awaits anything that is not ready). After each second real
request the wrapper also drives the app once itself, with a copy of that request's scope and a
``receive``/``send`` that do nothing ("interleaved"), and every 2,000 requests 300 times in a row
("in a row"). wrk (1 thread, 32 connections, the bench's success case) loads it for ``--seconds``;
then the child writes the three averages, in µs per request:

- real: the app's time for a request that came over the socket (its ``send`` is uvicorn's:
  building the head and writing to the socket are in it);
- interleaved: the app alone, right after a real request (caches as the server left them);
- in a row: the app alone, warm.

``real - interleaved`` is uvicorn's receive and sends with the socket write; ``interleaved - in a
row`` is what the server's code between two requests costs the app (bench/PROFILE.md).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from starlette.types import Message, Receive, Scope, Send

from bench import cases
from bench.load import wrk
from bench.servers import procs


def serve_timed(port: int, out: Path) -> None:
    """The child: the mock's app behind the timing wrapper, until SIGUSR1 (then the averages
    go to ``out``)."""
    from zitadel_mock.app import Settings, build_app  # noqa: PLC0415
    from zitadel_mock.server import serving  # noqa: PLC0415

    inner = build_app(Settings())
    clock = time.thread_time_ns
    totals = {"real": [0, 0], "interleaved": [0, 0], "in a row": [0, 0]}

    async def alone(scope: Scope, times: int, total: list[int]) -> None:
        message: Message = {"type": "http.request", "body": b"{}", "more_body": False}

        async def receive() -> Message:
            return message

        async def send(_message: Message) -> None:
            return None

        started = clock()
        for _ in range(times):
            copy = dict(scope)
            copy["headers"] = list(scope["headers"])
            await inner(copy, receive, send)
        total[0] += clock() - started
        total[1] += times

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        started = clock()
        await inner(scope, receive, send)
        real = totals["real"]
        real[0] += clock() - started
        real[1] += 1
        plain = {k: v for k, v in scope.items() if not k.startswith("zitadel_mock.")}
        if real[1] % 2 == 0:
            await alone(plain, 1, totals["interleaved"])
        if real[1] % 2000 == 0:
            await alone(plain, 300, totals["in a row"])

    def report(_signal: int, _frame: object) -> None:
        averages = {k: (ns / n / 1000 if n else None) for k, (ns, n) in totals.items()}
        out.write_text(json.dumps({"requests": totals["real"][1], **averages}))
        os._exit(0)

    signal.signal(signal.SIGUSR1, report)
    serving.freeze_start_up()
    serving.serve(app, "127.0.0.1", port, log_level="warning", access_log=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_timed(int(args.serve[0]), Path(args.serve[1]))
        return
    with tempfile.TemporaryDirectory(prefix="app-in-server-") as folder:
        work = Path(folder)
        for run in range(args.runs):
            port = procs.free_port()
            out = work / f"run-{run}.json"
            argv = [sys.executable, "-m", "bench.studies.app_in_server", "--serve", str(port)]
            server = procs.start("timed", [*argv, str(out)], port, work / "logs")
            try:
                server.wait_for(cases.SUCCESS.request, 200)
                wrk.run(port, cases.SUCCESS.request, connections=32, duration=1, work_dir=work)
                wrk.run(
                    port,
                    cases.SUCCESS.request,
                    connections=32,
                    duration=args.seconds,
                    work_dir=work,
                )
                os.kill(server.process.pid, signal.SIGUSR1)
                deadline = time.monotonic() + 10
                while not out.exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                server.stop()
            figures = json.loads(out.read_text())
            print(
                f"run {run + 1}: {figures['requests']} requests; µs per request: real"
                f" {figures['real']:.1f}, interleaved {figures['interleaved']:.1f}, in a row"
                f" {figures['in a row']:.1f}"
            )


if __name__ == "__main__":
    main()
