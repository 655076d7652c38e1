"""HTTP/1.1: uvicorn's httptools protocol, with a bounded request head and a head-read timeout.

httptools sets no limit of its own on the request line or the headers, and uvicorn keeps every
header of a request. Here the request line past ``max_request_line`` is answered 414, the headers
past ``max_header_bytes`` or ``max_header_count`` 431 (as Go's net/http under ZITADEL answers
past its MaxHeaderBytes), and a head begun but not finished within ``header_timeout`` closes the
connection. Idle keep-alive connections close after ``keep_alive_timeout``: one timer of the
event loop per spell of idleness that it may end, where uvicorn arms one after every response.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from zitadel_mock.server.limits import Slot, limit_log, port_state

# The event a streaming response (the journal's server-sent events) waits on to end at a stop:
# uvicorn waits for every response in flight before it stops, and a stream never ends by itself.
STOPPING: Final = "zitadel_mock.stopping"
REASONS: Final = {414: b"URI Too Long", 431: b"Request Header Fields Too Large"}
# After a refusal the rest of the request is read and dropped for a moment (as Go's net/http
# does before it closes): closing with unread input makes the kernel send RST, and the client
# may lose the answer. At most this long and this much.
LINGER: Final = 1.0
LINGER_BYTES: Final = 16 << 20


class HeadTooLargeError(Exception):
    """Raised from a parser callback: the request head passed a limit."""

    def __init__(self, status: int, limit: str) -> None:
        super().__init__(limit)
        self.status = status
        self.limit = limit


class TurnWrites:
    """A connection's transport whose writes in one turn of the event loop leave as one write.

    uvicorn writes a response's head as soon as the app starts the response and its body as the
    app sends it: two system calls, and on TCP two segments the client reads one after the other,
    for what the app hands over in one go. Here each write is held until the turn of the loop
    ends (``call_soon``), joined with those that follow it in the same turn, and written then:
    the same bytes, in the same order, with no wait for anything else (a streamed response's
    head still leaves before its first event, at the end of the turn that wrote it). Closing,
    aborting and ``write_eof`` write what is held first; the rest is the transport's own.
    """

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            self._loop.call_soon(self._flush)
        self._held.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        held = self._held
        if not held:
            return
        self._held = []
        if not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._flush()
        self._transport.abort()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return sum(map(len, self._held)) + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class Http1Protocol(HttpToolsProtocol):
    """HttpToolsProtocol that counts the request head as the parser reports it, and writes what
    one turn of the loop wrote in one write (:class:`TurnWrites`)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = port_state(config).limits
        self.slot: Slot | None = None
        self.in_head = False
        self.head_raw = 0  # bytes fed while a head is being parsed (httptools buffers a field)
        self.head_budget = (
            self.limits.max_request_line
            + self.limits.max_header_bytes
            + 4 * self.limits.max_header_count
            + 4
        )
        self.url_bytes = 0
        self.head_timer: asyncio.TimerHandle | None = None
        self.refused = False
        self.discard_left = LINGER_BYTES
        self.stopping = asyncio.Event()
        self.idle_since: float | None = None  # the loop's time of the last response, if idle

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(TurnWrites(transport, self.loop))  # type: ignore[arg-type]

    def shutdown(self) -> None:
        self.stopping.set()
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None
        if self.slot is not None:
            self.slot.release()
            self.slot = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            self.discard_left -= len(data)
            if self.discard_left <= 0:
                self.transport.close()
            return
        self._unset_keepalive_if_required()
        if self.in_head:
            self.head_raw += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, HeadTooLargeError):
                self.refuse(exc.__context__)
                return
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self.in_head:
            if self.head_raw > self.head_budget:
                self.refuse(HeadTooLargeError(431, "max_header_bytes"))
            elif self.head_timer is None:  # the rest of the head is yet to come
                self.head_timer = self.loop.call_later(
                    self.limits.header_timeout, self._head_timed_out
                )

    # -- keep-alive ---------------------------------------------------------------------------
    # uvicorn cancels its keep-alive timer when data arrives and arms a new one after each
    # response: a timer made and dropped per request (about 1.4 µs of uvloop's). Here data only
    # marks the connection busy; a timer that comes due finds it busy and lapses (the next
    # response arms another), or idle for less than the timeout and waits the rest, or idle for
    # the whole timeout and closes it, as uvicorn's would have.

    def _unset_keepalive_if_required(self) -> None:
        self.idle_since = None

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:  # a pipelined request waits: it runs now, the connection stays busy
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self.idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self._arm_keep_alive(self.timeout_keep_alive)

    def _arm_keep_alive(self, delay: float) -> None:
        self.timeout_keep_alive_task = self.loop.call_later(delay, self.timeout_keep_alive_handler)

    def timeout_keep_alive_handler(self) -> None:
        self.timeout_keep_alive_task = None
        if self.idle_since is None:
            return
        left = self.idle_since + self.timeout_keep_alive - self.loop.time()
        if left > 0:
            self._arm_keep_alive(left)
            return
        super().timeout_keep_alive_handler()

    def refuse(self, error: HeadTooLargeError) -> None:
        """Answer ``error.status`` and close, as a server does that will not read the head."""
        self._cancel_head_timer()
        limit_log.hit(
            error.limit, "refused a request head from %s with %d", self.client, error.status
        )
        text = b"%d %s" % (error.status, REASONS[error.status])
        head = [b"HTTP/1.1 %d %s\r\n" % (error.status, REASONS[error.status])]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: text/plain; charset=utf-8\r\n")
        head.append(b"content-length: %d\r\nconnection: close\r\n\r\n" % len(text))
        self.transport.write(b"".join(head) + text)
        self.in_head = False
        self.refused = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER, self.transport.close)
        else:
            self.transport.close()

    # -- parser callbacks ---------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True
        self.head_raw = self.url_bytes = 0
        self._cancel_head_timer()

    def on_url(self, url: bytes) -> None:
        self.url_bytes += len(url)
        if self.url_bytes > self.limits.max_request_line:
            raise HeadTooLargeError(414, "max_request_line")
        super().on_url(url)

    def on_headers_complete(self) -> None:
        self.in_head = False
        self._cancel_head_timer()
        headers = self.headers  # as uvicorn kept them, every one
        if len(headers) > self.limits.max_header_count:
            raise HeadTooLargeError(431, "max_header_count")
        if sum(len(name) + len(value) for name, value in headers) > self.limits.max_header_bytes:
            raise HeadTooLargeError(431, "max_header_bytes")
        super().on_headers_complete()
        if self.scope is not None:  # the app's task has not started yet
            extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
            extensions[STOPPING] = self.stopping

    # -- the head-read timer ------------------------------------------------------------------

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.in_head and not self.transport.is_closing():
            limit_log.hit(
                "header_timeout",
                "request head from %s not complete within %s s; closing",
                self.client,
                self.limits.header_timeout,
            )
            self.transport.close()
