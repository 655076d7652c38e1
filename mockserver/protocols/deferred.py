"""Parts of the app built in a background thread, so that the port answers before they are ready.

A :class:`Deferred` stands where its app goes in the stack. Until that app is built, a request
for it waits (it is never refused, answered otherwise or dropped), then goes to it as it would
have: the same answer as any later request. Connexion's apps are the reason: importing connexion
is most of the mock's start-up, and the operations' paths never reach it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("zitadel_mock.protocols.deferred")

THREAD_NAME: Final = "zitadel-mock-build"


class Deferred:
    """The app that ``build`` returns, built once, in a thread (:func:`build_in_background`; the
    first request for it starts that if nothing has).

    Lifespan messages are answered here, at once: the app built later has no lifespan of its own
    (connexion's, with no handler, only answers them), and uvicorn accepts no connection before
    startup completes.
    """

    def __init__(self, build: Callable[[], ASGIApp], name: str) -> None:
        self.name = name
        self.app: ASGIApp | None = None  # set once built
        self._build = build
        self._built: Future[ASGIApp] = Future()
        self._claim = threading.Lock()
        self._claimed = False

    def claim(self) -> bool:
        """True for the one caller that is to build it (who then calls :meth:`build_here`)."""
        with self._claim:
            if self._claimed:
                return False
            self._claimed = True
        # Running from now on: a waiter that is cancelled cannot cancel the build.
        self._built.set_running_or_notify_cancel()
        return True

    def build_here(self) -> None:
        """Build it in this thread (after :meth:`claim`); a failure is logged and raised to
        every request that waits for it."""
        try:
            app = self._build()
        except BaseException as exc:
            log.error("building %s failed", self.name, exc_info=exc)
            self._built.set_exception(exc)
            return
        self.app = app
        self._built.set_result(app)

    def wait(self) -> bool:
        """Block until it is built or its build failed; whether it was built."""
        return self._built.exception() is None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        app = self.app
        if app is None:
            build_in_background([self])
            app = await asyncio.wrap_future(self._built)
        await app(scope, receive, send)


def build_in_background(
    parts: Iterable[Deferred],
    then: Sequence[Callable[[], None]] = (),
    failed: Sequence[Callable[[], None]] = (),
) -> None:
    """Build each of ``parts`` not yet claimed, in order, in one daemon thread; there, once every
    one of ``parts`` is done (here or by whoever claimed it), call each of ``then``, or each of
    ``failed`` if a build failed."""
    parts = tuple(parts)
    claimed = [part for part in parts if part.claim()]
    if not claimed and not then and not failed:
        return

    def run() -> None:
        for part in claimed:
            part.build_here()
        built = [part.wait() for part in parts]
        for callback in then if all(built) else failed:
            callback()

    threading.Thread(target=run, name=THREAD_NAME, daemon=True).start()


async def answer_lifespan(receive: Receive, send: Send) -> None:
    """Complete startup and shutdown, with nothing to run for either."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
