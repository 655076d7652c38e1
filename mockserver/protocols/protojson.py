"""Protobuf messages as protojson writes them, for the JSON codecs (gateway, Connect).

The defaults of Go's ``protojson.Marshal`` (and so of grpc-gateway and connect-go): JSON names,
fields with their zero value left out, 64-bit integers as decimal strings, enums by name, bytes
in standard base64, and ``google.protobuf.Timestamp`` by
:func:`~zitadel_mock.domain.timestamps.protojson_seconds`. The result is a document for
:mod:`zitadel_mock.domain.jsonbytes` to encode. Kinds the mock's messages do not use (floats,
maps, other well-known types) are refused rather than written differently from protojson.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Final

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from zitadel_mock.domain.timestamps import protojson_seconds

Convert = Callable[[Any], Any] | None  # None: the value is written as it is
_F = FieldDescriptor
_AS_STRING: Final = frozenset(
    {_F.TYPE_INT64, _F.TYPE_UINT64, _F.TYPE_SINT64, _F.TYPE_FIXED64, _F.TYPE_SFIXED64}
)
_AS_IS: Final = frozenset(
    {
        _F.TYPE_STRING,
        _F.TYPE_BOOL,
        _F.TYPE_INT32,
        _F.TYPE_UINT32,
        _F.TYPE_SINT32,
        _F.TYPE_FIXED32,
        _F.TYPE_SFIXED32,
    }
)
TIMESTAMP: Final = "google.protobuf.Timestamp"
# Per field: its JSON name and how its value is written (worked out once per field).
_PLANS: dict[FieldDescriptor, tuple[str, Convert]] = {}


def document(message: Message) -> dict[str, Any]:
    """``message`` as the JSON object protojson writes for it."""
    out: dict[str, Any] = {}
    for descriptor, value in message.ListFields():
        plan = _PLANS.get(descriptor)
        if plan is None:
            plan = _PLANS[descriptor] = _plan(descriptor)
        name, convert = plan
        out[name] = value if convert is None else convert(value)
    return out


def _plan(descriptor: FieldDescriptor) -> tuple[str, Convert]:
    one = _converter(descriptor)
    if descriptor.is_repeated:
        if one is None:
            return descriptor.json_name, list
        return descriptor.json_name, lambda values: [one(v) for v in values]
    return descriptor.json_name, one


def _converter(descriptor: FieldDescriptor) -> Convert:
    kind = descriptor.type
    if kind in _AS_IS:
        return None
    if kind in _AS_STRING:
        return str
    if kind == _F.TYPE_MESSAGE:
        message_type = descriptor.message_type
        assert message_type is not None
        name = message_type.full_name
        if message_type.GetOptions().map_entry:
            raise NotImplementedError(f"{descriptor.full_name}: maps are not written")
        if name == TIMESTAMP:
            return timestamp
        if name.startswith("google.protobuf."):
            raise NotImplementedError(f"{name} is not written")
        return document
    if kind == _F.TYPE_ENUM:
        enum_type = descriptor.enum_type
        assert enum_type is not None
        numbers = enum_type.values_by_number
        return lambda value: numbers[value].name if value in numbers else value
    if kind == _F.TYPE_BYTES:
        return lambda value: base64.b64encode(value).decode("ascii")
    raise NotImplementedError(f"{descriptor.full_name}: protobuf type {kind} is not written")


def timestamp(value: Any) -> str:
    """A ``google.protobuf.Timestamp`` message; the mock's instants are whole microseconds."""
    micros, finer = divmod(value.nanos, 1000)
    if finer:
        raise NotImplementedError("a timestamp finer than a microsecond is not written")
    return protojson_seconds(value.seconds, micros)
