"""REST, gRPC-web and native gRPC on one port: HTTP/1.1 by uvicorn's httptools, HTTP/2 by us.

uvicorn is given :class:`SniffingProtocol` as its HTTP protocol. It reads the first bytes of each
connection: the HTTP/2 connection preface (prior knowledge, as gRPC clients speak cleartext
HTTP/2) hands the connection to :class:`~zitadel_mock.server.h2_protocol.H2Protocol`, anything else
to
uvicorn's own HttpToolsProtocol, untouched.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final, cast

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

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
        self._transport: asyncio.Transport | None = None
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        if len(buffer) < len(PREFACE) and PREFACE.startswith(buffer):
            self._buffer = buffer
            return
        protocol_class = H2Protocol if buffer.startswith(PREFACE) else HttpToolsProtocol
        protocol: asyncio.Protocol = protocol_class(*self._args)
        assert self._transport is not None
        self._transport.set_protocol(protocol)
        protocol.connection_made(self._transport)
        protocol.data_received(buffer)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
