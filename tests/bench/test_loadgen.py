"""The benchmark's own tools count what the server really answered (no timing is asserted)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.load import loadgen, wrk
from bench.load.loadgen import Request, ResponseParser

CONNECTIONS = 4


@dataclass
class CountingServer:
    """A tiny HTTP/1.1 keep-alive server on a thread: /ok answers 200 with Content-Length,
    anything else 404 in chunks; it counts every answer it writes."""

    port: int = 0
    sent: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: dict[asyncio.StreamWriter, asyncio.Task[None]] = field(default_factory=dict)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.open[writer] = task
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode("latin-1").split("\r\n")
                fields = dict(line.partition(":")[::2] for line in lines[1:] if line)
                lengths = [v for k, v in fields.items() if k.lower() == "content-length"]
                await reader.readexactly(int(lengths[0]) if lengths else 0)
                if lines[0].split(" ")[1] == "/ok":
                    status, answer = 200, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                else:
                    status = 404
                    answer = (
                        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"3\r\nnot\r\n6\r\n found\r\n0\r\n\r\n"
                    )
                with self.lock:  # counted before it is written: the client cannot be ahead
                    self.sent[status] += 1
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open.pop(writer, None)
            writer.close()

    async def close_all(self) -> None:
        """Hang up on the clients still connected and let their handlers end (a connection
        left open when the loop closes is an unclosed transport, reported as a warning in
        whichever test the garbage collector happens to run in)."""
        handlers = list(self.open.values())
        for writer in list(self.open):
            writer.close()
        await asyncio.gather(*handlers, return_exceptions=True)
        for _ in range(2):  # a closed transport lets go of its socket on the next turns
            await asyncio.sleep(0)


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        server.port = listener.sockets[0].getsockname()[1]
        ready.set()
        async with listener:
            await stop.wait()
            await server.close_all()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield server
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)
    loop.close()


def test_saturation_counts_every_answer_the_server_sent(counting_server: CountingServer) -> None:
    result = loadgen.run_saturate(
        "127.0.0.1",
        counting_server.port,
        Request("GET", "/ok"),
        connections=CONNECTIONS,
        duration=0.5,
    )
    assert result.errors == 0
    assert result.answered > 0
    assert result.statuses == counting_server.sent
    assert len(result.latencies) == result.answered


def test_saturation_counts_chunked_error_answers_by_status(
    counting_server: CountingServer,
) -> None:
    result = loadgen.run_saturate(
        "127.0.0.1",
        counting_server.port,
        Request("POST", "/missing", body=b"{}"),
        connections=CONNECTIONS,
        duration=0.5,
    )
    assert set(result.statuses) == {404}
    assert result.statuses == counting_server.sent


def test_paced_pass_sends_exactly_the_scheduled_requests(counting_server: CountingServer) -> None:
    result = loadgen.run_paced(
        "127.0.0.1",
        counting_server.port,
        Request("GET", "/ok"),
        rate=200,
        connections=CONNECTIONS,
        duration=1.0,
    )
    assert result.scheduled == 200
    assert result.statuses == Counter({200: 200})
    assert counting_server.sent == Counter({200: 200})


def test_parser_splits_responses_arriving_byte_by_byte() -> None:
    stream = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\nnope\r\n0\r\nX-Trailer: 1\r\n\r\n"
        b"HTTP/1.1 204 No Content\r\n\r\n"
        b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n"
    )
    parser = ResponseParser()
    statuses = [s for i in range(len(stream)) for s in parser.feed(stream[i : i + 1])]
    assert statuses == [200, 404, 204, 401]
    assert parser.buffer == b""


def test_load_goes_only_to_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        loadgen.run_saturate("192.0.2.1", 80, Request("GET", "/"), connections=1, duration=0.1)


@pytest.mark.skipif(not wrk.available(), reason="wrk is not installed")
def test_wrk_script_counts_statuses_the_server_sent(
    counting_server: CountingServer, tmp_path: Path
) -> None:
    summary = wrk.run(
        counting_server.port,
        Request("POST", "/missing", (("Content-Type", "application/json"),), b"{}"),
        connections=CONNECTIONS,
        duration=1,
        work_dir=tmp_path,
    )
    sent = counting_server.sent[404]
    assert set(summary.statuses) == {404}
    # wrk stops with up to one request per connection in flight: answered but not counted.
    assert sent - CONNECTIONS <= summary.answered <= sent
    assert summary.answered > 0
