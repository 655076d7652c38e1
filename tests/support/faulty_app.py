"""A tiny ASGI app that misbehaves on purpose, served by our protocols for test_h2_faults.py.

python -m tests.support.faulty_app PORT
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

from zitadel_mock.server.sniff import SniffingProtocol

Message = dict[str, Any]


async def app(scope: Message, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/raise-before-start":
        raise RuntimeError("failing before the response")
    if path == "/raise-after-start":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"half", "more_body": True})
        raise RuntimeError("failing in the middle of the response")
    if path == "/return-early":
        return
    body = f"{scope['http_version']} {sorted(scope.get('extensions', {}))}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"Connection", b"x")]})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(
        app, host="127.0.0.1", port=int(sys.argv[1]), http=SniffingProtocol, log_level="critical"
    )
