"""The page in Debian's Firefox ESR, headless: its ``--screenshot`` renders ``/__mock/``.

A smoke test only: Firefox takes the screenshot at the load event, so it shows the page's HTML
and CSS as Firefox lays them out (tables, forms, panels), not what the script fetches later. The
page's behaviour is driven in Chromium (test_page_browser.py). Skipped where firefox-esr is
missing (`make test` installs it).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.conftest import LiveServer

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
