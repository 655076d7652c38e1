"""The one reader of request bodies: every protocol reads its request through :func:`next_chunk`.

ASGI hands a body over in ``http.request`` messages; an ``http.disconnect`` before the last one
means the client went away with its request incomplete, and nobody is left to answer.
"""

from __future__ import annotations

from starlette.types import Receive

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError


class ClientGoneError(Exception):
    """The client went away before its request was complete; nobody is left to answer."""


async def next_chunk(receive: Receive) -> tuple[bytes, bool]:
    """The next chunk of the body, and whether more follow; raises :class:`ClientGoneError` if
    the client leaves first. Every reader below reads through this one function."""
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGoneError
    return message.get("body", b""), message.get("more_body", False)


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes.

    A longer body is read to its end but not kept (so that the answer is not lost to a reset of
    the unread rest), then refused as :data:`~zitadel_mock.domain.errors.BODY_TOO_LARGE`.
    """
    chunk, more = await next_chunk(receive)
    if not more and len(chunk) <= limit:
        return chunk  # the usual case: one message
    chunks, size = [chunk], len(chunk)
    while more:
        chunk, more = await next_chunk(receive)
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise MockError(errors.BODY_TOO_LARGE, limit=str(limit))
    return b"".join(chunks)


async def discard_body(receive: Receive) -> None:
    """Read the body to its end and forget it (before an answer that ignores the request); a
    client that leaves first is no error here."""
    more = True
    try:
        while more:
            _, more = await next_chunk(receive)
    except ClientGoneError:
        return
