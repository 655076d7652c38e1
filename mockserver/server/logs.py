"""Logs: one access line per request (request id, status, duration), as text or JSON lines.

The access line is written by :class:`AccessLog`, an ASGI wrapper, rather than by uvicorn (whose
line has no duration and no request id). It names the method, the path without its query string,
the status and the duration: never a header, a query value or a body, so never a secret or token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER: Final = "zitadel_mock.access"
FORMATS: Final = ("text", "json")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# method, path, status, ms, request id; TextFormatter.access_writer spells it out in an f-string
# (test_logs holds the two to the same bytes)
ACCESS_MESSAGE: Final = "%s %s %s %.1fms request_id=%s"
REQUEST_ID_HEADER: Final = b"x-request-id"
MAX_REQUEST_ID: Final = 64
HOLD_LINES: Final = 1024  # access lines held at most, about 130 KiB of text
# The fields of a log record that are ours, for the JSON line (the rest is logging's own).
_STANDARD: Final = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's message with terminal colours
}


class TextFormatter(logging.Formatter):
    """logging's own text format, its time written once per second rather than per line."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(fmt, datefmt)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        if datefmt is not None or self.default_msec_format is None:
            return super().formatTime(record, datefmt)
        return self._time_text(record.created, record.msecs)

    def _time_text(self, created: float, msecs: float) -> str:
        """Formatter.formatTime's default text for ``created``, its second's text cached."""
        second = int(created)
        if self._second[0] != second:
            self._second = (second, time.strftime(self.default_time_format, self.converter(second)))
        return self.default_msec_format % (self._second[1], msecs)  # type: ignore[operator]

    def writes_access_lines(self) -> bool:
        """Whether :meth:`access_line` gives this formatter's line (its format is log_config's)."""
        return (
            self._fmt == TEXT_FORMAT
            and self.datefmt is None
            and self.default_msec_format is not None
        )

    def access_writer(self, hold: Callable[[str], None], terminator: str) -> LineWriter:
        """What writes, through ``hold``, the line :meth:`format` writes for the access record
        of a request, without the record or its fields: one f-string (its parts as
        ``ACCESS_MESSAGE`` formats them). Making the fields, the message, then the line took
        about 5,900 more instructions of the 615,000 of a REST success with the access log on
        (``bench/studies/instructions.py``)."""
        time_text = self._time_text
        head = f" INFO {ACCESS_LOGGER}: "

        def write(created: float, scope: Scope, status: int | None, duration: float) -> None:
            hold(
                f"{time_text(created, _msecs(created))}{head}{scope['method']} {scope['path']} "
                f"{'-' if status is None else status} {duration:.1f}ms "
                f"request_id={request_id(scope['headers'])}{terminator}"
            )

        return write


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's own fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return _json_line(
            record.created, record.levelname, record.name, record.getMessage(), fields
        )

    def writes_access_lines(self) -> bool:
        return True

    def access_writer(self, hold: Callable[[str], None], terminator: str) -> LineWriter:
        def write(created: float, scope: Scope, status: int | None, duration: float) -> None:
            fields = _fields(scope, status, duration)
            message = ACCESS_MESSAGE % _arguments(fields)
            hold(_json_line(created, "INFO", ACCESS_LOGGER, message, fields) + terminator)

        return write


def _json_line(created: float, level: str, name: str, message: str, fields: dict[str, Any]) -> str:
    line: dict[str, Any] = {
        "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
        "level": level.lower(),
        "logger": name,
        "message": message,
    }
    line.update(fields)
    return json.dumps(line, default=str)


def log_config(log_format: str, level: str) -> dict[str, Any]:
    """A logging.config dict for uvicorn and the mock, in ``text`` or ``json``."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"}
        if log_format == "json"
        else {"()": f"{__name__}.TextFormatter", "fmt": TEXT_FORMAT}
    )
    handler = {
        "class": f"{__name__}.HeldStreamHandler",
        "formatter": "main",
        "stream": "ext://sys.stderr",
    }
    loggers = {
        name: {"handlers": ["main"], "level": level.upper(), "propagate": False}
        for name in ("uvicorn", "uvicorn.error", "zitadel_mock", "zitadel_contract")
    }
    loggers["uvicorn.access"] = {"handlers": [], "level": "CRITICAL", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "loggers": loggers,
    }


class HeldStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """logging's StreamHandler, which also takes access lines (:func:`direct_writer`) and holds
    them for up to ``hold_seconds``, or until :data:`HOLD_LINES` are held, then writes them in
    one go, as Envoy's file access log does (it flushes each second). A write and a flush per
    turn of the event loop cost about 3 µs of each REST success under wrk (server CPU per
    request as started by default, alternating runs: 132-133 µs then, 129-130 µs held);
    a tenth of a second is still at once for a person watching the log. A record of any other
    logger, and a flush (logging's at exit too), writes what is held first: the stream's lines
    keep the order in which they were made, and a stop loses none (uvicorn logs its shutdown)."""

    def __init__(self, stream: Any = None, hold_seconds: float = 0.1) -> None:
        super().__init__(stream)
        self.hold_seconds = hold_seconds
        self._held: list[str] = []
        # The event loop whose timer will write what is held; None while no timer is set.
        self._timed_by: asyncio.AbstractEventLoop | None = None

    def hold(self, line: str) -> None:
        """Write ``line`` (whole, its terminator included) within :attr:`hold_seconds` on the
        running event loop; at once where none runs in this thread."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self.acquire()
        try:
            self._held.append(line)
            if loop is None or len(self._held) >= HOLD_LINES:
                self._write_held()
            elif self._timed_by is not loop:  # none set, or set on a loop that has ended
                self._timed_by = loop
                loop.call_later(self.hold_seconds, self._time_is_up)
        finally:
            self.release()

    def _time_is_up(self) -> None:
        self.acquire()
        try:
            self._timed_by = None
            self._write_held()
        finally:
            self.release()

    def _write_held(self) -> None:
        """Write the held lines (the handler's lock held)."""
        held = self._held
        if not held:
            return
        self._held = []
        try:
            self.stream.write(held[0] if len(held) == 1 else "".join(held))
            self.stream.flush()
        except Exception:
            attributes = {"name": ACCESS_LOGGER, "levelno": logging.INFO, "levelname": "INFO"}
            self.handleError(logging.makeLogRecord({**attributes, "msg": held[0]}))

    def emit(self, record: logging.LogRecord) -> None:
        self._write_held()  # Handler.handle holds the lock
        super().emit(record)

    def flush(self) -> None:
        self.acquire()
        try:
            self._write_held()
        finally:
            self.release()
        super().flush()


class _RandomIds:
    """16 hex digits of the operating system's randomness per call, drawn 4 KiB at a time (one
    ``os.urandom`` per line was a system call each)."""

    def __init__(self) -> None:
        self._pool = b""
        self._at = 0

    def __call__(self) -> str:
        at = self._at
        if at + 8 > len(self._pool):
            self._pool, at = os.urandom(4096), 0
        self._at = at + 8
        return self._pool[at : at + 8].hex()


_random_id: Final = _RandomIds()


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's ``X-Request-Id`` when it is short and printable, else a new random one."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            if 0 < len(text) <= MAX_REQUEST_ID and text.isprintable():
                return text
    return _random_id()


_LOGGING_START: Final[float] = getattr(logging, "_startTime", time.time())


def _msecs(created: float) -> float:
    return int((created - int(created)) * 1000) + 0.0  # as LogRecord.__init__ sets msecs


class _Unresolved:
    pass


_UNRESOLVED: Final = _Unresolved()
# Writes the access line of a request that ended at ``created`` (time.time()): its scope, status
# (None: no response was started) and duration in ms.
LineWriter = Callable[[float, Scope, int | None, float], None]


def direct_writer(log: logging.Logger) -> LineWriter | None:
    """A way to write ``log``'s access lines without a LogRecord, where its set-up is the one
    :func:`log_config` makes (no filter, one :class:`HeldStreamHandler` reached, one of our
    formatters): the same bytes as ``log.handle(record)`` would write, at a fraction of the
    cost, held by the handler for a moment. ``None`` for any other set-up, which gets logging's
    own path. A stream that fails is reported by the handler's
    ``handleError``, as logging reports it."""
    handlers: list[logging.Handler] = []
    current: logging.Logger | None = log
    while current is not None:  # the handlers Logger.callHandlers reaches
        if current.filters or current.disabled:
            return None
        handlers += current.handlers
        current = current.parent if current.propagate else None
    if len(handlers) != 1:
        return None
    handler = handlers[0]
    formatter = handler.formatter
    if (
        type(handler) is not HeldStreamHandler
        or handler.filters
        or handler.level > logging.INFO
        or not isinstance(formatter, TextFormatter | JsonFormatter)
        or not formatter.writes_access_lines()
    ):
        return None
    return formatter.access_writer(handler.hold, handler.terminator)


class AccessLog:
    """Logs each HTTP request when its response is done (or the connection dropped)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger(ACCESS_LOGGER)
        self._template: dict[str, Any] | None = None
        self._writer: LineWriter | _Unresolved | None = _UNRESOLVED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[int] = []

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            if self.log.isEnabledFor(logging.INFO):
                duration = round((time.perf_counter() - started) * 1000, 3)
                self._write(scope, status[0] if status else None, duration)

    def _write(self, scope: Scope, status: int | None, duration: float) -> None:
        writer = self._writer
        if isinstance(writer, _Unresolved):  # once logging is configured: at the first line
            writer = self._writer = direct_writer(self.log)
        if writer is None:
            self.log.handle(self._record(_fields(scope, status, duration)))
            return
        writer(time.time(), scope, status, duration)

    def _record(self, fields: dict[str, Any], created: float | None = None) -> logging.LogRecord:
        """The access line's record, as ``log.info`` with these fields as ``extra`` would make it.

        Every request's record has the same logger, level, source, thread and process, so those
        fields are worked out once, in the serving thread, and copied (``LogRecord.__init__``
        works them out anew each time, a third of the line's cost); no format of ours shows the
        calling frame, which is not looked up."""
        template = self._template
        if template is None:
            record = self.log.makeRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, "", (), None)
            template = self._template = dict(vars(record))
        record = logging.LogRecord.__new__(logging.LogRecord)
        record.__dict__.update(template)
        created = time.time() if created is None else created  # the time fields as __init__'s
        record.created = created
        record.msecs = _msecs(created)
        record.relativeCreated = (created - _LOGGING_START) * 1000
        record.msg = ACCESS_MESSAGE
        record.args = _arguments(fields)
        record.__dict__.update(fields)
        return record


def _fields(scope: Scope, status: int | None, duration: float) -> dict[str, Any]:
    """An access line's own fields (the JSON line's keys beside time, level, logger, message)."""
    return {
        "request_id": request_id(scope["headers"]),
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": duration,
        "http_version": scope.get("http_version"),
    }


def _arguments(fields: dict[str, Any]) -> tuple[Any, ...]:
    status = fields["status"]
    return (
        fields["method"],
        fields["path"],
        status if status is not None else "-",
        fields["duration_ms"],
        fields["request_id"],
    )
