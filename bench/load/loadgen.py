"""A Python HTTP/1.1 load generator: keep-alive connections on raw sockets, loopback only.

Two passes:

- :func:`saturate` (closed loop): each of ``connections`` connections sends its next request as
  soon as the previous answer is read, for ``duration`` seconds. Latency is send to last byte.
- :func:`paced` (open loop, as wrk2 does it): requests fall due at a fixed rate whatever the
  server does, and each connection takes the next due request as soon as it is free. A request
  that fell due while every connection was busy waited for the server, and its latency runs
  from the moment it was due; so a slow server shows in the latency instead of silently
  lowering the load (no coordinated omission). The event loop's timer ticks in about 1 ms;
  ``lags`` records how late it woke an idle connection, so that the generator's own limits stay
  visible instead of being counted against the server. The schedule itself,
  :func:`paced_schedule`, drives HTTP/2 streams too (``bench.load.grpc_paced``).

Every answer's status is counted; a connection the server closes is counted as an error and
reopened. Only 127.0.0.1 and ``localhost`` are accepted as targets.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Final, cast

LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})
RESPONSE_TIMEOUT_S: Final = 10.0
clock: Final = time.perf_counter  # uvloop's loop.time() ticks in whole milliseconds


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP/1.1 request, sent the same way every time."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def encode(self, host: str, port: int) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(slots=True)
class Result:
    """What a pass saw. Latencies and lags in seconds, one entry per answered request."""

    duration: float
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    errors: int = 0
    scheduled: int = 0
    marked: int | None = None  # answers the protocol's own mark calls good, where it has one

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    def merge(self, other: Result) -> None:
        self.duration = max(self.duration, other.duration)
        self.statuses.update(other.statuses)
        self.latencies += other.latencies
        self.lags += other.lags
        self.errors += other.errors
        self.scheduled += other.scheduled
        if other.marked is not None:
            self.marked = (self.marked or 0) + other.marked


@dataclass(frozen=True, slots=True)
class Summary:
    """One pass as the report needs it, whichever tool made it. Latencies in seconds.

    ``marked`` counts answers whose body matched the case's pattern, where the tool checks one.
    """

    tool: str
    duration: float
    statuses: Counter[int]
    p50: float
    p99: float
    errors: int
    marked: int | None = None

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def rate(self) -> float:
        return self.answered / self.duration if self.duration > 0 else 0.0


def summarize(result: Result, tool: str = "python") -> Summary:
    return Summary(
        tool=tool,
        duration=result.duration,
        statuses=Counter(result.statuses),
        p50=percentile(result.latencies, 0.50),
        p99=percentile(result.latencies, 0.99),
        errors=result.errors,
        marked=result.marked,
    )


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1) of ``values``; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


class ResponseParser:
    """Splits a byte stream of HTTP/1.1 responses into statuses (Content-Length or chunked)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[int]:
        self.buffer += data
        statuses: list[int] = []
        while (status := self._one()) is not None:
            statuses.append(status)
        return statuses

    def _one(self) -> int | None:
        buf = self.buffer
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(buf[:end]).lower()
        status = int(head[9:12])
        start = end + 4
        marker = head.find(b"\r\ncontent-length:")
        if marker >= 0:
            line_end = head.find(b"\r\n", marker + 2)
            value = head[marker + 17 : line_end if line_end >= 0 else len(head)]
            total = start + int(value)
        elif b"\r\ntransfer-encoding: chunked" in head:
            chunked_end = _chunked_end(buf, start)
            if chunked_end is None:
                return None
            total = chunked_end
        else:
            total = start  # 1xx, 204, 304: no body
        if len(buf) < total:
            return None
        del buf[:total]
        return status


def _chunked_end(buf: bytearray, pos: int) -> int | None:
    while True:
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
        if size == 0:
            trailer_end = buf.find(b"\r\n\r\n", line_end)
            if buf[line_end : line_end + 4] == b"\r\n\r\n":
                return line_end + 4
            return None if trailer_end < 0 else trailer_end + 4
        pos = line_end + 2 + size + 2
        if len(buf) < pos:
            return None


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser()
        self.waiter: asyncio.Future[int] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        for status in self.parser.feed(data):
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("server closed the connection"))

    async def exchange(self, payload: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return await asyncio.wait_for(self.waiter, RESPONSE_TIMEOUT_S)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def _connect(host: str, port: int) -> _Connection:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(_Connection, host, port)
    return protocol


async def _exchange(
    pool: list[_Connection], index: int, host: str, port: int, payload: bytes
) -> int | None:
    """One request on ``pool[index]``, reopening it first if the server closed it."""
    try:
        if pool[index].closed:
            pool[index] = await _connect(host, port)
        return await pool[index].exchange(payload)
    except (OSError, TimeoutError):
        pool[index].close()
        pool[index].closed = True
        return None


def check_target(host: str) -> None:
    if host not in LOOPBACK:
        raise ValueError(f"load goes to loopback only, not {host!r}")


async def saturate(
    host: str, port: int, request: Request, *, connections: int, duration: float
) -> Result:
    """Closed loop: every connection busy for ``duration`` seconds."""
    check_target(host)
    payload = request.encode(host, port)
    pool = [await _connect(host, port) for _ in range(connections)]
    start = clock()
    deadline = start + duration
    result = Result(duration=duration)

    async def worker(index: int) -> None:
        while (sent := clock()) < deadline:
            status = await _exchange(pool, index, host, port, payload)
            if status is None:
                result.errors += 1
                continue
            result.statuses[status] += 1
            result.latencies.append(clock() - sent)

    await asyncio.gather(*(worker(i) for i in range(connections)))
    result.duration = clock() - start
    for conn in pool:
        conn.close()
    return result


async def paced(
    host: str, port: int, request: Request, *, rate: float, connections: int, duration: float
) -> Result:
    """Open loop over HTTP/1.1: ``rate`` requests per second for ``duration`` seconds."""
    check_target(host)
    payload = request.encode(host, port)
    pool = [await _connect(host, port) for _ in range(connections)]
    try:
        return await paced_schedule(
            connections,
            lambda index: _exchange(pool, index, host, port, payload),
            rate=rate,
            duration=duration,
        )
    finally:
        for conn in pool:
            conn.close()


Exchange = Callable[[int], Awaitable[int | None]]
"""One request on lane ``index``: the answer's status, or None if there was no answer."""


async def paced_schedule(lanes: int, exchange: Exchange, *, rate: float, duration: float) -> Result:
    """``rate`` requests per second for ``duration`` seconds, due on a schedule, on ``lanes``
    lanes (a connection each over HTTP/1.1; one stream at a time each over HTTP/2).

    Each lane takes the next due slot as soon as it is free. A slot that fell due while every
    lane was busy has waited for the server: its latency runs from the slot's due time. A slot
    taken up by an idle lane is sent when the timer wakes the lane: its latency runs from the
    send, and the timer's lateness is recorded in ``lags`` instead.
    """
    total = max(1, int(rate * duration))
    interval = 1.0 / rate
    result = Result(duration=duration, scheduled=total)
    start = clock() + 0.01
    next_slot = 0

    async def lane(index: int) -> None:
        nonlocal next_slot
        free_since = clock()
        while next_slot < total:
            due = start + next_slot * interval
            next_slot += 1
            if due > free_since:  # idle until due: the generator's timer decides the send
                await asyncio.sleep(due - clock())
                sent = clock()
                result.lags.append(sent - due)
                begun = sent
            else:  # busy past due: the request waited for the server
                begun = due
            status = await exchange(index)
            free_since = clock()
            if status is None:
                result.errors += 1
                continue
            result.statuses[status] += 1
            result.latencies.append(free_since - begun)

    await asyncio.gather(*(lane(i) for i in range(lanes)))
    result.duration = clock() - start
    return result


def new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop is a dependency of the project
        return asyncio.new_event_loop()


def run_saturate(
    host: str,
    port: int,
    request: Request,
    *,
    connections: int,
    duration: float,
    processes: int = 1,
) -> Result:
    """:func:`saturate` in ``processes`` processes, ``connections`` shared out among them."""
    if processes <= 1:
        loop = new_loop()
        try:
            return loop.run_until_complete(
                saturate(host, port, request, connections=connections, duration=duration)
            )
        finally:
            loop.close()
    shares = [connections // processes + (i < connections % processes) for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = [
            pool.submit(run_saturate, host, port, request, connections=n, duration=duration)
            for n in shares
            if n > 0
        ]
        merged = Result(duration=0.0)
        for future in futures:
            merged.merge(future.result())
    return merged


def run_paced(
    host: str, port: int, request: Request, *, rate: float, connections: int, duration: float
) -> Result:
    loop = new_loop()
    try:
        return loop.run_until_complete(
            paced(host, port, request, rate=rate, connections=connections, duration=duration)
        )
    finally:
        loop.close()
