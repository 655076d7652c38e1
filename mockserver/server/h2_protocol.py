"""Our HTTP/2 server connection: the same ASGI app as HTTP/1.1, one task per stream.

:mod:`zitadel_mock.server.sniff` hands it every connection that opens with the HTTP/2 preface.
Scopes carry ``http_version`` "2" and the ``http.response.trailers`` extension (native gRPC needs
trailers); flow control is honoured both ways, and a stream reset, a GOAWAY or a lost connection
ends what depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any, Final, cast
from urllib.parse import unquote

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from h2.errors import ErrorCodes
from uvicorn.config import Config
from uvicorn.protocols.utils import get_local_addr, get_remote_addr
from uvicorn.server import ServerState

from zitadel_mock.server.h2_sending import ServerConnection
from zitadel_mock.server.h2_stream import HOP_BY_HOP, H2Stream, Headers
from zitadel_mock.server.limits import Slot, limit_log, port_state

MAX_CONCURRENT_STREAMS: Final = 256
REQUEST_PSEUDO_HEADERS: Final = frozenset({b":method", b":path", b":scheme", b":authority"})
STREAM_WINDOW: Final = 1 << 20
CONNECTION_WINDOW: Final = 1 << 24
DEFAULT_WINDOW: Final = 65535
STATUS_TEXT: Final = {code: str(code).encode() for code in range(200, 600)}
REMEMBERED_REQUESTS: Final = 64  # header blocks per connection whose reading is kept

# method, scheme, path, raw path, query string, the regular header fields
Request = tuple[str, str, str, bytes, bytes, tuple[tuple[bytes, bytes], ...]]

log = logging.getLogger("uvicorn.error")
access_log = logging.getLogger("uvicorn.access")


_UPPER_CASE: Final = re.compile(rb"[A-Z]")
_NUL_CR_LF: Final = re.compile(rb"[\0\r\n]")


def malformed_field(name: bytes, value: bytes) -> bool:
    """A regular request header field HTTP/2 forbids: upper case, connection-specific, a ``te``
    other than ``trailers``, or NUL/CR/LF in the value (white space at an end is let through)."""
    return (
        _UPPER_CASE.search(name) is not None
        or name in HOP_BY_HOP
        or (name == b"te" and value.strip().lower() != b"trailers")
        or _NUL_CR_LF.search(value) is not None
    )


def h2_config() -> h2.config.H2Configuration:
    """h2's configuration of a connection of ours.

    h2's own header validation turns any malformed header (even a value with white space at an
    end, which grpcio sends as given) into a connection error that ends every stream. Go's
    HTTP/2 server, under grpc-go and ZITADEL, is lenient with values and refuses a malformed
    request with a reset of that stream alone: :meth:`H2Protocol.scope` does that here.
    """
    return h2.config.H2Configuration(
        client_side=False,
        header_encoding=None,
        validate_inbound_headers=False,
        validate_outbound_headers=False,  # only headers we make go out
        normalize_outbound_headers=False,
    )


class H2Protocol(asyncio.Protocol):
    """An HTTP/2 server connection (RFC 9113) over the h2 state machine, serving an ASGI app."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.app = config.loaded_app
        self.root_path = config.root_path
        self.server_state = server_state
        self.app_state = app_state
        self.loop = _loop or asyncio.get_event_loop()
        self.port = port_state(config)
        self.limits = limits = self.port.limits
        self.slot: Slot | None = None  # handed over by the sniffing protocol
        self.log_access = config.access_log and access_log.hasHandlers()
        self.conn = ServerConnection(h2_config())
        self.conn.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_CONCURRENT_STREAMS,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: limits.max_header_list_size,
                h2.settings.SettingCodes.HEADER_TABLE_SIZE: limits.header_table_size,
            },
        )
        # In force at once, not only once the peer acknowledged our SETTINGS (h2 waits for that):
        # a header block past them is a connection error (GOAWAY ENHANCE_YOUR_CALM or
        # COMPRESSION_ERROR), as HPACK state past a refused block cannot be trusted.
        self.conn.decoder.max_header_list_size = limits.max_header_list_size
        self.conn.decoder.max_allowed_table_size = limits.header_table_size
        self.streams: dict[int, H2Stream] = {}
        self.requests: dict[tuple[tuple[bytes, bytes], ...], Request] = {}
        self.transport: asyncio.Transport | None = None
        self.closing = False  # a GOAWAY went one way or the other: no new streams
        self.writable = asyncio.Event()
        self.writable.set()
        self.flush_scheduled = False
        self.server: tuple[str, int | None] | None = None
        self.client: tuple[str, int] | None = None
        self.unanswered_control = 0  # PING and SETTINGS answered while the peer reads nothing
        self.calmed = False
        self.discarded = 0
        self.idle_timer: asyncio.TimerHandle | None = None
        self.idle_since: float | None = None  # when the last stream ended (None: one is open)

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.server_state.connections.add(self)  # type: ignore[arg-type]  # duck-typed there
        self.server = get_local_addr(self.transport)
        self.client = get_remote_addr(self.transport)
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(CONNECTION_WINDOW - DEFAULT_WINDOW)
        self.flush()
        self.arm_idle_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)
        self.closing = True
        self.stop_idle_timer()
        if self.slot is not None:
            self.slot.release()
            self.slot = None
        for stream in self.streams.values():
            stream.cancel()
        self.writable.set()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()
        self.unanswered_control = 0

    def data_received(self, data: bytes) -> None:
        if self.calmed:  # dropped; past max_output_buffer of it, not even read
            self.discarded += len(data)
            if self.discarded > self.limits.max_output_buffer and self.transport is not None:
                self.transport.pause_reading()
            return
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            # h2 has queued a GOAWAY naming the error; send it and hang up.
            if isinstance(exc, h2.exceptions.DenialOfServiceError):
                limit_log.hit("max_header_list_size", "HTTP/2 peer %s: %s", self.client, exc)
            else:
                log.debug("HTTP/2 protocol error from %s: %s", self.client, exc)
            self.flush()
            self.close()
            return
        for event in events:
            self.handle(event)
        if not self.writable.is_set():
            self.unanswered_control += sum(
                isinstance(e, h2.events.PingReceived | h2.events.RemoteSettingsChanged)
                for e in events
            )
            if self.unanswered_control > self.limits.max_queued_control_frames:
                self.calm("max_queued_control_frames")
                return
        # Only if this read made frames to send (a SETTINGS ack, a PING's answer, a reset):
        # a flush queued here for nothing would run right after the streams' tasks that this
        # read started, before those that the next connections' reads start, and the answers of
        # one turn would then leave one write at a time, with the work of a call between two
        # writes instead of all the turn's writes together (each lone write wakes an idle
        # client: about 20 µs of kernel time a call, bench/PROFILE.md).
        if self.conn.has_output():
            self.flush()

    def calm(self, limit: str) -> None:
        """GOAWAY ENHANCE_YOUR_CALM for a peer that makes us answer more than it reads.

        Nothing more is answered, our side is shut after the GOAWAY, and the connection is
        dropped after ``header_timeout``. What the peer sends meanwhile is read and dropped, up
        to ``max_output_buffer`` (a close with unread input makes the kernel send RST, which
        can lose the GOAWAY), then no longer read."""
        if self.calmed:
            return
        self.calmed = self.closing = True
        limit_log.hit(limit, "HTTP/2 peer %s reads nothing; GOAWAY ENHANCE_YOUR_CALM", self.client)
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self.conn.close_connection(ErrorCodes.ENHANCE_YOUR_CALM)
        for stream in self.streams.values():
            stream.cancel()
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        data = self.conn.data_to_send()
        if data:
            transport.write(data)
        if transport.can_write_eof():
            transport.write_eof()
        self.loop.call_later(self.limits.header_timeout, transport.abort)

    # -- the idle timer -----------------------------------------------------------------------

    # One timer per connection, not one per request: a stream's start and end only note the
    # time, and the timer, when it fires early, waits again for what is left.

    def arm_idle_timer(self) -> None:
        """The connection is idle from now (no stream open)."""
        self.idle_since = self.loop.time()
        if self.idle_timer is None:
            self.idle_timer = self.loop.call_later(self.limits.h2_idle_timeout, self.idle_timed_out)

    def cancel_idle_timer(self) -> None:
        """A stream is open: the connection is not idle (the timer, if set, will see it)."""
        self.idle_since = None

    def stop_idle_timer(self) -> None:
        self.idle_since = None
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None

    def idle_timed_out(self) -> None:
        """No stream for ``h2_idle_timeout``: GOAWAY NO_ERROR and hang up (as Go's IdleTimeout)."""
        self.idle_timer = None
        if self.streams or self.transport is None or self.transport.is_closing():
            return
        if self.idle_since is None:
            return  # a stream is open; the next end of one sets the timer again
        left = self.idle_since + self.limits.h2_idle_timeout - self.loop.time()
        if left > 0:  # a stream came and went since the timer was set
            self.idle_timer = self.loop.call_later(left, self.idle_timed_out)
            return
        log.debug("HTTP/2 connection from %s idle; closing", self.client)
        self.shutdown()

    def handle(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            self.start_stream(event.stream_id, event.headers or [])
        elif isinstance(event, h2.events.DataReceived):
            stream = self.streams.get(event.stream_id)
            flow = event.flow_controlled_length or 0
            if (
                stream is None
                or stream.reset
                or stream.response_complete
                or self.over_budget(stream, len(event.data or b""))
            ):
                self.acknowledge(event.stream_id, flow)
            else:
                stream.feed(event.data or b"", flow)
        elif isinstance(event, h2.events.StreamEnded):
            if (stream := self.streams.get(event.stream_id)) is not None:
                stream.end_request()
        elif isinstance(event, h2.events.StreamReset):
            if (stream := self.streams.get(event.stream_id)) is not None:
                stream.cancel()
        elif isinstance(event, h2.events.WindowUpdated | h2.events.RemoteSettingsChanged):
            targets = list(self.streams.values())
            if isinstance(event, h2.events.WindowUpdated) and event.stream_id:
                targets = [s for s in targets if s.id == event.stream_id]
            for stream in targets:
                stream.window_opened()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.closing = True
            if not self.streams:
                self.close()

    def shutdown(self) -> None:
        """uvicorn's graceful stop: GOAWAY now, hang up once the running streams are done."""
        if self.transport is None or self.transport.is_closing():
            return
        self.closing = True
        self.conn.close_connection()
        self.flush()
        if not self.streams:
            self.close()

    # -- streams ----------------------------------------------------------------------------

    def start_stream(self, stream_id: int, headers: Headers) -> None:
        if len(headers) > self.limits.max_header_count + len(REQUEST_PSEUDO_HEADERS):
            limit_log.hit("max_header_count", "HTTP/2 request from %s refused 431", self.client)
            self.conn.send_headers(stream_id, [(b":status", b"431")], end_stream=True)
            self.reset_stream(stream_id, ErrorCodes.NO_ERROR)
            return
        scope = self.scope(headers)
        if self.closing or scope is None:
            code = ErrorCodes.REFUSED_STREAM if self.closing else ErrorCodes.PROTOCOL_ERROR
            self.conn.reset_stream(stream_id, code)
            return
        stream = H2Stream(self, stream_id, scope)
        self.streams[stream_id] = stream
        self.cancel_idle_timer()
        task = self.loop.create_task(self.run(stream))
        self.server_state.tasks.add(task)
        task.add_done_callback(self.server_state.tasks.discard)

    def scope(self, headers: Headers) -> dict[str, Any] | None:
        """The ASGI scope of a request, or None for a malformed one (RFC 9113 8.2 and 8.3).

        A client sends the same header block call after call: what it says (the checks passed,
        method, path and headers) is kept per connection, keyed by the header list, and only
        the scope around it is new for each request."""
        key = tuple(headers)
        request = self.requests.get(key)
        if request is None:
            request = self.read_request(headers)
            if request is None:
                return None
            if len(self.requests) >= REMEMBERED_REQUESTS:
                self.requests.clear()
            self.requests[key] = request
        method, scheme, path, raw_path, query, plain = request
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "2",
            "method": method,
            "scheme": scheme,
            "path": path,
            "raw_path": raw_path,
            "query_string": query,
            "root_path": self.root_path,
            "headers": list(plain),
            "server": self.server,
            "client": self.client,
            "state": self.app_state.copy(),
            "extensions": {"http.response.trailers": {}},
        }

    def read_request(self, headers: Headers) -> Request | None:
        """What a request's header block says, or None if it is malformed."""
        pseudo: dict[bytes, bytes] = {}
        plain: Headers = []
        for name, value in headers:
            if name.startswith(b":"):
                if plain or name in pseudo or name not in REQUEST_PSEUDO_HEADERS:
                    return None
                pseudo[name] = value
            elif malformed_field(name, value):
                return None
            else:
                plain.append((name, value))
        method, target = pseudo.get(b":method"), pseudo.get(b":path")
        if method is None or target is None:
            return None  # CONNECT and other requests without a path are not served
        if b":authority" in pseudo and not any(name == b"host" for name, _ in plain):
            plain.insert(0, (b"host", pseudo[b":authority"]))
        raw_path, _, query = target.partition(b"?")
        return (
            method.decode("latin-1"),
            pseudo.get(b":scheme", b"http").decode("latin-1"),
            self.root_path + unquote(raw_path.decode("latin-1")),
            self.root_path.encode() + raw_path,
            query,
            tuple(plain),
        )

    async def run(self, stream: H2Stream) -> None:
        try:
            await self.app(stream.scope, stream.receive, stream.send)
        except Exception:
            log.exception("Exception in ASGI application")
            self.fail(stream)
        else:
            if not stream.response_complete and not stream.reset:
                log.error("ASGI callable returned without completing the response")
                self.fail(stream)
        finally:
            self.finish(stream)

    def fail(self, stream: H2Stream) -> None:
        """A 500 if nothing was sent yet, else RST_STREAM: the client must not take half."""
        if stream.reset:
            return
        if not stream.headers_sent:
            stream.status, stream.headers, stream.headers_sent = 500, [], True
            self.send_headers(stream, end_stream=True)
        else:
            self.reset_stream(stream.id, ErrorCodes.INTERNAL_ERROR)
        stream.response_complete = True
        self.flush()

    def over_budget(self, stream: H2Stream, size: int) -> bool:
        """Count ``size`` more request bytes for ``stream``; past ``max_stream_buffer`` or the
        process's ``max_total_buffer``, refuse the stream instead and return True."""
        limits, port = self.limits, self.port
        if stream.buffered + size > limits.max_stream_buffer:
            limit = "max_stream_buffer"
        elif port.buffered + size > limits.max_total_buffer:
            limit = "max_total_buffer"
        else:
            stream.buffered += size
            port.buffered += size
            return False
        limit_log.hit(
            limit, "HTTP/2 stream from %s refused (%d bytes held)", self.client, port.buffered
        )
        self.refuse(stream)
        return True

    def refuse(self, stream: H2Stream) -> None:
        """Give up a stream whose request is too large to hold: RESOURCE_EXHAUSTED (gRPC) or 413
        if nothing was answered yet, then RST_STREAM(NO_ERROR) to stop the upload (RFC 9113
        8.1); RST_STREAM(ENHANCE_YOUR_CALM), which gRPC reads as RESOURCE_EXHAUSTED, if the
        answer had begun. The app sees a disconnect."""
        if not stream.headers_sent:
            content_type = next(
                (v for n, v in stream.scope["headers"] if n == b"content-type"), b""
            )
            if content_type.startswith(b"application/grpc"):
                headers = [
                    (b":status", b"200"),
                    (b"content-type", content_type),
                    (b"grpc-status", b"8"),
                    (b"grpc-message", b"request larger than the mock buffers"),
                ]
                stream.status = 200
            else:
                headers = [(b":status", b"413")]
                stream.status = 413
            stream.headers_sent = True
            self.conn.send_headers(stream.id, headers, end_stream=True)
            self.reset_stream(stream.id, ErrorCodes.NO_ERROR)
        else:
            self.reset_stream(stream.id, ErrorCodes.ENHANCE_YOUR_CALM)
        self.acknowledge(stream.id, stream.unread_flow())
        stream.cancel()
        stream.response_complete = True
        self.flush()

    def finish(self, stream: H2Stream) -> None:
        self.streams.pop(stream.id, None)
        self.port.buffered -= stream.buffered
        stream.buffered = 0
        self.acknowledge(stream.id, stream.unread_flow())
        if stream.response_complete and not stream.request_complete and not stream.reset:
            self.reset_stream(stream.id, ErrorCodes.NO_ERROR)  # the answer is out; stop uploading
        self.flush()
        if self.log_access:
            access_log.info(
                '%s - "%s %s HTTP/%s" %d',
                f"{self.client[0]}:{self.client[1]}" if self.client else "-",
                stream.scope["method"],
                stream.scope["path"],
                "2",
                stream.status,
            )
        if self.closing and not self.streams:
            self.close()
        elif not self.streams:
            self.arm_idle_timer()

    # -- sending ----------------------------------------------------------------------------

    def send_headers(self, stream: H2Stream, end_stream: bool) -> None:
        status = stream.status
        headers = [
            (b":status", STATUS_TEXT.get(status) or str(status).encode()),
            *self.server_state.default_headers,
            *stream.headers,
        ]
        if status >= 200:  # a final answer, from headers we built
            self.conn.send_answer_headers(stream.id, headers, end_stream)
        else:
            self.conn.send_headers(stream.id, headers, end_stream=end_stream)
        self.flush()

    def send_trailers(self, stream: H2Stream, trailers: Headers) -> None:
        if trailers:
            self.conn.send_answer_headers(stream.id, trailers, True)
        else:
            self.conn.end_stream(stream.id)
        self.flush()

    def end_stream(self, stream: H2Stream) -> None:
        self.conn.end_stream(stream.id)
        self.flush()

    async def send_data(self, stream: H2Stream, data: bytes, end_stream: bool) -> None:
        """Send ``data`` as the peer's flow-control windows and our socket buffer allow."""
        if not stream.reset and self.writable.is_set():
            try:
                window = self.conn.local_flow_control_window(stream.id)
            except h2.exceptions.StreamClosedError:
                stream.cancel()
                return
            if len(data) <= min(window, self.conn.max_outbound_frame_size):
                # The common case, an answer that fits in one frame: no slicing.
                self.conn.send_data(stream.id, data, end_stream=end_stream)
                self.flush()
                return
        view = memoryview(data)
        while not stream.reset:
            if not self.writable.is_set():
                await self.writable.wait()
                continue
            try:
                window = self.conn.local_flow_control_window(stream.id)
            except h2.exceptions.StreamClosedError:
                stream.cancel()
                return
            size = min(window, self.conn.max_outbound_frame_size, len(view))
            if size <= 0 < len(view):
                await stream.wait_for_window()
                continue
            last = size == len(view)
            self.conn.send_data(stream.id, view[:size].tobytes(), end_stream=end_stream and last)
            self.flush()
            view = view[size:]
            if last:
                return

    def acknowledge(self, stream_id: int, flow: int) -> None:
        """Return ``flow`` bytes of window to the peer (on a closed stream: the connection's)."""
        if flow:
            self.conn.acknowledge_received_data(flow, stream_id)
            self.flush()

    def reset_stream(self, stream_id: int, code: ErrorCodes) -> None:
        with contextlib.suppress(h2.exceptions.StreamClosedError):
            self.conn.reset_stream(stream_id, code)

    def flush(self) -> None:
        """Write what h2 has queued, once per turn of the event loop: one syscall carries the
        frames of every stream that answered in that turn."""
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.loop.call_soon(self.write_out)

    def write_out(self) -> None:
        self.flush_scheduled = False
        data = self.conn.data_to_send()
        if self.calmed:
            return  # the GOAWAY went out last; nothing follows it
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)
            if (
                not self.calmed
                and self.transport.get_write_buffer_size() > self.limits.max_output_buffer
            ):
                self.calm("max_output_buffer")

    def close(self) -> None:
        """Hang up after what is queued (a GOAWAY, the last answers) has been written."""
        if self.calmed:
            return  # calm() hangs up
        if self.transport is not None and not self.transport.is_closing():
            self.write_out()
            self.transport.close()
