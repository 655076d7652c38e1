"""Connexion's apps are built in the background: the port answers the operation before they are
built, and a request for them that comes early waits and gets the answer it would get later."""

from __future__ import annotations

import asyncio
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.conftest import PORTAL, WEB, rotate_path
from tests.support.rest_requests import Request, build_mock, call, write_fixtures
from tests.support.threaded_server import serving
from zitadel_mock.app import MockApp
from zitadel_mock.protocols import gateway_app
from zitadel_mock.protocols.deferred import Deferred

ROTATE = (
    f"POST {rotate_path(PORTAL, WEB)} HTTP/1.1\r\nHost: mock\r\n"
    "Authorization: Bearer admin-pat\r\nContent-Type: application/json\r\n"
    "Content-Length: 2\r\nConnection: close\r\n\r\n{}"
).encode()
# One request for connexion's app of openapi.yaml, one for the admin API (built after it).
NOT_FOUND = b"GET /no/such/path HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
ADMIN = b"GET /__mock/outcomes HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
HELD_BACK = 0.3  # seconds an early request is watched for an answer while the build is held


class HeldBuild:
    """connexion's build of openapi.yaml, held back until released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.build = gateway_app.build_rest_app

    def __call__(self) -> ASGIApp:
        self.started.set()
        assert self.release.wait(30), "never released"
        app: ASGIApp = self.build()
        return app


@contextmanager
def listening(app: MockApp) -> Iterator[int]:
    """``app`` served by uvicorn with its lifespan, as ``zitadel-mock serve`` serves it."""
    with serving(app, lifespan="on") as (port, _halt):
        yield port


def send(port: int, request: bytes) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn.sendall(request)
    return conn


def answer(conn: socket.socket) -> bytes:
    """The whole answer (the request asked to close), without its Date header."""
    with conn:
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"date:")]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def answered_yet(conn: socket.socket, within: float) -> bool:
    return bool(select.select([conn], [], [], within)[0])


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> HeldBuild:
    held = HeldBuild()
    monkeypatch.setattr(gateway_app, "build_rest_app", held)
    return held


def test_the_operation_is_answered_while_connexions_build_is_held(
    held: HeldBuild, tmp_path: Path
) -> None:
    with listening(build_mock(write_fixtures(tmp_path))) as port:
        assert held.started.wait(30)  # the lifespan's startup began it, no request did
        rotated = answer(send(port, ROTATE))
        held.release.set()
    assert rotated.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b'"clientSecret"' in rotated


def test_a_request_for_connexion_during_its_build_waits_and_gets_the_later_answer(
    held: HeldBuild, tmp_path: Path
) -> None:
    with listening(build_mock(write_fixtures(tmp_path))) as port:
        assert held.started.wait(30)
        early = [send(port, NOT_FOUND), send(port, ADMIN)]
        assert not any(answered_yet(conn, HELD_BACK) for conn in early)
        held.release.set()
        first = [answer(conn) for conn in early]
        later = [answer(send(port, NOT_FOUND)), answer(send(port, ADMIN))]
    assert first == later
    assert first[0].startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert first[0].endswith(b'{"code":5,"message":"Not Found"}')
    assert first[1].startswith(b"HTTP/1.1 200 OK\r\n")


def test_without_a_lifespan_the_first_request_for_connexion_starts_its_build(
    tmp_path: Path,
) -> None:
    mock = build_mock(write_fixtures(tmp_path))
    assert all(part.app is None for part in mock.deferred)
    got = asyncio.run(call(mock, Request("GET", "/no/such/path", (), b"")))
    assert got.status == 404
    assert got.body == b'{"code":5,"message":"Not Found"}'


def test_a_waiter_that_is_cancelled_leaves_the_build_to_finish() -> None:
    release = threading.Event()
    answered: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})

    def build() -> ASGIApp:
        release.wait(30)
        return app

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def keep(message: Message) -> None:
        answered.append(message)

    part = Deferred(build, "a test app")

    async def cancel_one_waiter() -> None:
        waiter = asyncio.ensure_future(part({"type": "http"}, receive, keep))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        release.set()
        await part({"type": "http"}, receive, keep)

    asyncio.run(cancel_one_waiter())
    assert [m["status"] for m in answered] == [204]
