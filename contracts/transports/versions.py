"""The API versions a run can verify: v1 (Management API), v2 and v2beta (connect-go).

An :class:`Api` says where the call goes (its method path), which transports reach it, how a
:class:`Call` becomes its request message (binary or JSON), how a binary success is read, and
the ZITADEL id of its "unknown app" error. v2 has no REST path and no gRPC-web-text (connect-go
serves neither, ZITADEL-v2.md §2), v1 no Connect.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from zitadel_contract.model import Call, NotApplicableError, Rotation
from zitadel_proto.methods import V2_GENERATE_CLIENT_SECRET, V2BETA_REGENERATE_CLIENT_SECRET
from zitadel_proto.wire import METHOD_PATH

# The messages (protobuf, and grpc through zitadel_proto.client) are imported by the functions
# that use them: a REST run, and `zitadel-mock verify` checking its options, never need them.

V1: Final = "v1"
V2: Final = "v2"
V2BETA: Final = "v2beta"
# Extra body fields become unknown fields of the request, numbered from each API's
# first_unknown_field (away from the fields it defines) and below 19000-19999 (reserved).
_UNKNOWN_FIELD_SPAN: Final = 18000


@dataclass(frozen=True, slots=True)
class Api:
    name: str
    method_path: str
    transports: tuple[str, ...]
    unknown_app_id: str  # ZITADEL's id for an app that does not exist
    request_fields: frozenset[str]  # the request's field names, JSON and proto spellings
    first_unknown_field: int  # extra fields go to numbers from here (away from the defined ones)
    encode: Callable[[Call], bytes]
    document: Callable[[Call], dict[str, object]]
    response_name: str

    def request_message(self, call: Call) -> bytes:
        """The request for ``call``, its extra fields appended as unknown fields."""
        if call.raw_body is not None or call.method != "POST" or call.path is not None:
            raise NotApplicableError("a raw body, an HTTP method or a path exists over rest only")
        message = self.encode(call)
        for name, value in call.extra_fields.items():
            number = self.first_unknown_field + zlib.crc32(name.encode()) % _UNKNOWN_FIELD_SPAN
            message += unknown_field(number, value)
        return message

    def json_body(self, call: Call) -> bytes:
        """The request as Connect JSON: the extra fields, then the ids (a field name the
        request defines is left out: in either spelling it would set the field twice)."""
        if call.raw_body is not None:
            return call.raw_body
        document = {k: v for k, v in call.extra_fields.items() if k not in self.request_fields}
        document.update(self.document(call))
        return json.dumps(document, separators=(",", ":")).encode()


def unknown_field(number: int, value: object) -> bytes:
    """A field the request message does not define: a whole number as a varint, else the
    value's JSON text as a length-delimited field."""
    if isinstance(value, int) and 0 <= value < 2**64:
        return _varint(number << 3) + _varint(int(value))
    data = json.dumps(value, ensure_ascii=False).encode("utf-8", errors="surrogatepass")
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _v1_encode(call: Call) -> bytes:
    from zitadel_proto.client import request_bytes  # noqa: PLC0415

    return request_bytes(call.project_id, call.app_id)


def _v2_encode(call: Call) -> bytes:
    from zitadel_proto.zitadel.application_v2_pb2 import GenerateClientSecretRequest  # noqa: PLC0415

    return GenerateClientSecretRequest(
        application_id=call.app_id, project_id=call.project_id
    ).SerializeToString()


def _v2beta_encode(call: Call) -> bytes:
    from zitadel_proto.zitadel.app_v2beta_pb2 import RegenerateClientSecretRequest  # noqa: PLC0415

    return RegenerateClientSecretRequest(
        project_id=call.project_id, application_id=call.app_id, is_oidc=True
    ).SerializeToString()


def _no_json(call: Call) -> dict[str, object]:
    raise NotApplicableError("v1 has no Connect JSON body")


APIS: Final[Mapping[str, Api]] = {
    V1: Api(
        V1, METHOD_PATH, ("rest", "grpc", "grpc-web", "grpc-web-text"), "COMMAND-2g66f",
        frozenset({"projectId", "project_id", "appId", "app_id"}), 3, _v1_encode, _no_json,
        "RegenerateOIDCClientSecretResponse",
    ),
    V2: Api(
        V2, V2_GENERATE_CLIENT_SECRET, ("connect", "connect-proto", "grpc", "grpc-web"),
        "COMMAND-Kd92s",
        frozenset({"applicationId", "application_id", "projectId", "project_id"}), 3,
        _v2_encode,
        lambda call: {"applicationId": call.app_id, "projectId": call.project_id},
        "GenerateClientSecretResponse",
    ),
    V2BETA: Api(
        V2BETA, V2BETA_REGENERATE_CLIENT_SECRET,
        ("connect", "connect-proto", "grpc", "grpc-web"), "COMMAND-2g66f",
        frozenset({"projectId", "project_id", "applicationId", "application_id", "isOidc",
                   "is_oidc", "isApi", "is_api"}), 5,
        _v2beta_encode,
        lambda call: {"projectId": call.project_id, "applicationId": call.app_id, "isOidc": True},
        "RegenerateClientSecretResponse",
    ),
}  # fmt: skip


def api_of(name: str) -> Api:
    return APIS[name]


def v2_rotation(payload: bytes, problems: list[str]) -> Rotation | None:
    """A binary v2/v2beta success (both responses: secret 1, creation_date 2)."""
    from google.protobuf.message import DecodeError  # noqa: PLC0415

    from zitadel_proto.zitadel.app_v2beta_pb2 import RegenerateClientSecretResponse  # noqa: PLC0415
    from zitadel_proto.zitadel.application_v2_pb2 import (  # noqa: PLC0415
        GenerateClientSecretResponse,
    )

    try:
        response = GenerateClientSecretResponse.FromString(payload)
        RegenerateClientSecretResponse.FromString(payload)
    except DecodeError:
        problems.append(f"the {len(payload)}-byte message is not a GenerateClientSecretResponse")
        return None
    if not response.client_secret:
        problems.append("client_secret (field 1) is empty")
        return None
    if not response.HasField("creation_date"):
        problems.append("creation_date (field 2) is not set")
        return None
    stamp = response.creation_date
    if not 0 <= stamp.nanos < 10**9:
        problems.append(f"creation_date has nanos {stamp.nanos}, outside 0 to 999999999")
        return None
    try:
        moment = datetime.fromtimestamp(stamp.seconds, UTC).replace(microsecond=stamp.nanos // 1000)
    except (ValueError, OverflowError, OSError):
        problems.append(f"creation_date has seconds {stamp.seconds}, no date a clock shows")
        return None
    return Rotation(response.client_secret, None, moment, None, None)
