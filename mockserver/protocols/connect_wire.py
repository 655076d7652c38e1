"""connect-go's rules on the v2 paths that do not depend on a call: content types, headers,
bodies (bounded, gzip), the negotiation of T4 to T6, deadlines, Go's quoting, request ids."""

from __future__ import annotations

import email.utils
import os
import time
import zlib
from dataclasses import dataclass
from typing import Final

from starlette.types import Receive

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_proto.methods import V2_PREFIX, V2BETA_PREFIX

PREFIXES: Final = (V2_PREFIX, V2BETA_PREFIX)
MAX_BODY_BYTES: Final = 4 * 1024 * 1024  # the mock's own bound; connect-go here has none
MAX_INFLATE: Final = 256 * 1024 * 1024  # how far a refused gzip body is inflated to count it
CONNECT_TYPES: Final = frozenset(
    {"application/json", "application/json; charset=utf-8", "application/proto"}
)
GRPC_TYPES: Final = frozenset(
    {
        "application/grpc",
        "application/grpc+proto",
        "application/grpc+json",
        "application/grpc+json; charset=utf-8",
    }
)
GRPC_WEB_TYPES: Final = frozenset(
    {
        "application/grpc-web",
        "application/grpc-web+proto",
        "application/grpc-web+json",
        "application/grpc-web+json; charset=utf-8",
    }
)
ACCEPT_POST: Final = ", ".join(sorted(CONNECT_TYPES | GRPC_TYPES | GRPC_WEB_TYPES)).encode()
EXPOSED: Final = b"Location, Content-Length, Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin"
NOT_FOUND_BODY: Final = b"404 page not found\n"
COMMON: Final = ((b"x-robots-tag", b"none"),)
ENCODINGS: Final = frozenset({"gzip", "identity"})


def api_of(path: str) -> str:
    return "v2beta" if path.startswith(V2BETA_PREFIX) else "v2"


def is_v2_path(path: str) -> bool:
    return path.startswith(PREFIXES)


def canonical_type(value: str) -> str:
    """connect-go's canonicalizeContentType: lower-case, ``type; name=value`` spacing."""
    if ";" not in value:
        return value.lower()
    base, _, rest = value.partition(";")
    params = []
    for part in rest.split(";"):
        name, sep, val = part.strip().partition("=")
        if name:
            params.append(f"{name.strip().lower()}={val.strip()}" if sep else name.lower())
    return "; ".join([base.strip().lower(), *params])


def decoded_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """A request's header fields as text, in order (the journal keeps them, redacted)."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]


def first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The first value of each field of :func:`decoded_headers`, by lower-case name."""
    out: dict[str, str] = {}
    for name, value in pairs:
        out.setdefault(name.lower(), value)
    return out


def request_id() -> bytes:
    """20 characters of [0-9a-v], the shape of the xid ZITADEL's request-details interceptor
    sets (random here: nothing reads an xid's time or machine parts)."""
    return os.urandom(10).hex().encode()


_DATE: list[object] = [0, b""]


def http_date() -> bytes:
    now = int(time.time())
    if _DATE[0] != now:
        _DATE[0], _DATE[1] = now, email.utils.formatdate(now, usegmt=True).encode()
    value = _DATE[1]
    assert isinstance(value, bytes)
    return value


async def read_limited(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body; past ``limit`` the rest is read, counted and dropped, and the answer is
    connect-go's ``message size N is larger than configured max``."""
    body = bytearray()
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            body += chunk
        if not message.get("more_body", False):
            break
    if size > limit:
        raise MockError(errors.CONNECT_MESSAGE_SIZE, size=str(size), limit=str(limit))
    return bytes(body)


async def drain(receive: Receive) -> None:
    """Read the body to its end and forget it (answers given before the body matters)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            return


def gunzip(data: bytes, limit: int = MAX_BODY_BYTES) -> bytes:
    """connect-go's gzip pool, with the mock's bound on what a body may inflate to.

    Past ``limit`` the rest is inflated in pieces only to count it, up to ``MAX_INFLATE``
    bytes: memory stays bounded, and the answer names the size as connect-go's does.
    """
    if data[:2] != b"\x1f\x8b":
        raise MockError(
            errors.CONNECT_BAD_COMPRESSION, stage="get decompressor", reason="gzip: invalid header"
        )
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise MockError(
            errors.CONNECT_BAD_COMPRESSION, stage="decompress", reason="flate: corrupt input"
        ) from None
    if len(out) <= limit:
        if not inflater.eof:
            raise MockError(
                errors.CONNECT_BAD_COMPRESSION, stage="decompress", reason="unexpected EOF"
            )
        return out
    size = len(out)
    del out
    try:
        while size <= MAX_INFLATE:
            piece = inflater.decompress(inflater.unconsumed_tail, 1 << 20)
            if not piece:
                break
            size += len(piece)
    except zlib.error:
        size = MAX_INFLATE + 1  # cannot tell the size: connect-go's "unable to determine"
    if size > MAX_INFLATE:
        raise MockError(errors.CONNECT_TOO_LARGE, limit=str(limit))
    raise MockError(errors.CONNECT_MESSAGE_SIZE, size=str(size), limit=str(limit))


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What the request's headers settled before its body is read."""

    request_gzip: bool
    response_gzip: bool
    timeout: float | None


def negotiate(headers: dict[str, str]) -> Negotiated:
    """T4 to T6 in connect-go's order: compression, protocol version, timeout."""
    sent = headers.get("content-encoding", "")
    if sent and sent not in ENCODINGS:
        raise MockError(errors.CONNECT_UNKNOWN_COMPRESSION, encoding=go_quote(sent))
    request_gzip = sent == "gzip"
    accept = headers.get("accept-encoding", "")
    response_gzip = request_gzip or "gzip" in accept.replace(",", " ").split()
    version = headers.get("connect-protocol-version")
    if version is not None and version != "1":
        raise MockError(errors.CONNECT_BAD_VERSION, version=go_quote(version))
    timeout = None
    raw = headers.get("connect-timeout-ms")
    if raw:
        if len(raw) > 10:
            raise MockError(errors.CONNECT_BAD_TIMEOUT, reason=f"{go_quote(raw)} has >10 digits")
        try:
            timeout = max(int(raw, 10), 0) / 1000
        except ValueError:
            reason = f"strconv.ParseInt: parsing {go_quote(raw)}: invalid syntax"
            raise MockError(errors.CONNECT_BAD_TIMEOUT, reason=reason) from None
    return Negotiated(request_gzip, response_gzip, timeout)


def go_quote(value: str) -> str:
    """Go's ``%q`` for the printable strings headers carry."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in escaped) + '"'
