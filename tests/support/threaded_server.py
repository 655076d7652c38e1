"""An ASGI app served on the mock's own protocol, by uvicorn in a thread of the test's process,
on a free port of 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from zitadel_mock.server.sniff import SniffingProtocol


@contextmanager
def serving(
    app: ASGIApp, lifespan: Literal["on", "off"] = "off"
) -> Iterator[tuple[int, Callable[[], None]]]:
    """The port ``app`` answers on (HTTP/1.1 as uvicorn serves it, HTTP/2 too), and a way to ask
    the server to stop without waiting; it is stopped on leaving."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, http=SniffingProtocol, log_level="warning", access_log=False, lifespan=lifespan
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the server did not start"
    try:
        yield sock.getsockname()[1], lambda: setattr(server, "should_exit", True)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
