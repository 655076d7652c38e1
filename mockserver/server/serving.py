"""Running the app: uvicorn on one port, in this process or in several worker processes.

HTTP/1.1 (REST, gRPC-web) goes to uvicorn's httptools protocol, cleartext HTTP/2 (native gRPC)
to our own (:mod:`zitadel_mock.server.sniff`, :mod:`zitadel_mock.server.h2_protocol`), both on the
one port. The port's limits (:class:`~zitadel_mock.server.limits.ServerLimits`) come from the
environment unless given.

Workers die with their supervisor, even when it is killed with SIGKILL: each asks the kernel for
SIGTERM when its parent goes (``PR_SET_PDEATHSIG`` on Linux; elsewhere a thread watches the
parent's pid), so no orphan keeps the port and the next start can bind it.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import importlib
import importlib.util
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Final, cast

import uvicorn
from starlette.types import ASGIApp

from zitadel_mock.server.limits import ServerLimits
from zitadel_mock.server.sniff import SniffingProtocol

PR_SET_PDEATHSIG: Final = 1
# The state file the workers share, as the app's settings name it, and the pin zitadel_mock.state
# reads: the file's device and inode as the supervisor saw it, so that no worker (a restarted one
# included) opens a file put at that path later as if it were the same state.
STATE_ENV: Final = "ZITADEL_MOCK_STATE"
PIN_ENV: Final = "ZITADEL_MOCK_STATE_PIN"
PARENT_POLL: Final = 1.0  # seconds, where the kernel cannot watch the parent for us

log = logging.getLogger("uvicorn.error")


class MockConfig(uvicorn.Config):
    """uvicorn's config with the port's limits; in a worker, it ties the worker to its parent.

    uvicorn calls :meth:`configure_logging` first thing in each worker process, before serving.
    """

    def __init__(self, app: Any, *, limits: ServerLimits, **kwargs: Any) -> None:
        self.mock_limits = limits
        self.supervisor_pid = os.getpid()
        super().__init__(app, **kwargs)  # calls configure_logging

    def configure_logging(self) -> None:
        super().configure_logging()
        if os.getpid() != self.supervisor_pid:
            die_with_parent(self.supervisor_pid)


def die_with_parent(parent_pid: int) -> None:
    """Get SIGTERM when the process ``parent_pid`` ends (at once if it already has)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # it went before the request above took effect
        log.warning("worker %d: the supervisor is gone; exiting", os.getpid())
        os._exit(1)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL)
    log.warning("worker %d: the supervisor is gone; stopping", os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)


def _config(
    app: Any,
    host: str,
    port: int,
    log_level: str,
    access_log: bool,
    *,
    limits: ServerLimits | None = None,
    **extra: Any,
) -> MockConfig:
    limits = ServerLimits.from_env() if limits is None else limits
    return MockConfig(
        app,
        limits=limits,
        host=host,
        port=port,
        http=SniffingProtocol,
        ws=_websockets(),
        loop="uvloop",
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        server_header=False,
        proxy_headers=False,  # no X-Forwarded-* rewriting: nothing here reads client addresses
        timeout_keep_alive=limits.keep_alive_timeout,
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

    It does not listen yet: with workers, uvicorn does once each has built its app, so that a
    connection that succeeds means a mock that answers (as when uvicorn binds the port itself).
    One process builds its app first and listens before it announces the address (``cli``).
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


def freeze_start_up() -> None:
    """Keep what start-up built (modules, the compiled spec, the app) out of the garbage
    collector's passes: it lives as long as the process, and every full collection would walk
    it again (about 3% of a REST success's server CPU under load, bench/PROFILE.md). Called once
    per serving process, when the app is built and before the first request. No collection
    first: start-up leaves a dozen unreachable objects, and a full pass would cost about 10 ms
    before the first answer; :func:`freeze_built` collects later, off that path. The collector
    is on from here (``zitadel-mock serve`` starts with it off, :mod:`zitadel_mock.command`)."""
    gc.freeze()
    gc.enable()


def freeze_built() -> None:
    """After the app's background build (``MockApp.when_built``): collect what it left
    unreachable (the frozen rest is not walked), then keep the rest out of later passes too."""
    gc.collect()
    gc.freeze()


# Imported on first use rather than at start (the first HTTP/2 connection, the first WebSocket
# upgrade), and ahead of that by warm_up once the app's background build is done.
LATER_IMPORTS: Final = ("zitadel_mock.server.h2_protocol", "uvicorn.protocols.websockets.auto")


def warm_up() -> None:
    """Import what start-up left for later (:data:`LATER_IMPORTS`), in the build thread."""
    for name in LATER_IMPORTS:
        importlib.import_module(name)


def websocket_protocol(*args: Any, **kwargs: Any) -> asyncio.Protocol:
    """uvicorn's ``ws="auto"`` protocol for a WebSocket upgrade, imported at the first one:
    importing the websockets library at start is about 20 ms of it."""
    from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol  # noqa: PLC0415

    assert AutoWebSocketsProtocol is not None  # _websockets() found a library
    return AutoWebSocketsProtocol(*args, **kwargs)


def _websockets() -> type[asyncio.Protocol] | str:
    """What ``ws="auto"`` would choose, without importing it: "none" when neither library
    that uvicorn's auto choice tries is installed."""
    if any(importlib.util.find_spec(name) for name in ("websockets", "wsproto")):
        return cast(type[asyncio.Protocol], websocket_protocol)
    return "none"


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
    limits: ServerLimits | None = None,
) -> None:
    """Serve ``app`` in this process until interrupted (on ``sock`` when given)."""
    extra = {} if log_config is None else {"log_config": log_config}
    server = uvicorn.Server(_config(app, host, port, log_level, access_log, limits=limits, **extra))
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
    limits: ServerLimits | None = None,
) -> None:
    """Serve ``workers`` processes on one port; each calls ``factory`` (``module:function``) to
    build its app, with ``env`` in its environment."""
    os.environ.update(env)
    extra = {} if log_config is None else {"log_config": log_config}
    pinned: int | None = None
    if state := env.get(STATE_ENV):
        # Held open while the workers run, so that the inode cannot be reused by a new file.
        pinned = os.open(state, os.O_RDONLY)  # the supervisor created it before
        st = os.fstat(pinned)
        os.environ[PIN_ENV] = f"{st.st_dev}:{st.st_ino}:{os.path.abspath(state)}"
    config = _config(
        factory,
        host,
        port,
        log_level,
        access_log,
        limits=limits,
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
        if pinned is not None:
            os.close(pinned)
