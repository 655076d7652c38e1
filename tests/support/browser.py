"""Debian's Chromium, headless, driven over the DevTools protocol (no browser download, no driver).

:class:`Browser` starts ``/usr/bin/chromium`` with a fresh profile, opens one tab and speaks CDP to
it over its WebSocket: load a URL, evaluate JavaScript, click an element with real mouse events,
and capture screenshots. ``python -m tests.support.browser DIR`` writes the page's screenshots at
two widths (``make screenshots``).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Final

from websockets.sync.client import ClientConnection, connect

CHROMIUM: Final = Path("/usr/bin/chromium")
FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",  # Chromium picks a port and writes it to DevToolsActivePort
    "--remote-allow-origins=*",
)
WAIT: Final = 20.0  # seconds a wait_for gives the page before it reports what it saw


def command(
    ws: ClientConnection, ident: int, method: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Send one command of a browser's JSON remote protocol (Chromium's CDP, Firefox's WebDriver
    BiDi: the same framing) and return the message that answers it; events are dropped."""
    ws.send(json.dumps({"id": ident, "method": method, "params": params}))
    while True:
        message: dict[str, Any] = json.loads(ws.recv())
        if message.get("id") == ident:
            return message


class BrowserError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one tab."""

    def __init__(self) -> None:
        if not CHROMIUM.exists():
            raise BrowserError(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
        self.profile = Path(tempfile.mkdtemp(prefix="zitadel-mock-chromium-"))
        self.process = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._stack = ExitStack()
        self._next_id = 0
        try:
            port = self._port()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
                tabs = [t for t in json.load(answer) if t["type"] == "page"]
            self.ws: ClientConnection = self._stack.enter_context(
                connect(tabs[0]["webSocketDebuggerUrl"], max_size=None)
            )
            self.send("Page.enable")
            self.send("Runtime.enable")
        except BaseException:
            self.close()
            raise

    def _port(self) -> int:
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserError(f"chromium exited with {self.process.returncode}")
            if active.exists() and active.read_text().strip():
                return int(active.read_text().split()[0])
            time.sleep(0.05)
        raise BrowserError("chromium did not open its DevTools port within 30 s")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One CDP command; returns its result (events that arrive meanwhile are dropped)."""
        self._next_id += 1
        message = command(self.ws, self._next_id, method, params)
        if "error" in message:
            raise BrowserError(f"{method}: {message['error']}")
        result: dict[str, Any] = message["result"]
        return result

    def load(self, url: str) -> None:
        """A fresh load (a URL differing only in its #fragment would not reload the page)."""
        self.send("Page.navigate", url="about:blank")
        self.wait_for("location.href === 'about:blank' && document.readyState === 'complete'")
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, condition: str, what: str | None = None) -> Any:
        """Evaluate ``condition`` until it is truthy; fail naming ``what`` after WAIT seconds."""
        deadline = time.monotonic() + WAIT
        while True:
            value = self.evaluate(condition)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"the page never showed {what or condition}")
            time.sleep(0.1)

    def click(self, selector: str) -> None:
        """Press and release the mouse over the middle of the element, as a person would."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def choose(self, selector: str, value: str) -> None:
        """Pick ``value`` in a <select>, as choosing it with the mouse would (a change event)."""
        self.evaluate(
            f"(() => {{ const s = document.querySelector({json.dumps(selector)});"
            f" s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }})()"
        )

    def screenshot(self, width: int, height: int) -> bytes:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 700,
        )
        full = self.evaluate("document.documentElement.scrollHeight")
        shot = self.send(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": width, "height": max(height, int(full)), "scale": 1},
        )
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        self._stack.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def write_screenshots(folder: Path) -> list[Path]:
    """The page after a few calls (seeded mock), at a desktop and a phone width."""
    from tests.conftest import PORTAL, SPA, start_server  # noqa: PLC0415 - only for the script

    server = start_server("--seed", "7")
    browser = Browser()
    try:
        server.rotate()
        server.client.post("/__mock/outcomes", json={"error": "app_not_found", "times": 2})
        server.rotate()
        server.rotate(PORTAL, SPA, token="nobody-pat")
        server.client.post("/__mock/outcomes", json={"delay": "100-500", "app": SPA})
        browser.load(f"{server.url}/__mock/")
        browser.wait_for("document.querySelectorAll('#journal tr.entry').length >= 3")
        browser.click("#journal tr.entry")
        browser.wait_for("!!document.querySelector('#journal tr.curl')")
        written = []
        for name, width, height in (("page-wide.png", 1400, 900), ("page-narrow.png", 420, 900)):
            path = folder / name
            path.write_bytes(browser.screenshot(width, height))
            written.append(path)
        return written
    finally:
        browser.close()
        server.stop()


if __name__ == "__main__":
    for written in write_screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(written)
