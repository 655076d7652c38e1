"""The gateway's REST JSON codec: a request body in, an answer's status, headers and body out.

What grpc-gateway does around ZITADEL's gRPC server, and nothing of ZITADEL's checks: the body
decoded as the gateway decodes it (row 9, before any interceptor), a success as protojson
(:mod:`zitadel_mock.protocols.protojson`) with the headers ZITADEL adds, every error as
google.rpc.Status. The operation itself is answered by
:class:`~zitadel_mock.protocols.rest_operation.RestOperation`; connexion
(:mod:`zitadel_mock.protocols.gateway_app`) serves ``openapi.yaml`` for everything else:
routing, 404 and 405 (with ``Allow``), the docs pages, and the error rendering of the admin API.
This module imports no connexion: the operation's path does not need it to answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, NamedTuple

from google.protobuf.message import Message

from zitadel_mock.domain import errors, jsonbytes
from zitadel_mock.domain.errors import MockError, status_body
from zitadel_mock.domain.headers import SUCCESS_HEADERS
from zitadel_mock.operations.operation import Success
from zitadel_mock.protocols.protojson import document as protojson_document

log = logging.getLogger("zitadel_mock.protocols.gateway")

SPEC_PATH: Final = (
    Path(__file__).resolve().parent.parent / "openapi.yaml"
)  # a link to ../openapi.yaml
MAX_BODY_BYTES: Final = 1024 * 1024
# What a 500 says when the mock's own answer failed validation (the details go to the log).
NONCONFORMING: Final = "its answer did not match openapi.yaml"
JSON_WHITESPACE: Final = b" \t\n\r"  # RFC 8259; Python's bytes.strip() would also eat \f, \v


class Rendered(NamedTuple):
    """An answer as the REST operation sends it (with Content-Type ``application/json``):
    ``body`` is ``document`` encoded (a tuple: made for every answer)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    document: dict[str, Any]  # the body before encoding (holds the secret)
    body: bytes

    def __repr__(self) -> str:  # the body holds a secret on success
        return f"Rendered({self.status}, {self.headers!r})"


def render_error(error: MockError, extra_headers: dict[str, str] | None = None) -> Rendered:
    """google.rpc.Status in JSON, with the headers grpc-gateway adds."""
    headers = dict(extra_headers or {})
    if error.code is errors.Code.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = error.message
    document = status_body(error)
    return Rendered(error.http_status, tuple(headers.items()), document, encode(document))


def render_success(success: Success) -> Rendered:
    """The operation's response message in protojson, with ZITADEL's success headers."""
    document = protojson_document(success.message)
    return Rendered(200, SUCCESS_HEADERS, document, encode(document))


def encode(document: dict[str, Any]) -> bytes:
    return jsonbytes.dumps(document)


def string_fields(message: type[Message]) -> tuple[tuple[str, str], ...]:
    """The (JSON name, proto name) of each string field of ``message``: what
    :func:`decode_body` holds to protojson's rules."""
    return tuple(
        (f.json_name, f.name) for f in message.DESCRIPTOR.fields if f.type == f.TYPE_STRING
    )


def decode_body(raw: bytes, fields: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The gateway's JSON decoding: empty is ``{}``, anything but a JSON object is row 9, and so
    is a request field (``fields``, see :func:`string_fields`) that is not a string or is set
    under both its names."""
    if raw == b"{}" or not raw.strip(JSON_WHITESPACE):
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MockError(
            errors.INVALID_BODY,
            reason=f"request body is not valid UTF-8 (bad byte at position {exc.start})",
        ) from None
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise MockError(
            errors.INVALID_BODY,
            reason=f"request body is not valid JSON: {exc.msg}"
            f" at line {exc.lineno} column {exc.colno}",
        ) from None
    except (RecursionError, ValueError) as exc:
        raise MockError(
            errors.INVALID_BODY, reason=f"request body is not valid JSON: {exc}"
        ) from None
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(value), "a number"
        )
        raise MockError(
            errors.INVALID_BODY,
            reason=f"request body must be a JSON object, not {kind}",
        )
    pairs = tuple(fields)
    for pair in pairs:
        for name in pair:
            if name in value and not isinstance(value[name], str):
                raise MockError(
                    errors.INVALID_BODY,
                    reason=f"request body field {name!r} must be a string,"
                    f" not {json.dumps(value[name])[:40]}",
                )
    for json_name, proto_name in pairs:
        if json_name in value and proto_name in value:  # protojson refuses a field set twice
            raise MockError(
                errors.INVALID_BODY,
                reason=f"request body sets the field {proto_name} twice"
                f" (as {json_name!r} and {proto_name!r})",
            )
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")


_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)


def unexpected_failure(exc: Exception, logger: logging.Logger = log) -> MockError:
    """A failure of the mock's own (a bug): logged with its traceback, answered INTERNAL with
    only the exception's type as the reason."""
    logger.error("unexpected failure: %r", exc, exc_info=exc)
    return MockError(errors.INTERNAL, reason=type(exc).__name__)
