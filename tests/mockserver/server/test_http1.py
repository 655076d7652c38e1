"""HTTP/1.1's writes: what one turn of the event loop writes leaves in one write, in order."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from tests.conftest import PORTAL, WEB, LiveServer, rotate_path
from zitadel_mock.server.http1 import TurnWrites


class RecordingTransport(asyncio.Transport):
    """What reaches the transport under TurnWrites: each write, and the calls around them."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.calls.append(("close", b""))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", b""))
        self.closing = True

    def write_eof(self) -> None:
        self.calls.append(("write_eof", b""))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 1) if name == "peername" else default


async def next_turn() -> None:
    await asyncio.sleep(0)


def test_the_writes_of_one_turn_leave_as_one_write_at_its_end() -> None:
    async def scenario() -> list[tuple[str, bytes]]:
        real = RecordingTransport()
        turn = TurnWrites(real, asyncio.get_running_loop())
        turn.write(b"HTTP/1.1 200 OK\r\n\r\n")
        turn.write(bytearray(b"{}"))
        assert real.calls == []  # held until the turn ends
        assert turn.get_write_buffer_size() == 21
        await next_turn()
        turn.write(b"next")  # a later turn: a write of its own
        await next_turn()
        return real.calls

    assert asyncio.run(scenario()) == [("write", b"HTTP/1.1 200 OK\r\n\r\n{}"), ("write", b"next")]


def test_closing_aborting_and_ending_write_what_is_held_first() -> None:
    async def scenario(end: str) -> list[tuple[str, bytes]]:
        real = RecordingTransport()
        turn = TurnWrites(real, asyncio.get_running_loop())
        turn.write(b"last words")
        getattr(turn, end)()
        await next_turn()
        return real.calls

    for end in ("close", "abort", "write_eof"):
        assert asyncio.run(scenario(end)) == [("write", b"last words"), (end, b"")]


def test_a_transport_that_closed_meanwhile_gets_nothing_and_the_rest_is_the_transports() -> None:
    async def scenario() -> list[tuple[str, bytes]]:
        real = RecordingTransport()
        turn = TurnWrites(real, asyncio.get_running_loop())
        turn.write(b"lost")
        real.closing = True  # the peer went in the same turn
        await next_turn()
        assert turn.get_extra_info("peername") == ("127.0.0.1", 1)
        assert turn.is_closing()
        return real.calls

    assert asyncio.run(scenario()) == []


def test_a_pipelined_pair_is_answered_in_order_over_a_socket(server: LiveServer) -> None:
    """Two requests in one packet: two whole answers, the first one first, over a socket."""
    path = rotate_path(PORTAL, WEB)
    authorized = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer admin-pat\r\n"
        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    )
    anonymous = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall((authorized + anonymous).encode())
        reader = conn.makefile("rb")
        statuses = [read_response(reader) for _ in range(2)]
    assert statuses == [200, 401]


def read_response(reader: Any) -> int:
    """One HTTP/1.1 response with a Content-Length from ``reader``; its status."""
    status = int(reader.readline().split()[1])
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    assert len(reader.read(length)) == length
    return status
