"""Running the app: uvicorn on one port, in this process or in several worker processes.

HTTP/1.1 (REST, gRPC-web) goes to uvicorn's httptools protocol, cleartext HTTP/2 (native gRPC)
to our own (:mod:`zitadel_mock.server.sniff`, :mod:`zitadel_mock.server.h2_protocol`), both on the
one port.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
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


class StopRequest:
    """A signal handler that stops the server now running, or the one about to run.

    It never raises: a signal may land anywhere (inside logging's locks, for one). While uvicorn
    runs, its own handlers take over; when it has shut down it raises the signal again, for this
    handler, which then only notes it.
    """

    def __init__(self) -> None:
        self.requested = False
        self._stop: Callable[[], None] | None = None

    def __call__(self, _signum: int, _frame: object) -> None:
        self.requested = True
        if self._stop is not None:
            self._stop()

    def attach(self, stop: Callable[[], None]) -> None:
        """From now on a signal calls ``stop`` (at once, if one came already)."""
        self._stop = stop
        if self.requested:
            stop()


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (0: a free port; read it with getsockname).

    It does not listen yet: uvicorn does once the app has started, so that a connection that
    succeeds means a mock that answers (as when uvicorn binds the port itself).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def serve(
    app: ASGIApp,
    host: str,
    port: int,
    log_level: str = "info",
    access_log: bool = True,
    *,
    sock: socket.socket | None = None,
    log_config: dict[str, Any] | None = None,
    stop: StopRequest | None = None,
) -> None:
    """Serve ``app`` in this process until interrupted (on ``sock`` when given)."""
    extra = {} if log_config is None else {"log_config": log_config}
    server = uvicorn.Server(_config(app, host, port, log_level, access_log, **extra))
    if stop is not None:
        stop.attach(lambda: setattr(server, "should_exit", True))
    server.run(sockets=None if sock is None else [sock])


def serve_workers(
    factory: str,
    env: dict[str, str],
    workers: int,
    host: str,
    port: int,
    *,
    log_level: str = "info",
    access_log: bool = True,
    sock: socket.socket | None = None,
    log_config: dict[str, Any] | None = None,
    stop: StopRequest | None = None,
) -> None:
    """Serve ``workers`` processes on one port; each calls ``factory`` (``module:function``) to
    build its app, with ``env`` in its environment."""
    os.environ.update(env)
    extra = {} if log_config is None else {"log_config": log_config}
    config = _config(
        factory,
        host,
        port,
        log_level,
        access_log,
        factory=True,
        workers=workers,
        **extra,
    )
    sock = sock or config.bind_socket()
    try:
        supervisor = uvicorn.supervisors.Multiprocess(config, sockets=[sock])
        if stop is not None:
            stop.attach(supervisor.should_exit.set)
        supervisor.run()
    finally:
        sock.close()
