"""REST, gRPC-web and native gRPC on one port: HTTP/1.1 by uvicorn's httptools, HTTP/2 by us.

uvicorn is given :class:`SniffingProtocol` as its HTTP protocol. It reads the first bytes of each
connection: the HTTP/2 connection preface (prior knowledge, as gRPC clients speak cleartext
HTTP/2) hands the connection to :class:`~zitadel_mock.server.h2_protocol.H2Protocol`, anything else
to :class:`~zitadel_mock.server.http1.Http1Protocol` (uvicorn's HttpToolsProtocol with limits).

It also counts the connection against ``max_connections`` (one past it is closed at once, with a
log line) and closes one that sends no complete first bytes within ``header_timeout``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final, cast

from uvicorn.config import Config
from uvicorn.server import ServerState

from zitadel_mock.server.http1 import Http1Protocol
from zitadel_mock.server.limits import Slot, limit_log, port_state

if TYPE_CHECKING:
    from zitadel_mock.server.h2_protocol import H2Protocol

PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class SniffingProtocol(asyncio.Protocol):
    """Waits for enough bytes to tell HTTP/2 from HTTP/1.1, then hands the connection over."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._args = (config, server_state, app_state, _loop)
        self._port = port_state(config)
        self._loop = _loop or asyncio.get_event_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._slot: Slot | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        port = self._port
        if port.connections >= port.cap:
            limit_log.hit(
                "max_connections",
                "%d connections open; closing a new one from %s",
                port.connections,
                transport.get_extra_info("peername"),
            )
            self._transport.abort()
            return
        self._slot = Slot(port)
        self._timer = self._loop.call_later(port.limits.header_timeout, self._timed_out)

    def _timed_out(self) -> None:
        self._timer = None
        if self._transport is not None and not self._transport.is_closing():
            limit_log.hit(
                "header_timeout",
                "no request head within %s s; closing the connection from %s",
                self._port.limits.header_timeout,
                self._transport.get_extra_info("peername"),
            )
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        if len(buffer) < len(PREFACE) and PREFACE.startswith(buffer):
            self._buffer = buffer
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        protocol: H2Protocol | Http1Protocol
        if buffer.startswith(PREFACE):
            # Imported at the first HTTP/2 connection (or by serving.warm_up before): h2's
            # import is not on the way to the first HTTP/1.1 answer.
            from zitadel_mock.server.h2_protocol import H2Protocol  # noqa: PLC0415

            protocol = H2Protocol(*self._args)
        else:
            protocol = Http1Protocol(*self._args)
        protocol.slot, self._slot = self._slot, None
        assert self._transport is not None
        self._transport.set_protocol(protocol)
        protocol.connection_made(self._transport)
        protocol.data_received(buffer)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._slot is not None:
            self._slot.release()
            self._slot = None
        self._transport = None
