"""Running the app: one uvicorn server on the given host and port.

HTTP/1.1 (REST, gRPC-web) goes to uvicorn's httptools protocol, cleartext HTTP/2 (native gRPC)
to our own (:mod:`mockserver.sniff`, :mod:`mockserver.h2proto`), both on the one port.
"""

from __future__ import annotations

import logging

import uvicorn

from mockserver.app import MockApp
from mockserver.sniff import SniffingProtocol

log = logging.getLogger("mockserver")


def serve(
    app: MockApp, host: str, port: int, log_level: str = "info", access_log: bool = True
) -> None:
    """Serve ``app`` until interrupted."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=SniffingProtocol,
        loop="uvloop",
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        server_header=False,
    )
    uvicorn.Server(config).run()
