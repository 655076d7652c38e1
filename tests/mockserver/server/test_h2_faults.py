"""An ASGI app that fails never takes the HTTP/2 connection down with it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from h2.errors import ErrorCodes

from tests.conftest import ROOT, free_port
from tests.support.h2client import H2Client


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.faulty_app", str(port)], cwd=ROOT
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(10)


def get(client: H2Client, path: str) -> tuple[int, int | None, bytes]:
    answer = client.wait(client.start(path, method="GET", end_stream=True))
    return answer.status, answer.reset, bytes(answer.data)


def test_the_scope_says_http_2_and_offers_trailers(port: int) -> None:
    client = H2Client(port)
    try:
        assert get(client, "/") == (200, None, b"2 ['http.response.trailers']")
    finally:
        client.close()


def test_an_app_that_raises_before_answering_gives_a_500(port: int) -> None:
    client = H2Client(port)
    try:
        assert get(client, "/raise-before-start")[:2] == (500, None)
        assert get(client, "/")[0] == 200  # the connection still serves
    finally:
        client.close()


def test_an_app_that_raises_mid_answer_gets_its_stream_reset(port: int) -> None:
    client = H2Client(port)
    try:
        status, reset, _ = get(client, "/raise-after-start")
        assert (status, reset) == (200, ErrorCodes.INTERNAL_ERROR)
        assert get(client, "/")[0] == 200
    finally:
        client.close()


def test_an_app_that_returns_without_answering_gives_a_500(port: int) -> None:
    client = H2Client(port)
    try:
        assert get(client, "/return-early")[:2] == (500, None)
    finally:
        client.close()


def test_http_1_1_on_the_same_port_reaches_the_same_app(port: int) -> None:
    # HTTP/1.1 offers no trailers; it does tell the app when the server begins to stop (for the
    # journal's event stream, server/http1.py).
    answer = httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text
    assert answer == "1.1 ['zitadel_mock.stopping']"
