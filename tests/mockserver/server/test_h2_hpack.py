"""The HPACK coders that remember blocks give exactly what hpack alone gives, block after block."""

from __future__ import annotations

import hpack
import pytest

from zitadel_mock.server.h2_hpack import RememberingDecoder, RememberingEncoder

ANSWER = [(b":status", b"200"), (b"content-type", b"application/grpc")]
TRAILERS = [(b"grpc-status", b"0")]
OTHER = [(b":status", b"404"), (b"x-extra", b"value")]


def test_encoder_gives_hpacks_bytes_for_every_block_in_turn() -> None:
    plain, remembering = hpack.Encoder(), RememberingEncoder()
    for headers in [ANSWER, TRAILERS, ANSWER, ANSWER, OTHER, ANSWER, TRAILERS, TRAILERS]:
        assert remembering.encode(list(headers)) == plain.encode(list(headers))


def test_encoder_forgets_a_block_once_the_table_has_changed() -> None:
    plain, remembering = hpack.Encoder(), RememberingEncoder()
    for encoder in (plain, remembering):
        encoder.encode(list(ANSWER))
        encoder.encode(list(ANSWER))  # remembered by the second
        encoder.header_table_size = 0  # the peer's SETTINGS: the table is emptied
    # hpack sends the size change first and indexes the fields anew: a stale block would not.
    assert remembering.encode(list(ANSWER)) == plain.encode(list(ANSWER))


def test_encoder_keeps_never_indexed_fields_out_of_its_memory() -> None:
    remembering = RememberingEncoder()
    secret = [hpack.NeverIndexedHeaderTuple(b"authorization", b"Bearer x")]
    first = remembering.encode(list(secret))
    assert remembering.encode(list(secret)) == first == hpack.Encoder().encode(list(secret))
    assert remembering.known == {}


def test_decoder_gives_hpacks_headers_for_every_block_in_turn() -> None:
    encoder = hpack.Encoder()
    blocks = [encoder.encode(list(h)) for h in [ANSWER, ANSWER, OTHER, ANSWER, OTHER, OTHER]]
    plain, remembering = hpack.Decoder(), RememberingDecoder()
    for block in blocks:
        assert remembering.decode(block, raw=True) == plain.decode(block, raw=True)


def test_decoder_forgets_a_block_once_the_table_has_changed() -> None:
    # Index 62 is the newest dynamic entry: its meaning changes with every field added.
    encoder = hpack.Encoder()
    first = encoder.encode([(b"x-a", b"1")])
    newest = b"\xbe"
    remembering = RememberingDecoder()
    remembering.decode(first, raw=True)
    assert remembering.decode(newest, raw=True) == [(b"x-a", b"1")]
    remembering.decode(encoder.encode([(b"x-b", b"2")]), raw=True)
    assert remembering.decode(newest, raw=True) == [(b"x-b", b"2")]


def test_decoder_still_refuses_a_block_past_the_header_list_limit() -> None:
    encoder = hpack.Encoder()
    first = encoder.encode([(b"x-big", b"v" * 100)])
    again = encoder.encode([(b"x-big", b"v" * 100)])  # the table's entry, by index
    remembering = RememberingDecoder()
    remembering.decode(first, raw=True)
    remembering.decode(again, raw=True)
    remembering.decode(again, raw=True)  # remembered under the limit then in force
    remembering.max_header_list_size = 50
    with pytest.raises(hpack.OversizedHeaderListError):
        remembering.decode(again, raw=True)
