"""One HTTP/2 stream seen as an ASGI request: its ``receive``, its ``send``, and its state.

The stream only keeps state and translates ASGI messages; the connection
(:class:`zitadel_mock.server.h2_protocol.H2Protocol`) owns the h2 state machine and the socket.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any, Final

from h2.errors import ErrorCodes

if TYPE_CHECKING:
    from zitadel_mock.server.h2_protocol import H2Protocol

# RFC 9113 8.2.2: connection-specific header fields must not appear in HTTP/2.
HOP_BY_HOP: Final = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)
Headers = list[tuple[bytes, bytes]]


def response_headers(raw: Any) -> Headers:
    """ASGI response headers as HTTP/2 wants them: lower-case names, no hop-by-hop fields."""
    out: Headers = []
    for name, value in raw or ():
        # Most fields come as lower-case bytes already: kept as they are (a third of the cost).
        if type(name) is bytes and type(value) is bytes and name.islower():
            if name not in HOP_BY_HOP:
                out.append((name, value))
            continue
        lowered = bytes(name).lower()
        if lowered not in HOP_BY_HOP:
            out.append((lowered, bytes(value)))
    return out


class H2Stream:
    """The request side buffers DATA until the app reads it (that read returns the flow-control
    credit); the response side sends HEADERS, DATA and trailers through the connection."""

    def __init__(self, connection: H2Protocol, stream_id: int, scope: dict[str, Any]) -> None:
        self.connection = connection
        self.id = stream_id
        self.scope = scope
        self.chunks: deque[tuple[bytes, int]] = deque()
        self.buffered = 0  # request bytes counted against the limits until the stream is done
        self.request_complete = False
        self.body_delivered = False
        self.reset = False  # reset by the peer, or the connection is gone
        self.status = 0
        self.headers: Headers = []
        self.response_started = False
        self.headers_sent = False
        self.body_finished = False
        self.expect_trailers = False
        self.trailers: Headers = []
        self.response_complete = False
        # Made only when a reader or a sender has to wait (most calls never do).
        self.readable: asyncio.Event | None = None
        self.window_open: asyncio.Event | None = None

    # -- events from the connection ---------------------------------------------------------

    def feed(self, data: bytes, flow_controlled_length: int) -> None:
        self.chunks.append((data, flow_controlled_length))
        if self.readable is not None:
            self.readable.set()

    def end_request(self) -> None:
        self.request_complete = True
        if self.readable is not None:
            self.readable.set()

    def window_opened(self) -> None:
        """The peer gave window: a sender waiting for it goes on."""
        if self.window_open is not None:
            self.window_open.set()

    async def wait_for_window(self) -> None:
        if self.window_open is None:
            self.window_open = asyncio.Event()
        self.window_open.clear()
        await self.window_open.wait()

    def cancel(self) -> None:
        """The peer reset the stream or the connection was lost: nothing more goes either way."""
        self.reset = True
        if self.readable is not None:
            self.readable.set()
        self.window_opened()

    def abort(self) -> None:
        """Drop this exchange as a lost connection would, but alone: RST_STREAM(CANCEL); the
        connection and its other streams go on."""
        if not self.reset:
            self.connection.reset_stream(self.id, ErrorCodes.CANCEL)
            self.connection.flush()
        self.cancel()
        self.response_complete = True

    def unread_flow(self) -> int:
        """Flow-control credit of DATA received but never read; the caller returns it."""
        if not self.chunks:
            return 0
        total = sum(flow for _, flow in self.chunks)
        self.chunks.clear()
        return total

    # -- ASGI -------------------------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        while True:
            if self.reset:
                return {"type": "http.disconnect"}
            if self.chunks:
                data, flow = self.chunks.popleft()
                self.connection.acknowledge(self.id, flow)
                more = bool(self.chunks) or not self.request_complete
                self.body_delivered = not more
                return {"type": "http.request", "body": data, "more_body": more}
            if self.request_complete and not self.body_delivered:
                self.body_delivered = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if self.response_complete:
                return {"type": "http.disconnect"}
            if self.readable is None:
                self.readable = asyncio.Event()
            self.readable.clear()
            await self.readable.wait()

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if self.reset:
            return
        if self.response_complete:
            raise RuntimeError(f"{kind!r} sent after the response was complete")
        if not self.response_started:
            if kind != "http.response.start":
                raise RuntimeError(f"expected 'http.response.start', got {kind!r}")
            self.response_started = True
            self.status = int(message["status"])
            self.headers = response_headers(message.get("headers"))
            self.expect_trailers = bool(message.get("trailers", False))
        elif kind == "http.response.body" and not self.body_finished:
            await self._send_body(bytes(message.get("body", b"")), message.get("more_body", False))
        elif kind == "http.response.trailers" and self.expect_trailers and self.body_finished:
            self.trailers += response_headers(message.get("headers"))
            if not message.get("more_trailers", False):
                self.connection.send_trailers(self, self.trailers)
                self.response_complete = True
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an HTTP/2 stream")

    async def _send_body(self, body: bytes, more: bool) -> None:
        end = not more and not self.expect_trailers
        if not self.headers_sent:
            self.headers_sent = True
            self.connection.send_headers(self, end_stream=end and not body)
            if end and not body:
                self.body_finished = self.response_complete = True
                return
        if body:
            await self.connection.send_data(self, body, end_stream=end)
        elif end:
            self.connection.end_stream(self)
        if not more:
            self.body_finished = True
            self.response_complete = end
