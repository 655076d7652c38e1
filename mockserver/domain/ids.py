"""Ids of new projects, apps and clients: decimal numbers of 18 digits, as ZITADEL's Sonyflake
ids print since 2023. Drawn from injected random bytes (a seed makes them reproducible)."""

from __future__ import annotations

from zitadel_mock.domain.client_secrets import RandomBytes

LOWEST = 10**17
SPAN = 9 * 10**17


class IdGenerator:
    __slots__ = ("_random_bytes",)

    def __init__(self, random_bytes: RandomBytes) -> None:
        self._random_bytes = random_bytes

    def next(self) -> str:
        return str(LOWEST + int.from_bytes(self._random_bytes(8), "big") % SPAN)
