"""Wire rules both sides share: grpc-go's percent-encoding, frames, base64, timeouts."""

from __future__ import annotations

import base64

import pytest

from zitadel_proto.wire import (
    Wire,
    decode_binary_header,
    decode_grpc_message,
    decode_web_text,
    encode_binary_header,
    encode_frame,
    encode_grpc_message,
    encode_trailer_block,
    parse_timeout,
    parse_trailer_block,
    split_frames,
    wire_of,
)


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("Organisation doesn't exist (AUTH-Bs7Ds)", "Organisation doesn't exist (AUTH-Bs7Ds)"),
        ("100% sure", "100%25 sure"),
        ("caf\u00e9", "caf%C3%A9"),
        ("line\nbreak\ttab", "line%0Abreak%09tab"),
        ("~ and space", "~ and space"),  # printable ASCII 0x20..0x7E stays, unlike URL quoting
        ("\x7f", "%7F"),
    ],
)
def test_grpc_message_escapes_only_non_printable_bytes_and_percent(text: str, encoded: str) -> None:
    assert encode_grpc_message(text) == encoded
    assert decode_grpc_message(encoded) == text


def test_a_percent_without_two_hex_digits_decodes_as_itself() -> None:
    assert decode_grpc_message("50%zz and 7%") == "50%zz and 7%"


def test_binary_metadata_is_unpadded_base64_and_reads_padded_too() -> None:
    assert encode_binary_header(b"\x01") == "AQ"
    assert decode_binary_header("AQ") == decode_binary_header("AQ==") == b"\x01"
    with pytest.raises(ValueError, match="not base64"):
        decode_binary_header("A*")


def test_frames_split_and_keep_an_incomplete_rest() -> None:
    data = encode_frame(b"abc") + encode_trailer_block([("grpc-status", "0")]) + b"\x00\x00"
    frames, rest = split_frames(data)
    assert [(f.flags, f.payload) for f in frames] == [(0, b"abc"), (0x80, b"grpc-status:0\r\n")]
    assert rest == b"\x00\x00"


def test_trailer_blocks_read_names_in_lower_case() -> None:
    assert parse_trailer_block(b"Grpc-Status: 5\r\ngrpc-message:Not%20Found\r\n") == {
        "grpc-status": "5",
        "grpc-message": "Not%20Found",
    }


def test_web_text_reads_several_padded_chunks() -> None:
    body = base64.b64encode(b"a") + base64.b64encode(b"bc") + b"\r\n" + base64.b64encode(b"def")
    assert decode_web_text(body) == b"abcdef"
    with pytest.raises(ValueError, match="not base64"):
        decode_web_text(b"a*==")


@pytest.mark.parametrize(
    ("value", "seconds"), [("1H", 3600.0), ("5M", 300.0), ("100m", 0.1), ("99999999n", 0.099999999)]
)
def test_grpc_timeout_units(value: str, seconds: float) -> None:
    assert parse_timeout(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "1", "S", "123456789S", "1.5S", "1s", "-1S"])
def test_malformed_grpc_timeouts_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="malformed"):
        parse_timeout(value)


@pytest.mark.parametrize(
    ("content_type", "wire"),
    [
        ("application/grpc", Wire.GRPC),
        ("application/grpc+proto", Wire.GRPC),
        ("Application/GRPC; charset=utf-8", Wire.GRPC),
        ("application/grpc-web", Wire.GRPC_WEB),
        ("application/grpc-web+proto", Wire.GRPC_WEB),
        ("application/grpc-web-text", Wire.GRPC_WEB_TEXT),
        ("application/grpc-web-text+proto", Wire.GRPC_WEB_TEXT),
        ("application/grpcx", None),
        ("application/json", None),
        (None, None),
    ],
)
def test_content_type_says_which_wire(content_type: str | None, wire: Wire | None) -> None:
    assert wire_of(content_type) is wire
