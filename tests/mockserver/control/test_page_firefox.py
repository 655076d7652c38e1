"""The page in Debian's Firefox ESR, headless.

Its ``--screenshot`` renders ``/__mock/`` (taken at the load event: the page's HTML and CSS as
Firefox lays them out, not what the script fetches later); and, driven over WebDriver BiDi, the
page's script runs there: a journal entry arrives through the event stream. The page's other
behaviour is driven in Chromium (test_page_browser.py). Skipped where firefox-esr is missing
(`make test` installs it).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
import zlib
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.conftest import WEB, LiveServer, free_port
from tests.support.browser import command
from tests.support.control_helpers import fresh_ns, rotate

FIREFOX = shutil.which("firefox-esr")
WIDTH, HEIGHT = 1400, 1000

pytestmark = pytest.mark.skipif(FIREFOX is None, reason="firefox-esr is not installed")


def screenshot(url: str, folder: Path, name: str) -> bytes:
    assert FIREFOX is not None
    out = folder / f"{name}.png"
    home = folder / f"home-{name}"
    home.mkdir()
    subprocess.run(
        [FIREFOX, "--headless", "--screenshot", str(out), f"--window-size={WIDTH},{HEIGHT}", url],
        env={**os.environ, "HOME": str(home), "MOZ_CRASHREPORTER_DISABLE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=120,
    )
    return out.read_bytes()


def png_size_and_rows(png: bytes) -> tuple[tuple[int, int], int]:
    """(width, height) and how many distinct scanlines the picture has (a blank one has 1)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    at, data, size = 8, b"", (0, 0)
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            data += body
        at += 12 + length
    raw = zlib.decompress(data)
    stride = len(raw) // size[1]
    # Each scanline starts with its filter byte; identical raw lines under the same filter are
    # identical pixels, which is enough to tell a blank picture from a drawn one.
    return size, len({raw[i * stride : (i + 1) * stride] for i in range(size[1])})


def test_firefox_renders_the_page(server: LiveServer, tmp_path: Path) -> None:
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
    empty = screenshot(blank.as_uri(), tmp_path, "empty")
    page = screenshot(f"{server.url}/__mock/", tmp_path, "page")
    (empty_size, empty_rows), (page_size, page_rows) = (
        png_size_and_rows(empty),
        png_size_and_rows(page),
    )
    assert empty_size == page_size == (WIDTH, HEIGHT)
    assert empty_rows <= 2  # the check below can tell: a blank page has (almost) one line
    assert page_rows > 100  # headings, tables and form controls drawn over many lines


class Firefox:
    """Firefox ESR headless, driven over WebDriver BiDi (its remote agent, no geckodriver)."""

    def __init__(self, folder: Path) -> None:
        assert FIREFOX is not None
        port = free_port()
        profile = folder / "profile"
        profile.mkdir()
        self.process = subprocess.Popen(
            [FIREFOX, "--headless", f"--remote-debugging-port={port}", "--profile", str(profile)],
            env={**os.environ, "HOME": str(folder), "MOZ_CRASHREPORTER_DISABLE": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._next_id = 0
        self._stack = ExitStack()
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"ws://127.0.0.1:{port}/session"
                self.ws: ClientConnection = self._stack.enter_context(connect(url, max_size=None))
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise
                time.sleep(0.2)
        self.send("session.new", capabilities={})
        self.context = self.send("browsingContext.getTree")["contexts"][0]["context"]

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message = command(self.ws, self._next_id, method, params)
        assert message.get("type") != "error", message
        result: dict[str, Any] = message["result"]
        return result

    def load(self, url: str) -> None:
        self.send("browsingContext.navigate", context=self.context, url=url, wait="complete")

    def evaluate(self, expression: str) -> Any:
        target = {"context": self.context}
        answer = self.send(
            "script.evaluate", expression=expression, target=target, awaitPromise=False
        )
        assert answer.get("type") == "success", answer
        return answer["result"].get("value")

    def wait_for(self, condition: str, what: str) -> None:
        deadline = time.monotonic() + 20
        while not self.evaluate(condition):
            if time.monotonic() > deadline:
                raise AssertionError(f"Firefox never showed {what}")
            time.sleep(0.1)

    def close(self) -> None:
        self._stack.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def test_in_firefox_the_journal_entry_arrives_through_the_stream(
    server: LiveServer, tmp_path: Path
) -> None:
    firefox = Firefox(tmp_path)
    try:
        ns = fresh_ns()
        firefox.load(f"{server.url}/__mock/#{ns}")
        firefox.wait_for(
            f"!!document.querySelector('#apps tr[data-app=\"{WEB}\"]')", "the demo apps"
        )
        firefox.wait_for(
            "document.getElementById('journal-live').dataset.via === 'stream'", "the stream open"
        )
        assert rotate(server, ns).status_code == 200
        rows = "[...document.querySelectorAll('#journal tr.entry')]"
        firefox.wait_for(f"{rows}.some(r => r.dataset.status === '200')", "the entry")
        resources = "performance.getEntriesByType('resource')"
        assert not firefox.evaluate(f"{resources}.some(e => e.name.includes('/__mock/journal?'))")
    finally:
        firefox.close()
