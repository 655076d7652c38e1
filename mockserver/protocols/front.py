"""The HTTP front: what ZITADEL's server does before any handler, as ASGI middleware.

CORS for browsers, the path kept as grpc-gateway matches it (``%2F`` stays inside an id), and
dispatch (by Content-Type to gRPC, by path to the control plane's admin API). Also the
lifespan: background tasks from startup to shutdown. Each class is one layer in starlette's
style, ``Layer(app, ...)`` with ``async __call__(scope, receive, send)``; ``zitadel_mock.app``
stacks them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, Final
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zitadel_proto.wire import wire_of

EXPOSED_HEADERS: Final = (
    "grpc-status, grpc-message, grpc-status-details-bin, www-authenticate, x-mock-namespace"
)
ALLOWED_METHODS: Final = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
DEFAULT_ALLOWED_HEADERS: Final = (
    "authorization, content-type, x-zitadel-orgid, x-grpc-web, x-user-agent, grpc-timeout, "
    "prefer, x-mock-namespace"
)


class Cors:
    """CORS for the given origins (``*``: any): preflights answered here, the response headers
    added to every answer. A request from another origin gets no CORS headers (its preflight a
    bare 204): the browser refuses it. Where ``by_name_only(scope)`` holds (the control plane's
    ``/__mock``), ``*`` does not count: only the origins given by name are answered."""

    def __init__(
        self,
        app: ASGIApp,
        origins: Iterable[str],
        *,
        by_name_only: Callable[[Scope], bool] | None = None,
    ) -> None:
        self.app = app
        origins = tuple(origins)
        self._any_origin = "*" in origins
        self._origins = {o.encode() for o in origins}
        self._by_name_only = by_name_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = _last(scope["headers"], b"origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        preflight = scope["method"] == "OPTIONS" and b"access-control-request-method" in headers
        any_origin = self._any_origin and not (self._by_name_only and self._by_name_only(scope))
        if not (any_origin or origin in self._origins):
            if preflight:  # answered, without CORS headers: the browser refuses (as rs/cors)
                await _refused_preflight(send)
                return
            await self.app(scope, receive, send)  # no CORS headers: the browser refuses
            return
        if preflight:
            await self._preflight(origin, headers, send)
            return
        await self.app(scope, receive, _with_cors(send, origin))

    @staticmethod
    async def _preflight(origin: bytes, headers: dict[bytes, bytes], send: Send) -> None:
        requested = headers.get(b"access-control-request-headers", DEFAULT_ALLOWED_HEADERS.encode())
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    (b"access-control-allow-origin", origin),
                    (b"access-control-allow-credentials", b"true"),
                    (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                    (b"access-control-allow-headers", requested),
                    (b"access-control-max-age", b"600"),
                    (b"vary", b"Origin"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


async def _refused_preflight(send: Send) -> None:
    vary = b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    await send({"type": "http.response.start", "status": 204, "headers": [(b"vary", vary)]})
    await send({"type": "http.response.body", "body": b""})


def _with_cors(send: Send, origin: bytes) -> Send:
    async def cors_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {
                **message,
                "headers": [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", origin),
                    (b"access-control-allow-credentials", b"true"),
                    (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
                    (b"vary", b"Origin"),
                ],
            }
        await send(message)

    return cors_send


class KeepEncodedSlashes:
    """Routes are matched the way grpc-gateway does: ``%2F`` inside a segment stays in the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"%" in (scope.get("raw_path") or b""):
            scope = keep_encoded_slashes(scope)
        await self.app(scope, receive, send)


def keep_encoded_slashes(scope: Scope) -> Scope:
    """``scope`` with its path decoded segment by segment, ``%2F`` kept (or ``scope`` itself)."""
    raw: bytes | None = scope.get("raw_path")
    if not raw or b"%2f" not in raw.lower():
        return scope
    segments = raw.split(b"?", 1)[0].decode("latin-1").split("/")
    path = "/".join(unquote(s).replace("/", "%2F") for s in segments)
    return {**scope, "path": path}


class ByContentType:
    """Requests whose Content-Type is gRPC's or gRPC-web's go to ``grpc``, the rest to ``app``."""

    def __init__(self, app: ASGIApp, *, grpc: ASGIApp) -> None:
        self.app = app
        self.grpc = grpc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        http = scope["type"] == "http"
        if http and wire_of(_last(scope["headers"], b"content-type")) is not None:
            await self.grpc(scope, receive, send)
            return
        await self.app(scope, receive, send)


class ByPath:
    """HTTP requests for which ``when(scope)`` holds go to ``to``, the rest to ``app``."""

    def __init__(self, app: ASGIApp, *, to: ASGIApp, when: Callable[[Scope], bool]) -> None:
        self.app = app
        self.to = to
        self.when = when

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.when(scope):
            await self.to(scope, receive, send)
            return
        await self.app(scope, receive, send)


Background = Callable[[], Coroutine[Any, Any, None]]


class Lifespan:
    """Runs each ``background`` task from startup to shutdown, then each of ``on_shutdown``. The
    lifespan messages go on to ``app``, which answers them."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        background: Sequence[Background] = (),
        on_shutdown: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.app = app
        self.background = tuple(background)
        self.on_shutdown = tuple(on_shutdown)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        tasks: list[asyncio.Task[None]] = []

        async def lifespan_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                tasks.extend(asyncio.ensure_future(run()) for run in self.background)
            elif message["type"] == "lifespan.shutdown":
                for task in tasks:
                    task.cancel()
                for hook in self.on_shutdown:
                    hook()
            return message

        await self.app(scope, lifespan_receive, send)


def _last(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The last value of header ``name`` (as a dict of the headers would hold it)."""
    found = None
    for key, value in headers:
        if key == name:
            found = value
    return found
