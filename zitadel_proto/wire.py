"""The gRPC and gRPC-web wire rules that the mock and its clients share.

Length-prefixed frames, ``grpc-message`` percent-encoding as grpc-go writes it, binary metadata,
``grpc-timeout``, the gRPC-web trailer frame and base64 body, and the content types that say
which of these a request speaks.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

SERVICE: Final = "zitadel.management.v1.ManagementService"
METHOD: Final = "RegenerateOIDCClientSecret"
METHOD_PATH: Final = f"/{SERVICE}/{METHOD}"

COMPRESSED_FLAG: Final = 0x01
TRAILER_FLAG: Final = 0x80
PREFIX_LENGTH: Final = 5
# grpc-go's default limit on a received message.
MAX_MESSAGE_BYTES: Final = 4 * 1024 * 1024

STATUS_DETAILS_HEADER: Final = "grpc-status-details-bin"


class Wire(enum.Enum):
    """What a Content-Type says a request speaks."""

    GRPC = "application/grpc"
    GRPC_WEB = "application/grpc-web"
    GRPC_WEB_TEXT = "application/grpc-web-text"


def wire_of(content_type: str | bytes | None) -> Wire | None:
    """``application/grpc``, ``application/grpc-web`` or ``-web-text`` (``+codec`` or not)."""
    if content_type is None:
        return None
    if isinstance(content_type, bytes):
        if b"grpc" not in content_type.lower():  # most requests: no need to parse
            return None
        content_type = content_type.decode("latin-1")
    base = content_type.split(";", 1)[0].strip().lower().split("+", 1)[0]
    return _WIRE_OF_TYPE.get(base)


# By a content type's base (an Enum member's ``value`` is a property: a lookup costs less).
_WIRE_OF_TYPE: Final = {wire.value: wire for wire in Wire}


# -- frames ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Frame:
    """One length-prefixed message (or, in gRPC-web, trailer block)."""

    flags: int
    payload: bytes

    @property
    def is_trailer(self) -> bool:
        return bool(self.flags & TRAILER_FLAG)


def encode_frame(payload: bytes, flags: int = 0) -> bytes:
    return bytes([flags]) + len(payload).to_bytes(4, "big") + payload


def frame_header(data: bytes | bytearray) -> tuple[int, int] | None:
    """The (flags, length) of the frame ``data`` starts with, once its 5-byte prefix is there."""
    if len(data) < PREFIX_LENGTH:
        return None
    return data[0], int.from_bytes(data[1:PREFIX_LENGTH], "big")


def split_frames(data: bytes) -> tuple[list[Frame], bytes]:
    """The complete frames at the start of ``data``, and what is left after them."""
    frames: list[Frame] = []
    at = 0
    while (header := frame_header(data[at:])) is not None:
        flags, length = header
        end = at + PREFIX_LENGTH + length
        if end > len(data):
            break
        frames.append(Frame(flags, data[at + PREFIX_LENGTH : end]))
        at = end
    return frames, data[at:]


# -- metadata values ------------------------------------------------------------------------


def encode_grpc_message(text: str) -> str:
    """Percent-encode as grpc-go does: only bytes outside printable ASCII, and '%'."""
    out: list[str] = []
    for byte in text.encode("utf-8"):
        if 0x20 <= byte <= 0x7E and byte != 0x25:
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


_PERCENT: Final = re.compile(rb"%([0-9A-Fa-f]{2})")


def decode_grpc_message(value: str | bytes) -> str:
    """Undo :func:`encode_grpc_message`; a '%' not followed by two hex digits stays as it is."""
    raw = value.encode("latin-1") if isinstance(value, str) else value
    return _PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), raw).decode("utf-8", "replace")


def encode_binary_header(data: bytes) -> str:
    """``-bin`` metadata: standard base64 without padding, as gRPC sends it."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def decode_binary_header(value: str | bytes) -> bytes:
    """``-bin`` metadata, padded or not; raises ValueError if it is not base64."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None


_TIMEOUT: Final = re.compile(r"([0-9]{1,8})([HMSmun])")
_TIMEOUT_UNITS: Final = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


def parse_timeout(value: str) -> float:
    """``grpc-timeout`` in seconds; raises ValueError unless it is 1 to 8 digits and a unit."""
    match = _TIMEOUT.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"malformed grpc-timeout {value!r}")
    return int(match.group(1)) * _TIMEOUT_UNITS[match.group(2)]


# -- gRPC-web -------------------------------------------------------------------------------


def encode_trailer_block(trailers: Iterable[tuple[str, str]]) -> bytes:
    """gRPC-web trailers: an HTTP/1 header block, lower-case names, in a frame of its own."""
    block = "".join(f"{name.lower()}:{value}\r\n" for name, value in trailers)
    return encode_frame(block.encode("latin-1"), TRAILER_FLAG)


def parse_trailer_block(payload: bytes) -> dict[str, str]:
    """The trailers of a gRPC-web trailer frame, by lower-case name (the last value wins)."""
    trailers: dict[str, str] = {}
    for line in payload.decode("latin-1").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            trailers[name.strip().lower()] = value.strip()
    return trailers


_BASE64_CHUNK: Final = re.compile(rb"[^=]*(?:=+|$)")


def decode_web_text(body: bytes) -> bytes:
    """A ``grpc-web-text`` body: base64, possibly several padded chunks one after another."""
    compact = bytes(body).translate(None, b" \t\r\n")
    out = bytearray()
    try:
        for chunk in _BASE64_CHUNK.findall(compact):
            if chunk:
                out += base64.b64decode(chunk, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"the grpc-web-text body is not base64: {exc}") from None
    return bytes(out)


def encode_web_text(body: bytes) -> bytes:
    return base64.b64encode(body)
