"""Logs: one access line per request (request id, status, duration), as text or JSON lines.

The access line is written by :class:`AccessLog`, an ASGI wrapper, rather than by uvicorn (whose
line has no duration and no request id). It names the method, the path without its query string,
the status and the duration: never a header, a query value or a body, so never a secret or token.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
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
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
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
    return uuid.uuid4().hex[:16]


class AccessLog:
    """Logs each HTTP request when its response is done (or the connection dropped)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger(ACCESS_LOGGER)

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
            duration = round((time.perf_counter() - started) * 1000, 3)
            fields = {
                "request_id": request_id(scope["headers"]),
                "method": scope["method"],
                "path": scope["path"],
                "status": status[0] if status else None,
                "duration_ms": duration,
                "http_version": scope.get("http_version"),
            }
            self.log.info(
                "%s %s %s %.1fms request_id=%s",
                fields["method"],
                fields["path"],
                fields["status"] if status else "-",
                duration,
                fields["request_id"],
                extra=fields,
            )
