"""The Swagger UI's spec: ``/openapi.json`` as connexion serves it, with ``docs-overlay.yaml``.

The overlay (an OpenAPI Overlay 1.0 document) adds what makes "Try it out" work against the demo
fixtures and the mock's own headers; the contract file and what the mock validates are unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

import yaml
from starlette.types import ASGIApp, Message, Receive, Scope, Send

OVERLAY_PATH: Final = Path(__file__).resolve().parent / "docs-overlay.yaml"
SPEC_URL: Final = "/openapi.json"
_SEGMENT: Final = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\['([^']*)'\]")


def target_keys(target: str) -> list[str]:
    """``$.paths['/x'].post`` to ``["paths", "/x", "post"]``; raises ValueError otherwise."""
    if not target.startswith("$"):
        raise ValueError(f"target {target!r} does not start at $")
    keys, at = [], 1
    while at < len(target):
        match = _SEGMENT.match(target, at)
        if match is None:
            raise ValueError(f"target {target!r}: only .name and ['name'] steps are supported")
        keys.append(match[1] if match[1] is not None else match[2])
        at = match.end()
    return keys


def apply_overlay(document: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``document`` with each action's update merged into (or appended to) its target."""
    for action in overlay["actions"]:
        node: Any = document
        for key in target_keys(action["target"]):
            node = node[key]  # a target that selects nothing is a mistake in the overlay
        update = action["update"]
        if isinstance(node, list):
            node.append(update)
        elif isinstance(node, dict) and isinstance(update, dict):
            node.update(update)
        else:
            raise ValueError(f"target {action['target']!r} is neither an object nor an array")
    return document


def load_overlay(path: Path = OVERLAY_PATH) -> dict[str, Any]:
    overlay: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return overlay


class DocsOverlay:
    """Answers ``GET /openapi.json`` with the inner app's spec after the overlay."""

    def __init__(self, app: ASGIApp, overlay: dict[str, Any] | None = None) -> None:
        self.app = app
        self.overlay = overlay if overlay is not None else load_overlay()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != SPEC_URL or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, keep)
        start = messages[0]
        body = b"".join(m.get("body", b"") for m in messages[1:])
        if start["status"] == 200:
            body = json.dumps(apply_overlay(json.loads(body), self.overlay)).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
