"""Connect unary bodies as connect-go reads and writes them: protojson or binary proto in,
protojson or binary proto out, errors as the Connect error JSON.

Decoding follows connect-go's codecs over Go's ``protojson.UnmarshalOptions{DiscardUnknown:
true}``: an empty JSON body is refused before anything else, unknown fields are skipped, JSON
and proto field names are both accepted, ``null`` leaves a field unset, a field given twice or
a second oneof member is an error, and every error reads ``unmarshal into <Go type>: proto:
...`` (Go's texts; its positions are approximated). Error bodies are written the way Go's
``encoding/json`` writes connect-go's wire error: compact, keys in order, ``<``, ``>``, ``&``,
U+2028 and U+2029 escaped.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Final

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import CONNECT_CODE, MockError
from zitadel_mock.domain.timestamps import protojson_timestamp
from zitadel_mock.operations.generate_client_secret import SecretOperation
from zitadel_mock.operations.service import Regenerated
from zitadel_proto.zitadel.message_pb2 import ErrorDetail

ERROR_DETAIL_NAME: Final = ErrorDetail.DESCRIPTOR.full_name
ZERO_LENGTH: Final = "zero-length payload is not a valid JSON object"
_GO_ESCAPES: Final = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028"}
_GO_ESCAPES_ALL: Final = {**_GO_ESCAPES, "\u2029": "\\u2029"}
_KIND: Final = {FieldDescriptor.TYPE_STRING: "string", FieldDescriptor.TYPE_BOOL: "bool"}
_PYTHON_TYPE: Final = {FieldDescriptor.TYPE_STRING: str, FieldDescriptor.TYPE_BOOL: bool}


def go_json(value: object) -> str:
    """``value`` as Go's ``json.Marshal`` writes it (compact, HTML-safe, raw UTF-8)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if any(c in text for c in _GO_ESCAPES_ALL):
        text = "".join(_GO_ESCAPES_ALL.get(c, c) for c in text)
    return text


def error_json(error: MockError) -> bytes:
    """connect-go's wire error: ``code``, ``message`` and, for ZITADEL's errors, one detail."""
    body: dict[str, object] = {"code": CONNECT_CODE[error.code], "message": error.message}
    detail = error.detail
    if detail is not None:
        packed = ErrorDetail(id=detail[0], message=detail[1]).SerializeToString()
        debug: dict[str, str] = {}
        if detail[0]:
            debug["id"] = detail[0]
        if detail[1]:
            debug["message"] = detail[1]
        body["details"] = [
            {
                "type": ERROR_DETAIL_NAME,
                "value": base64.b64encode(packed).decode("ascii").rstrip("="),
                "debug": debug,
            }
        ]
    return go_json(body).encode("utf-8")


def success_json(result: Regenerated) -> bytes:
    """The response message as protojson: ``clientSecret`` and ``creationDate`` only."""
    secret = json.dumps(result.client_secret)
    created = protojson_timestamp(result.change_date)
    return f'{{"clientSecret":{secret},"creationDate":"{created}"}}'.encode()


def success_proto(operation: SecretOperation, result: Regenerated) -> bytes:
    return operation.response(result).SerializeToString()


def _unmarshal_error(operation: SecretOperation, reason: str) -> MockError:
    return MockError(
        errors.CONNECT_BAD_MESSAGE,
        reason=f"unmarshal into {operation.go_request_type}: proto: {reason}",
    )


def decode_proto(operation: SecretOperation, data: bytes) -> Message:
    """Binary proto: an empty body is the empty message; the last oneof member wins."""
    try:
        return operation.request_type.FromString(data)
    except DecodeError:
        raise _unmarshal_error(operation, "cannot parse invalid wire-format data") from None


def _position(text: str, at: int) -> str:
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return f"(line {line}:{column})"


class _Where:
    """Where a key (or its value) sits in the text, as Go's ``(line L:C)``; worked out only when
    a message needs it."""

    def __init__(self, text: str, key: str, value: bool = False) -> None:
        self.text, self.key, self.value = text, key, value

    def index(self) -> int:
        at = max(self.text.find(json.dumps(self.key)), 0)
        if self.value:
            colon = self.text.find(":", at + len(json.dumps(self.key)))
            at = colon + 1 + len(self.text[colon + 1 :]) - len(self.text[colon + 1 :].lstrip())
        return at

    def __str__(self) -> str:
        return _position(self.text, self.index())

    def token(self) -> str:
        """The raw JSON token at the value, as Go's ``tok.RawString()``."""
        rest = self.text[self.index() :]
        if rest[:1] in ("[", "{"):
            return rest[:1]
        if rest[:1] == '"':
            try:
                _, end = json.JSONDecoder().raw_decode(rest)
            except ValueError:
                return rest[:1]
            return rest[:end]
        match = _RAW_VALUE.match(rest)
        return match.group(0) if match else rest[:1]


_RAW_VALUE: Final = re.compile(r'[^\s{}\[\],:"]+')


def _reject_constant(name: str) -> None:
    raise ValueError(name)


# Made once: json.loads with arguments builds a decoder, and its scanner, on every call. Its
# ``decode`` is what json.loads calls on a str (json.loads's own check for a leading BOM fails
# at position 0, as the decoder does on one).
_DECODER: Final = json.JSONDecoder(object_pairs_hook=list, parse_constant=_reject_constant)


def _syntax_error(operation: SecretOperation, text: str, at: int, valid: bool = False) -> MockError:
    """A JSON syntax error in Go's words: EOF, an unexpected token, or an invalid value.

    ``valid``: the text at ``at`` is a valid JSON value in the wrong place (the whole body
    that is not an object), which Go calls an unexpected token."""
    if not text[at:].strip():
        return _unmarshal_error(operation, "unexpected EOF")
    at += len(text[at:]) - len(text[at:].lstrip())
    char = text[at]
    if valid or char in '{}[],:"':
        match = _RAW_VALUE.match(text, at)
        token = match.group(0) if valid and match else char
        if char == '"':
            try:
                token = text[at : at + json.JSONDecoder().raw_decode(text[at:])[1]]
            except ValueError:
                return _unmarshal_error(operation, "unexpected EOF")
        return _unmarshal_error(
            operation, f"syntax error {_position(text, at)}: unexpected token {token}"
        )
    match = _RAW_VALUE.match(text, at)
    shown = match.group(0) if match else char
    return _unmarshal_error(operation, f"syntax error {_position(text, at)}: invalid value {shown}")


def decode_json(operation: SecretOperation, data: bytes) -> Message:
    """protojson with DiscardUnknown, as connect-go's JSON codec calls it."""
    if not data:
        raise MockError(errors.CONNECT_BAD_MESSAGE, reason=ZERO_LENGTH)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8", "replace")
        where = _position(before, len(before))
        raise _unmarshal_error(operation, f"syntax error {where}: invalid UTF-8 in string") from (
            None
        )
    try:
        document = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _syntax_error(operation, text, exc.pos) from None
    except ValueError as exc:  # NaN, Infinity: not JSON
        raise _syntax_error(operation, text, max(text.find(str(exc)), 0)) from None
    except RecursionError:
        raise _unmarshal_error(operation, "exceeded max recursion depth") from None
    if not isinstance(document, list) or not text.lstrip().startswith("{"):
        raise _syntax_error(operation, text, 0, valid=True)
    return _fill(operation, text, document)


_FIELDS: dict[type[Message], dict[str, FieldDescriptor]] = {}


def _fields_by_name(message_type: type[Message]) -> dict[str, FieldDescriptor]:
    """Both spellings of every field (``applicationId``, ``application_id``), built once."""
    if message_type not in _FIELDS:
        fields: list[FieldDescriptor] = list(message_type.DESCRIPTOR.fields)  # type: ignore[arg-type]
        _FIELDS[message_type] = {f.json_name: f for f in fields} | {f.name: f for f in fields}
    return _FIELDS[message_type]


def _fill(operation: SecretOperation, text: str, pairs: list[tuple[str, Any]]) -> Message:
    by_name = _fields_by_name(operation.request_type)
    message = operation.request_type()
    seen_numbers: set[int] = set()
    seen_oneofs: set[str] = set()
    for key, value in pairs:
        fd = by_name.get(key)
        if fd is None:
            continue  # DiscardUnknown
        where = _Where(text, key)
        if fd.number in seen_numbers:
            raise _unmarshal_error(operation, f"{where}: duplicate field {json.dumps(key)}")
        seen_numbers.add(fd.number)
        if value is None:
            continue
        oneof = fd.containing_oneof
        if oneof is not None:
            if oneof.name in seen_oneofs:
                raise _unmarshal_error(
                    operation,
                    f"{where}: error parsing {json.dumps(key)}, oneof {oneof.full_name} "
                    "is already set",
                )
            seen_oneofs.add(oneof.name)
        expected = _PYTHON_TYPE[fd.type]
        if type(value) is not expected:
            at = _Where(text, key, value=True)
            raise _unmarshal_error(
                operation,
                f"{at}: invalid value for {_KIND[fd.type]} field {fd.json_name}: {at.token()}",
            )
        setattr(message, fd.name, value)
    return message
