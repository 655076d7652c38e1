"""HPACK for our HTTP/2 connection: hpack's encoder and decoder, each remembering its last answers.

A client sends the same header block for call after call (the same method, path, content type
and token), and the mock answers each with the same headers and trailers. hpack works each
block out field by field in Python every time (in h2 about a fifth of a gRPC call's HTTP/2
cost). An HPACK coding depends on the block and on the dynamic table only, so an answer is
reused exactly when the table has not changed since it was worked out and working it out
changed nothing: the table of each side counts its changes (:class:`CountingTable`), and only
an answer made without a change is remembered, with the count it was made at. Every other
block goes through hpack as before, so the bytes on the wire and every decoding error
(hpack's and h2's, and so the connection's GOAWAY) are what hpack alone gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import hpack
from hpack.table import HeaderTable

REMEMBERED: Final = 64  # blocks per connection and side; past it the memory starts again


class CountingTable(HeaderTable):
    """hpack's header table, counting every change of its entries or size."""

    def __init__(self) -> None:
        super().__init__()
        self.changes = 0

    def add(self, name: bytes, value: bytes) -> None:
        self.changes += 1
        super().add(name, value)

    @property
    def maxsize(self) -> int:
        return self._maxsize

    @maxsize.setter
    def maxsize(self, newmax: int) -> None:
        self.changes += 1
        HeaderTable.maxsize.fset(self, newmax)  # type: ignore[attr-defined]


class RememberingEncoder(hpack.Encoder):
    """hpack's encoder; a header list encoded without changing the table is remembered."""

    def __init__(self) -> None:
        super().__init__()
        self.header_table: CountingTable = CountingTable()
        self.known: dict[tuple[Any, ...], tuple[int, bytes]] = {}

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        # Only plain (name, value) tuples: a HeaderTuple or a third "sensitive" item changes
        # the coding without changing the key.
        if (
            not huffman
            or not isinstance(headers, list)
            or any(type(h) is not tuple or len(h) != 2 for h in headers)
        ):
            return super().encode(headers, huffman)
        return self.encode_plain(headers)

    def encode_plain(self, headers: list[tuple[bytes, bytes]]) -> bytes:
        """:meth:`encode` of a list of plain (name, value) tuples of bytes, Huffman-coded."""
        table = self.header_table
        if table.resized:  # a size change goes first in the next block: hpack writes it
            return super().encode(headers)
        key = tuple(headers)
        known = self.known.get(key)
        if known is not None and known[0] == table.changes:
            return known[1]
        before = table.changes
        block = super().encode(headers)
        if table.changes == before:
            if len(self.known) >= REMEMBERED:
                self.known.clear()
            self.known[key] = (before, block)
        return block


class RememberingDecoder(hpack.Decoder):
    """hpack's decoder; a block decoded without changing the table is remembered."""

    def __init__(
        self, max_header_list_size: int = hpack.hpack.DEFAULT_MAX_HEADER_LIST_SIZE
    ) -> None:
        super().__init__(max_header_list_size)
        self.header_table: CountingTable = CountingTable()
        self.max_allowed_table_size = self.header_table.maxsize
        self.known: dict[tuple[bytes, bool, int, int], tuple[int, list[Any]]] = {}

    def decode(self, data: bytes, raw: bool = False) -> Iterable[hpack.HeaderTuple]:
        table = self.header_table
        # The limits are part of the key: a block that fitted under one may not under another.
        key = (bytes(data), raw, self.max_header_list_size, self.max_allowed_table_size)
        known = self.known.get(key)
        if known is not None and known[0] == table.changes:
            return list(known[1])
        before = table.changes
        headers = list(super().decode(data, raw))
        if table.changes == before:
            if len(self.known) >= REMEMBERED:
                self.known.clear()
            self.known[key] = (before, headers)
        return list(headers)
