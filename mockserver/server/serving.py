"""Running the app: uvicorn on one port, in this process or in several worker processes.

HTTP/1.1 (REST, gRPC-web) goes to uvicorn's httptools protocol, cleartext HTTP/2 (native gRPC)
to our own (:mod:`zitadel_mock.server.sniff`, :mod:`zitadel_mock.server.h2_protocol`), both on the
one port.
"""

from __future__ import annotations

import os
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from zitadel_mock.server.sniff import SniffingProtocol


def _config(
    app: Any, host: str, port: int, log_level: str, access_log: bool, **extra: Any
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=SniffingProtocol,
        loop="uvloop",
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        server_header=False,
        proxy_headers=False,  # no X-Forwarded-* rewriting: nothing here reads client addresses
        **extra,
    )


def serve(
    app: ASGIApp, host: str, port: int, log_level: str = "info", access_log: bool = True
) -> None:
    """Serve ``app`` in this process until interrupted."""
    uvicorn.Server(_config(app, host, port, log_level, access_log)).run()


def serve_workers(
    factory: str,
    env: dict[str, str],
    workers: int,
    host: str,
    port: int,
    *,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Serve ``workers`` processes on one port; each calls ``factory`` (``module:function``) to
    build its app, with ``env`` in its environment."""
    os.environ.update(env)
    config = _config(
        factory,
        host,
        port,
        log_level,
        access_log,
        factory=True,
        workers=workers,
    )
    sock = config.bind_socket()
    try:
        uvicorn.supervisors.Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
