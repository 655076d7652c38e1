"""The one body reader: whole bodies up to a limit, longer ones read to the end and refused."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Message, Receive

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.protocols.body import ClientGoneError, discard_body, read_body


def receiver(*chunks: bytes, gone: bool = False) -> tuple[Receive, list[Message]]:
    """A receive() that hands over ``chunks`` (then a disconnect if ``gone``); and what is left."""
    messages: list[Message] = [
        {"type": "http.request", "body": c, "more_body": gone or i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    if gone:
        messages.append({"type": "http.disconnect"})

    async def receive() -> Message:
        return messages.pop(0)

    return receive, messages


def test_a_body_in_chunks_is_read_whole() -> None:
    receive, left = receiver(b"ab", b"", b"cd")
    assert asyncio.run(read_body(receive, 4)) == b"abcd"
    assert left == []


def test_a_body_over_the_limit_is_read_to_its_end_and_refused() -> None:
    receive, left = receiver(b"abc", b"de", b"f")
    with pytest.raises(MockError) as caught:
        asyncio.run(read_body(receive, 4))
    assert caught.value.row is errors.BODY_TOO_LARGE
    assert caught.value.message == "request body is larger than 4 bytes"
    assert left == []  # nothing left unread


def test_a_client_that_leaves_mid_body_is_gone() -> None:
    receive, _ = receiver(b"ab", gone=True)
    with pytest.raises(ClientGoneError):
        asyncio.run(read_body(receive, 100))


def test_discarding_reads_to_the_end_and_does_not_mind_a_client_gone() -> None:
    receive, left = receiver(b"ab", b"cd")
    asyncio.run(discard_body(receive))
    assert left == []
    receive, _ = receiver(b"ab", gone=True)
    asyncio.run(discard_body(receive))
