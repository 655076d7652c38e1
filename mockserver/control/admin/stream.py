"""``GET /__mock/journal/stream``: the journal as server-sent events (admin.yaml documents it).

Each new entry of the namespace (the JSON ``GET /__mock/journal`` answers, already redacted when
it was recorded) is one event whose ``id`` is the entry's id. The stream reads the shared journal
in SQLite, so it sees the entries of every worker. A fresh stream starts with the newest ``limit``
matching entries; a reconnect that sends ``Last-Event-ID`` (EventSource does) gets every matching
entry after that id, so nothing is missed in between.

It ends when the client goes away, after :data:`LIFETIME` seconds (EventSource then reconnects
with ``Last-Event-ID``), or as soon as the server begins to shut down (the HTTP/1.1 protocol puts
an event for that in the scope's extensions as :data:`STOPPING`), so it never holds up a stop.
Under ``--admin-token`` it needs the token in ``X-Mock-Admin-Token`` like every other call (an
EventSource cannot send it: the page polls instead).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zitadel_mock.control.plane import ControlPlane
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.headers import NAMESPACE_HEADER

PATH: Final = "/__mock/journal/stream"
STOPPING: Final = "zitadel_mock.stopping"  # scope["extensions"][STOPPING]: an asyncio.Event
POLL: Final = 0.25  # seconds between two reads of the shared journal
HEARTBEAT: Final = 15.0  # seconds without an event before a comment line
LIFETIME: Final = 300.0  # seconds a stream lasts before it ends (the client reconnects)
RETRY_MS: Final = 1000
BATCH: Final = 500  # entries read at once
MAX_LIMIT: Final = 100000


@dataclass(frozen=True)
class Query:
    """What one stream follows."""

    ns: str
    app_id: str | None
    status: int | None
    limit: int


class StreamError(Exception):
    """A query parameter that is not valid: answered 400 before the stream starts."""


class JournalStream:
    """Serves :data:`PATH`; hands every other request to ``app``."""

    def __init__(self, app: ASGIApp, control: ControlPlane) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            named, app_id, status, limit = _filters(scope.get("query_string", b""))
            ns = self.control.namespace(named or headers.get(NAMESPACE_HEADER.lower()))
            after = _last_id(headers.get("last-event-id", ""))
        except MockError as exc:
            await _error(send, exc.http_status, int(exc.code), exc.message)
            return
        except StreamError as exc:
            await _error(send, 400, 3, str(exc))
            return
        extensions: dict[str, Any] = scope.get("extensions") or {}
        stopping: asyncio.Event = extensions.get(STOPPING) or asyncio.Event()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-store"),
                    (b"x-accel-buffering", b"no"),
                ],
            }
        )
        await _chunk(send, f"retry: {RETRY_MS}\n\n")
        gone = asyncio.ensure_future(_disconnected(receive))
        stop = asyncio.ensure_future(stopping.wait())
        try:
            await self._follow(send, Query(ns, app_id, status, limit), after, (gone, stop))
        finally:
            gone.cancel()
            stop.cancel()
        if not gone.done():
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _follow(
        self,
        send: Send,
        query: Query,
        after: int | None,
        ends: tuple[asyncio.Future[Any], ...],
    ) -> None:
        journal = self.control.journal
        started = last_sent = time.monotonic()
        while True:
            if after is None:
                newest = _newest(self.control, query.ns)
                entries = journal.read(query.ns, query.app_id, query.status, query.limit)
                after = entries[-1]["id"] if entries else newest
            else:
                entries = journal.read(query.ns, query.app_id, query.status, BATCH, after)
            for entry in entries:
                data = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
                await _chunk(send, f"id: {entry['id']}\ndata: {data}\n\n")
                after = entry["id"]
            now = time.monotonic()
            if entries:
                last_sent = now
            elif now - last_sent >= HEARTBEAT:
                await _chunk(send, ": heartbeat\n\n")
                last_sent = now
            if now - started >= LIFETIME:
                return
            if len(entries) < BATCH:
                done, _ = await asyncio.wait(ends, timeout=POLL)
                if done:
                    return


def _newest(control: ControlPlane, ns: str) -> int:
    """The id to follow from when the namespace has no matching entry yet: its newest, or 0."""
    newest = control.journal.read(ns, None, None, 1)
    return int(newest[-1]["id"]) if newest else 0


def _filters(query: bytes) -> tuple[str | None, str | None, int | None, int]:
    """namespace (an EventSource cannot send X-Mock-Namespace), app, status, limit."""
    params = parse_qs(query.decode("utf-8", "replace"), keep_blank_values=True)
    unknown = sorted(set(params) - {"namespace", "app", "status", "limit"})
    if unknown:
        raise StreamError(f"unknown query parameter {unknown[0][:40]!r}")
    app_id = params["app"][-1] if "app" in params else None
    status = _number(params, "status", 100, 599)
    limit = _number(params, "limit", 1, MAX_LIMIT)
    named = params["namespace"][-1] if "namespace" in params else None
    return named, app_id, status, 100 if limit is None else limit


def _number(params: dict[str, list[str]], name: str, low: int, high: int) -> int | None:
    if name not in params:
        return None
    text = params[name][-1]
    if not text.isdigit() or not low <= int(text) <= high:
        raise StreamError(f"{name} must be a whole number from {low} to {high}")
    return int(text)


def _last_id(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


async def _disconnected(receive: Receive) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _chunk(send: Send, text: str) -> None:
    await send({"type": "http.response.body", "body": text.encode(), "more_body": True})


async def _error(send: Send, status: int, code: int, message: str) -> None:
    body = json.dumps({"code": code, "message": message, "details": []}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
