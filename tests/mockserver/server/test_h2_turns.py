"""HTTP/2's writes across connections: the calls read in one turn of the event loop are all run
before any of their answers is written, and what a read itself makes (a PING's answer) leaves at
the end of that turn."""

from __future__ import annotations

import asyncio
from typing import Any

import h2.config
import h2.connection
import h2.events
import uvloop
from uvicorn.config import Config
from uvicorn.server import ServerState

from zitadel_mock.server.h2_protocol import H2Protocol

Events = list[tuple[str, int]]


class RecordingTransport(asyncio.Transport):
    """A connection's transport that notes each write, by connection, in a shared list (what
    else these scenarios would call of it is asyncio's NotImplementedError)."""

    def __init__(self, number: int, events: Events, written: list[bytes]) -> None:
        super().__init__()
        self.number = number
        self.events = events
        self.written = written

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.events.append(("write", self.number))
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 40000)}.get(
            name, default
        )


def recording_app(events: Events) -> Any:
    """An ASGI app that notes each call it runs (by the number in its path) and answers 200."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        events.append(("app", int(scope["path"].strip("/"))))
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


class Peer:
    """One connection: our protocol over a recording transport, and an h2 client talking to it."""

    def __init__(self, number: int, config: Config, events: Events) -> None:
        self.written: list[bytes] = []
        self.transport = RecordingTransport(number, events, self.written)
        self.protocol = H2Protocol(config, ServerState(), {})
        self.protocol.connection_made(self.transport)
        self.client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.client.initiate_connection()
        self.protocol.data_received(self.client.data_to_send())
        self.number = number

    def read_back(self) -> list[h2.events.Event]:
        events = self.client.receive_data(b"".join(self.written))
        self.written.clear()
        return events

    def call_bytes(self) -> bytes:
        stream_id = self.client.get_next_available_stream_id()
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":authority", "127.0.0.1"),
            (":path", f"/{self.number}"),
        ]
        self.client.send_headers(stream_id, headers)
        self.client.send_data(stream_id, b"{}", end_stream=True)
        return self.client.data_to_send()


async def settled() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def connected(events: Events, count: int) -> list[Peer]:
    config = Config(app=recording_app(events), lifespan="off", access_log=False)
    return [Peer(number, config, events) for number in range(count)]


def test_calls_read_in_one_turn_all_run_before_the_first_answer_is_written() -> None:
    async def scenario() -> Events:
        events: Events = []
        peers = connected(events, 3)
        await settled()
        for peer in peers:
            peer.read_back()  # the SETTINGS and their acknowledgements
            peer.client.data_to_send()
        events.clear()
        for peer in peers:  # three connections' reads in one turn, as one epoll wake hands over
            peer.protocol.data_received(peer.call_bytes())
        await settled()
        for peer in peers:
            answered = [e for e in peer.read_back() if isinstance(e, h2.events.StreamEnded)]
            assert len(answered) == 1
            peer.protocol.stop_idle_timer()
        return events

    events = uvloop.run(scenario())
    assert events == [("app", 0), ("app", 1), ("app", 2), ("write", 0), ("write", 1), ("write", 2)]


def test_a_read_that_makes_an_answer_writes_it_at_the_end_of_its_turn() -> None:
    async def scenario() -> tuple[Events, list[h2.events.Event]]:
        events: Events = []
        (peer,) = connected(events, 1)
        await settled()
        peer.read_back()
        peer.client.data_to_send()
        events.clear()
        peer.client.ping(b"12345678")
        peer.protocol.data_received(peer.client.data_to_send())
        assert events == []  # not yet: at the end of the turn
        await settled()
        peer.protocol.stop_idle_timer()
        return events, peer.read_back()

    events, answers = uvloop.run(scenario())
    assert events == [("write", 0)]
    (answer,) = answers
    assert isinstance(answer, h2.events.PingAckReceived)
    assert answer.ping_data == b"12345678"
