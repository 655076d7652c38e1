"""Every limit of the port in one place: :class:`ServerLimits`, its defaults, and its settings.

Each field is a documented setting (docs/limits.md). A ``serve`` process reads them from the
environment, ``ZITADEL_MOCK_LIMIT_<FIELD>`` (``ZITADEL_MOCK_LIMIT_MAX_HEADER_BYTES=16384``), so that
worker processes inherit them; the defaults are sized for a laptop. Past a limit the port answers
as the protocol would (414, 431, RST_STREAM, GOAWAY ENHANCE_YOUR_CALM) and logs one line.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import resource
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

ENV_PREFIX: Final = "ZITADEL_MOCK_LIMIT_"
FD_RESERVE: Final = 64  # descriptors kept for the state file, logs and the listening socket
LOG_EVERY: Final = 10.0  # seconds between two log lines about the same limit

log = logging.getLogger("uvicorn.error")  # printed with uvicorn's own lines


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The port's limits. Sizes in bytes, times in seconds."""

    # HTTP/1.1 request head (Go's net/http counts both in MaxHeaderBytes and answers 431).
    max_request_line: int = 8192  # method, target and version: 414 past it
    max_header_bytes: int = 65536  # every header name and value: 431 past it
    max_header_count: int = 100  # 431 past it
    # HTTP/2: SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 6.5.2, counted as RFC 7541 4.1 does) and
    # SETTINGS_HEADER_TABLE_SIZE, the HPACK dynamic table the peer may fill.
    max_header_list_size: int = 65536
    header_table_size: int = 4096
    # Request bodies buffered by HTTP/2 streams that are not complete yet: per stream, and in total
    # over every connection of the process. Past either: RST_STREAM, or RESOURCE_EXHAUSTED / 413
    # when nothing was answered yet.
    max_stream_buffer: int = 8 << 20
    max_total_buffer: int = 64 << 20
    # Frames a peer makes us answer (PING, SETTINGS) while it reads nothing: GOAWAY
    # ENHANCE_YOUR_CALM past the count or once unread output passes max_output_buffer.
    max_queued_control_frames: int = 1000
    max_output_buffer: int = 16 << 20
    # Timeouts: the first request head (HTTP/1.1) or the preface (HTTP/2) must arrive within
    # header_timeout, and so must every later HTTP/1.1 head once begun; an HTTP/1.1 connection
    # with no request closes after keep_alive_timeout, an HTTP/2 one with no stream after
    # h2_idle_timeout (GOAWAY NO_ERROR first).
    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    h2_idle_timeout: float = 60.0
    # Open connections per process; a new one past it is closed at once. Lowered to what the
    # descriptor limit (RLIMIT_NOFILE) leaves.
    max_connections: int = 1000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerLimits:
        """The defaults, with every ``ZITADEL_MOCK_LIMIT_<FIELD>`` of ``environ`` applied."""
        env = os.environ if environ is None else environ
        values: dict[str, int | float] = {}
        for field in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + field.name.upper())
            if raw is None or raw == "":
                continue
            kind = float if field.type in ("float", float) else int
            try:
                value = kind(raw)
            except ValueError:
                raise ValueError(
                    f"{ENV_PREFIX}{field.name.upper()}={raw!r} is not a number"
                ) from None
            if value <= 0:
                raise ValueError(f"{ENV_PREFIX}{field.name.upper()} must be positive")
            values[field.name] = value
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        return {
            ENV_PREFIX + field.name.upper(): str(getattr(self, field.name))
            for field in dataclasses.fields(self)
        }

    def connection_cap(self) -> int:
        """``max_connections``, lowered to leave :data:`FD_RESERVE` descriptors free."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(1, min(self.max_connections, soft - FD_RESERVE))


class LimitLog:
    """One log line per limit and :data:`LOG_EVERY` seconds, with how often it was hit since."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def hit(self, limit: str, message: str, *args: object) -> None:
        now = time.monotonic()
        self._count[limit] = self._count.get(limit, 0) + 1
        last = self._last.get(limit)
        if last is not None and now - last < LOG_EVERY:
            return
        self._last[limit] = now
        count = self._count.pop(limit)
        log.warning("limit %s hit (%d times): " + message, limit, count, *args)


limit_log: Final = LimitLog()


class PortState:
    """What the connections of one process share: how many are open, how many request bytes
    their streams hold."""

    def __init__(self, limits: ServerLimits) -> None:
        self.limits = limits
        self.cap = limits.connection_cap()
        self.connections = 0
        self.buffered = 0


class Slot:
    """One open connection counted in :attr:`PortState.connections`; released once."""

    __slots__ = ("held", "port")

    def __init__(self, port: PortState) -> None:
        self.port = port
        self.held = True
        port.connections += 1

    def release(self) -> None:
        if self.held:
            self.held = False
            self.port.connections -= 1


def port_state(config: object) -> PortState:
    """The :class:`PortState` of this process, kept on uvicorn's config (one per worker: each
    worker unpickles its own copy), with the config's ``limits`` or the defaults."""
    state = getattr(config, "mock_port_state", None)
    if state is None:
        limits = getattr(config, "mock_limits", None) or ServerLimits()
        state = PortState(limits)
        setattr(config, "mock_port_state", state)  # noqa: B010 - uvicorn's Config has no slot
    assert isinstance(state, PortState)
    return state
