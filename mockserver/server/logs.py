"""Logs: one access line per request (request id, status, duration), as text or JSON lines.

The access line is written by :class:`AccessLog`, an ASGI wrapper, rather than by uvicorn (whose
line has no duration and no request id). It names the method, the path without its query string,
the status and the duration: never a header, a query value or a body, so never a secret or token.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER: Final = "zitadel_mock.access"
FORMATS: Final = ("text", "json")
REQUEST_ID_HEADER: Final = b"x-request-id"
MAX_REQUEST_ID: Final = 64
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
        msec_format = self.default_msec_format
        if datefmt is not None or msec_format is None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if self._second[0] != second:  # the same text as Formatter.formatTime's default
            self._second = (second, time.strftime(self.default_time_format, self.converter(second)))
        return msec_format % (self._second[1], record.msecs)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's own fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def log_config(log_format: str, level: str) -> dict[str, Any]:
    """A logging.config dict for uvicorn and the mock, in ``text`` or ``json``."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"}
        if log_format == "json"
        else {
            "()": f"{__name__}.TextFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        }
    )
    handler = {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}
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


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's ``X-Request-Id`` when it is short and printable, else a new random one."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            if 0 < len(text) <= MAX_REQUEST_ID and text.isprintable():
                return text
    return os.urandom(8).hex()  # 16 hex digits, as uuid4().hex[:16] gave, at a third the cost


_LOGGING_START: Final[float] = getattr(logging, "_startTime", time.time())


class AccessLog:
    """Logs each HTTP request when its response is done (or the connection dropped)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger(ACCESS_LOGGER)
        self._template: dict[str, Any] | None = None

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
                self.log.handle(self._record(scope, status[0] if status else None, duration))

    def _record(self, scope: Scope, status: int | None, duration: float) -> logging.LogRecord:
        """The access line's record, as ``log.info`` with these fields as ``extra`` would make it.

        Every request's record has the same logger, level, source, thread and process, so those
        fields are worked out once, in the serving thread, and copied (``LogRecord.__init__``
        works them out anew each time, a third of the line's cost); no format of ours shows the
        calling frame, which is not looked up."""
        template = self._template
        if template is None:
            record = self.log.makeRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, "", (), None)
            template = self._template = dict(vars(record))
        fields = {
            "request_id": request_id(scope["headers"]),
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": duration,
            "http_version": scope.get("http_version"),
        }
        record = logging.LogRecord.__new__(logging.LogRecord)
        record.__dict__.update(template)
        created = time.time()  # the three time fields as LogRecord.__init__ sets them
        record.created = created
        record.msecs = int((created - int(created)) * 1000) + 0.0
        record.relativeCreated = (created - _LOGGING_START) * 1000
        record.msg = "%s %s %s %.1fms request_id=%s"
        record.args = (
            fields["method"],
            fields["path"],
            status if status is not None else "-",
            duration,
            fields["request_id"],
        )
        record.__dict__.update(fields)
        return record
