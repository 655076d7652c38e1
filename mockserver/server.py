"""Running the app: uvicorn on one port, in this process or in several worker processes.

HTTP/1.1 (REST, gRPC-web) goes to uvicorn's httptools protocol, cleartext HTTP/2 (native gRPC)
to our own (:mod:`mockserver.sniff`, :mod:`mockserver.h2proto`), both on the one port.
"""

from __future__ import annotations

import os
from typing import Any

import uvicorn

from mockserver.app import MockApp, Settings
from mockserver.sniff import SniffingProtocol


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
    app: MockApp, host: str, port: int, log_level: str = "info", access_log: bool = True
) -> None:
    """Serve ``app`` in this process until interrupted."""
    uvicorn.Server(_config(app, host, port, log_level, access_log)).run()


def serve_workers(
    settings: Settings,
    workers: int,
    host: str,
    port: int,
    *,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Serve ``workers`` processes on one port; each builds its app from ``settings`` over the
    shared state file (``settings.state`` must be set and already hold the fixtures)."""
    if settings.state is None:
        raise ValueError("several workers need a state file to share")
    os.environ.update(settings.to_env())
    config = _config(
        "mockserver.app:create_app",
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
