"""What faults need from the server: a way to drop an exchange without an answer.

ASGI cannot express "drop this connection". :class:`RememberConnection`, the outermost layer of
the stack, looks at the server's own ``send``: with uvicorn it finds the connection's transport
and keeps its ``close`` in the scope; with our HTTP/2 protocol it finds the stream's ``abort``,
which resets the stream (the connection and its other streams live on). Under a server where it
finds neither, :func:`drop_connection` raises instead (the server answers 500 or resets the
stream).
"""

from __future__ import annotations

import asyncio
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

CLOSE_KEY: Final = "zitadel_mock.close"


class ConnectionDropError(Exception):
    """Raised to make a server without a known transport drop or fail the response."""


class RememberConnection:
    """Keeps the server's way to drop each HTTP exchange in its scope (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            remember_connection(scope, send)
        await self.app(scope, receive, send)


def remember_connection(scope: Scope, send: Send) -> None:
    """Keep the server's way to drop this exchange in the scope: uvicorn's transport's ``close``
    for HTTP/1.1, our HTTP/2 stream's ``abort`` (a stream reset) for HTTP/2."""
    owner = getattr(send, "__self__", None)
    close = getattr(getattr(owner, "transport", None), "close", None) or getattr(
        owner, "abort", None
    )
    if callable(close):
        scope[CLOSE_KEY] = close


async def drop_connection(scope: Scope) -> None:
    """Close the connection (or reset the stream) now: what was sent is delivered, nothing more
    is."""
    close = scope.get(CLOSE_KEY)
    if close is None:
        raise ConnectionDropError("this server offers no way to drop a connection")
    close()
    await asyncio.sleep(0)  # let the server see the connection go before the app returns


async def client_gone(receive: Receive) -> None:
    """Return once the client has disconnected (what it still sends is read and forgotten)."""
    while (await receive())["type"] != "http.disconnect":
        pass
