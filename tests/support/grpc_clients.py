"""The three ways a test calls the mock over gRPC: grpcio, gRPC-web binary, gRPC-web text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import grpc
import httpx

from tests.conftest import LiveServer
from zitadel_proto.client import Outcome, Pairs, call_grpc, call_grpc_web, metadata
from zitadel_proto.wire import METHOD_PATH

Caller = Callable[..., Outcome]
TRANSPORTS = ("grpc", "grpc-web", "grpc-web-text")


@contextmanager
def caller(server: LiveServer, transport: str) -> Iterator[Caller]:
    """``call(project, app, token="admin-pat", org=None, authorization=None, method=...)``.

    ``authorization`` replaces the ``Bearer <token>`` value when a test needs another one.
    """
    with ExitStack() as stack:
        send: Callable[[str, str, Pairs, str], Outcome]
        if transport == "grpc":
            channel = stack.enter_context(grpc.insecure_channel(f"127.0.0.1:{server.port}"))

            def send(project: str, app: str, pairs: Pairs, method: str) -> Outcome:
                return call_grpc(channel, project, app, pairs=pairs, method=method)

        else:
            client = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
            text = transport == "grpc-web-text"

            def send(project: str, app: str, pairs: Pairs, method: str) -> Outcome:
                return call_grpc_web(client, project, app, pairs=pairs, text=text, method=method)

        def call(
            project: str,
            app: str,
            *,
            token: str | None = "admin-pat",
            org: str | None = None,
            authorization: str | None = None,
            method: str = METHOD_PATH,
        ) -> Outcome:
            if authorization is not None:
                return send(
                    project, app, metadata(None, org, ("authorization", authorization)), method
                )
            return send(project, app, metadata(token, org), method)

        yield call
