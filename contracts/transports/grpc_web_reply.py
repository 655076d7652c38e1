"""A gRPC-web answer taken apart: frames, the trailer frame, and the status as it travelled.

gRPC-web puts what native gRPC sends as HTTP/2 trailers into a last frame of the body (flag
0x80), or, for an error with no message, into the headers alone; ``-text`` base64-encodes the
whole body. :func:`read_grpc_web` checks that framing and hands the status and message to
:mod:`zitadel_contract.transports.grpc_reply`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from zitadel_contract.model import Reply, Violation
from zitadel_contract.transports.grpc_reply import status_reply, success_reply
from zitadel_proto.wire import (
    COMPRESSED_FLAG,
    STATUS_DETAILS_HEADER,
    Wire,
    decode_binary_header,
    decode_grpc_message,
    decode_web_text,
    parse_trailer_block,
    split_frames,
    wire_of,
)

_CODE_TEXT: Final = re.compile(r"0|[1-9][0-9]{0,9}")
_PERCENT_ESCAPES: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")


def parse_code(text: str | None) -> int | None:
    """``grpc-status`` as gRPC writes it (a decimal number), else None."""
    if text is None or _CODE_TEXT.fullmatch(text.strip()) is None:
        return None
    return int(text.strip())


def message_problems(raw: str) -> list[Violation]:
    """``grpc-message`` as it travelled: printable ASCII, each other byte and '%' as %XX."""
    found = []
    if any(not 0x20 <= ord(char) <= 0x7E for char in raw):
        found.append(f"grpc-message {raw[:80]!r} has characters outside printable ASCII")
    elif _PERCENT_ESCAPES.search(raw):
        found.append(f"grpc-message {raw[:80]!r} has a '%' not followed by two hex digits")
    elif "\ufffd" in decode_grpc_message(raw):
        found.append(f"grpc-message {raw[:80]!r} decodes to bytes that are not UTF-8")
    return [Violation("grpc_message_is_percent_encoded", text) for text in found]


def read_grpc_web(
    headers: Mapping[str, str], body: bytes, wire: Wire, received: datetime, api: str = "v1"
) -> Reply:
    """A gRPC-web answer (``headers`` with lower-case names): frames in the Content-Type asked
    for, the status in a final trailer frame (or, for an error, in the headers alone)."""
    framing: list[str] = []
    given = headers.get("content-type")
    if wire_of(given) is not wire:
        framing.append(f"Content-Type {given!r}; the request asked for {wire.value}")
    if wire is Wire.GRPC_WEB_TEXT:
        try:
            body = decode_web_text(body)
        except ValueError as exc:
            framing.append(str(exc))
            body = b""
    frames, rest = split_frames(body)
    if rest:
        framing.append(f"the body ends inside a frame ({len(rest)} bytes after the last one)")
    messages = [frame for frame in frames if not frame.is_trailer]
    if any(frame.flags & COMPRESSED_FLAG for frame in messages):
        framing.append("a message frame has the compressed flag, but nothing was compressed")
    problems = [Violation("grpc_web_body_is_framed", text) for text in framing]
    trailer_at = [index for index, frame in enumerate(frames) if frame.is_trailer]
    if trailer_at:
        trailers = parse_trailer_block(frames[trailer_at[-1]].payload)
        if trailer_at != [len(frames) - 1]:
            problems.append(
                _trailers_violation(f"trailer frames at {trailer_at} of {len(frames)} frames")
            )
    elif "grpc-status" in headers:
        trailers = dict(headers)  # trailers-only: the status in the one header block
    else:
        problems.append(_trailers_violation("no trailer frame and no grpc-status header"))
        return Reply(-1, "", (), None, tuple(problems), received)
    code = parse_code(trailers.get("grpc-status"))
    if code is None:
        problems.append(
            Violation(
                "grpc_status_is_known_code",
                f"grpc-status {trailers.get('grpc-status')!r} is not a number",
            )
        )
        return Reply(-1, "", (), None, tuple(problems), received)
    if code == 0:
        payloads = [m.payload for m in messages]
        return _web_success(payloads, bool(trailer_at), received, problems, api)
    raw_message = trailers.get("grpc-message", "")
    problems += message_problems(raw_message)
    details = None
    if STATUS_DETAILS_HEADER in trailers:
        try:
            details = decode_binary_header(trailers[STATUS_DETAILS_HEADER])
        except ValueError as exc:
            problems.append(
                Violation("status_details_are_google_rpc_status", f"{STATUS_DETAILS_HEADER}: {exc}")
            )
    message = decode_grpc_message(raw_message)
    sent = STATUS_DETAILS_HEADER in trailers
    return status_reply(code, message, details, received, problems, details_sent=sent)


def _web_success(
    messages: list[bytes],
    in_frame: bool,
    received: datetime,
    problems: list[Violation],
    api: str,
) -> Reply:
    if not in_frame:
        problems.append(
            _trailers_violation("a success has grpc-status in the headers, with no trailer frame")
        )
    if len(messages) != 1:
        problems.append(
            Violation(
                "success_is_response_message",
                f"a success carries {len(messages)} message frames; a unary call answers one",
            )
        )
    if not messages:
        return Reply(0, "", (), None, tuple(problems), received)
    return success_reply(messages[0], received, problems, api)


def _trailers_violation(text: str) -> Violation:
    return Violation(
        "grpc_web_trailers_in_final_frame",
        f"{text}: gRPC-web sends grpc-status in a final trailer frame (flag 0x80)",
    )
