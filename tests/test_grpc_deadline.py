"""``grpc-timeout`` bounds the call: a call that outlives it ends as DEADLINE_EXCEEDED.

The mock answers far faster than any sensible deadline, so a slow call is made here in process:
the real GrpcApp over an adapter whose call waits longer than the client allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from mockserver.grpc_adapter import GrpcAdapter, Metadata, Reply
from mockserver.grpc_app import GrpcApp
from zitadel_proto.client import request_bytes
from zitadel_proto.wire import METHOD_PATH, encode_frame


class SlowAdapter(GrpcAdapter):
    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def call(self, path: str, metadata: Metadata, request: bytes) -> Reply:
        await asyncio.sleep(self.delay)
        raise AssertionError("the deadline should have ended the call")


def run(app: GrpcApp, timeout: str) -> list[dict[str, Any]]:
    scope = {
        "type": "http",
        "http_version": "2",
        "method": "POST",
        "path": METHOD_PATH,
        "headers": [(b"content-type", b"application/grpc"), (b"grpc-timeout", timeout.encode())],
        "extensions": {"http.response.trailers": {}},
    }
    sent: list[dict[str, Any]] = []
    body = encode_frame(request_bytes("1", "1"))

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_call_that_outlives_grpc_timeout_is_deadline_exceeded() -> None:
    sent = run(GrpcApp(SlowAdapter(delay=5)), timeout="50m")
    headers = dict(sent[0]["headers"])
    assert (sent[0]["status"], headers[b"grpc-status"]) == (200, b"4")
    assert headers[b"grpc-message"] == b"context deadline exceeded"
