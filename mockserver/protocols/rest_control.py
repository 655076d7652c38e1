"""The control plane over HTTP: ``/__mock`` to the admin API; for every other request the
namespace, the forced outcome or fault, and a journal entry (see :mod:`zitadel_mock.control.plane`).

Faults need to drop a connection without an answer, which ASGI cannot express. The outermost app
calls :func:`remember_connection` with the server's own ``send``; with uvicorn that finds the
connection's transport and keeps its ``close`` in the scope (with our HTTP/2 protocol, the
stream's ``abort``, which resets the stream). Under a server where it finds none,
a fault that drops the connection raises instead (the server answers 500 or resets the stream).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zitadel_mock.control.admin.api import build_admin_app
from zitadel_mock.control.journal import redact_target
from zitadel_mock.control.outcomes import Fault
from zitadel_mock.control.plane import ControlPlane, ControlSettings
from zitadel_mock.control.watch import FixtureWatcher
from zitadel_mock.domain.errors import MockError
from zitadel_mock.fixtures.loader import demo_fixtures, load_fixtures_file
from zitadel_mock.operations.service import SecretService
from zitadel_mock.protocols.gateway import error_response

log = logging.getLogger("zitadel_mock.control.plane")

CLOSE_KEY: Final = "zitadel_mock.close"
ADMIN_PREFIX: Final = "/__mock"
OPERATION_PATH: Final = re.compile(
    r"/management/v1/projects/([^/]+)/apps/([^/]+)/oidc_config/_generate_client_secret"
)
MAX_CAPTURE: Final = 8192  # bytes of an error body read for the journal's code and message
STALL_CONTENT_LENGTH: Final = b"180"  # about the size of a success body, never sent


class ConnectionDropError(Exception):
    """Raised to make a server without a known transport drop or fail the response."""


def remember_connection(scope: Scope, send: Send) -> None:
    """Keep the server's way to drop this exchange in the scope: uvicorn's transport's ``close``
    for HTTP/1.1, our HTTP/2 stream's ``abort`` (a stream reset) for HTTP/2."""
    owner = getattr(send, "__self__", None)
    close = getattr(getattr(owner, "transport", None), "close", None) or getattr(
        owner, "abort", None
    )
    if callable(close):
        scope[CLOSE_KEY] = close


def _is_root_page(scope: Scope) -> bool:
    """``GET /``: the admin app answers it with a link to the page (other methods stay 404)."""
    return scope["path"] == "/" and scope["method"] in ("GET", "HEAD")


def file_digest(path: Path | None) -> str:
    """The digest the watcher compares: of the file's bytes, or of nothing for the demo."""
    data = path.read_bytes() if path is not None else b""
    return hashlib.sha256(data).hexdigest()


class ControlledApp:
    """Wraps the REST app: admin dispatch, forced outcomes, faults, journal, background tasks."""

    def __init__(
        self,
        rest: ASGIApp,
        admin: ASGIApp,
        control: ControlPlane,
        background: Callable[[], asyncio.Future[None]] | None = None,
    ) -> None:
        self.rest = rest
        self.admin = admin
        self.control = control
        self._background = background
        self._task: asyncio.Future[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.rest(scope, self._lifespan(receive), send)
            return
        if scope["type"] != "http":
            await self.rest(scope, receive, send)
            return
        path: str = scope["path"]
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/") or _is_root_page(scope):
            await self.admin(scope, receive, send)
            return
        await self._data(scope, receive, send)

    async def _data(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        match = OPERATION_PATH.fullmatch(scope["path"]) if method == "POST" else None
        raw_path = scope.get("raw_path") or scope["path"].encode()
        call = self.control.begin(
            transport="rest",
            method=method,
            path=redact_target(
                raw_path.decode("latin-1"), scope.get("query_string", b"").decode("latin-1")
            ),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            project_id=match[1] if match else None,
            app_id=match[2] if match else None,
            operation=match is not None,
        )
        recorder = _Recorder(send)
        note: str | None = None
        try:
            if call.error is not None:
                await send_error(recorder.send, call.error)
                return
            if call.delay_ms:
                await asyncio.sleep(call.delay_seconds)
            forced = call.forced_error()
            if call.fault is not None:
                note = await self._fault(call.fault, scope, receive, recorder.send)
            elif forced is not None:
                await send_error(recorder.send, forced, _FORCED_HEADERS.get(forced.row.name))
            else:
                await self.rest(scope, receive, recorder.send)
        finally:
            code, message = recorder.error()
            self.control.finish(
                call, status=recorder.status, grpc_code=code, message=note or message
            )

    async def _fault(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> str | None:
        """Apply ``fault``; returns a note for the journal."""
        if fault is Fault.CLOSE:
            await read_request(receive)  # a body left unread would turn the close into a reset
            await drop_connection(scope)
        elif fault is Fault.EMPTY:
            await send(_start(200, b"0"))
            await send({"type": "http.response.body", "body": b""})
        elif fault is Fault.STALL:
            await send(_start(200, STALL_CONTENT_LENGTH))
            await wait_for_disconnect(receive, self.control.settings.max_stall)
            await drop_connection(scope)
        else:
            messages: list[Message] = []

            async def keep(message: Message) -> None:
                messages.append(message)

            await self.rest(scope, receive, keep)
            status = messages[0]["status"] if messages else None
            if fault is Fault.LOST:
                await drop_connection(scope)
                return f"the call answered {status}; the response was dropped"
            body = b"".join(m.get("body", b"") for m in messages[1:])
            half = body[: len(body) // 2]
            await send(messages[0])
            await send({"type": "http.response.body", "body": half, "more_body": True})
            await drop_connection(scope)
            return f"{len(half)} of {len(body)} body bytes sent"
        return None

    def _lifespan(self, receive: Receive) -> Receive:
        async def lifespan_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup" and self._background is not None:
                self._task = self._background()
            elif message["type"] == "lifespan.shutdown":
                if self._task is not None:
                    self._task.cancel()
                self.control.journal.flush()
            return message

        return lifespan_receive


_FORCED_HEADERS: Final = {"method_not_allowed": {"Allow": "POST"}}


class _Recorder:
    """Passes a response through and keeps its status and, for errors, the start of its body."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None
        self._body = bytearray()
        self._capture = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self._capture = self.status is not None and self.status >= 400
        elif self._capture and len(self._body) < MAX_CAPTURE:
            self._body += message.get("body", b"")
        await self._send(message)

    def error(self) -> tuple[int | None, str | None]:
        """The gRPC code and message of a google.rpc.Status body, if that is what was sent."""
        if not self._body:
            return None, None
        try:
            body = json.loads(self._body)
        except ValueError:
            return None, None
        if not isinstance(body, dict):
            return None, None
        code, message = body.get("code"), body.get("message")
        return (
            code if isinstance(code, int) else None,
            message if isinstance(message, str) else None,
        )


async def send_error(send: Send, error: MockError, headers: dict[str, str] | None = None) -> None:
    """Answer ``error`` exactly as the REST adapter renders it."""
    response = error_response(error, headers)
    body: bytes = response.body
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def drop_connection(scope: Scope) -> None:
    """Close the connection now: what was sent is delivered, nothing more is."""
    close = scope.get(CLOSE_KEY)
    if close is None:
        raise ConnectionDropError("this server offers no way to drop a connection")
    close()
    await asyncio.sleep(0)  # let the server see the connection go before the app returns


async def read_request(receive: Receive) -> None:
    """Read the request body to its end (and forget it)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            return


async def wait_for_disconnect(receive: Receive, limit: float) -> None:
    """Wait until the client goes away, at most ``limit`` seconds."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnected(), limit)
    except TimeoutError:
        log.info("stall: held the response for the maximum of %s s", limit)


def _start(status: int, content_length: bytes) -> Message:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", content_length)],
    }


def with_control(
    rest: ASGIApp,
    service: SecretService,
    *,
    fixtures_path: Path | None,
    seed: int | None,
    settings: ControlSettings,
    watch: bool = False,
) -> ControlledApp:
    """The control plane over ``rest``: baseline from the fixture file, admin app, watcher."""
    fixtures = load_fixtures_file(fixtures_path) if fixtures_path else demo_fixtures()
    digest = file_digest(fixtures_path)
    control = ControlPlane(service, fixtures, digest, settings=settings, seed=seed)
    background = None
    if watch and fixtures_path is not None:
        watcher = FixtureWatcher(fixtures_path, control, digest)

        def background() -> asyncio.Future[None]:
            return asyncio.ensure_future(watcher.run())

    return ControlledApp(rest, build_admin_app(control), control, background)
