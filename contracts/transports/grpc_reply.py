"""What a gRPC or gRPC-web answer must look like, read into the suite's :class:`Reply`.

The wire-neutral half of the gRPC transports (:mod:`zitadel_contract.transports.grpc_calls`): the
request message a :class:`Call` becomes, and how a success (RegenerateOIDCClientSecretResponse) and
an error (``grpc-status``, ``grpc-message``, ``grpc-status-details-bin``) are read, whichever wire
brought them (:mod:`zitadel_contract.transports.grpc_web_reply` takes a gRPC-web body apart).
Whatever breaks a promise on the way becomes a :class:`Violation` in ``Reply.problems``; the
ErrorDetails go into ``Reply.details`` in the shape the REST reading gives them (``@type``, ``id``,
``message``), so the checks every reply passes apply unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from google.protobuf.message import DecodeError

from zitadel_contract.model import (
    ERROR_DETAIL_TYPE,
    Call,
    Reply,
    Rotation,
    Violation,
)
from zitadel_contract.transports.versions import APIS, V1, v2_rotation
from zitadel_proto.status import AnyDetail, decode_status
from zitadel_proto.wire import STATUS_DETAILS_HEADER
from zitadel_proto.zitadel.management_pb2 import RegenerateOIDCClientSecretResponse
from zitadel_proto.zitadel.object_pb2 import ObjectDetails

# The gRPC codes, OK to UNAUTHENTICATED: the only ones the error table (and a client) knows.
KNOWN_CODES: Final = range(17)
# ZITADEL writes its own errors as "<text> (<ID>)"; such an error always carries its ErrorDetail.
_ZITADEL_ID: Final = re.compile(r" \(([A-Z][A-Za-z]*-[A-Za-z0-9]+)\)\Z")


# -- the request ------------------------------------------------------------------------------


def request_message(call: Call) -> bytes:
    """v1's RegenerateOIDCClientSecretRequest for ``call``, its extra fields as unknown fields
    (:meth:`zitadel_contract.transports.versions.Api.request_message`).

    A server must ignore unknown fields, as grpc-gateway ignores unknown JSON fields; the ids
    are never sent twice (a repeated field 1 or 2 would override, not extend, the request).
    """
    return APIS[V1].request_message(call)


# -- a success --------------------------------------------------------------------------------


def success_reply(
    payload: bytes, received: datetime, problems: list[Violation], api: str = V1
) -> Reply:
    """A success: the response message must parse and carry everything a rotation promises."""
    found: list[str] = []
    rotation = _rotation(payload, found) if api == V1 else v2_rotation(payload, found)
    shape = [Violation("success_is_response_message", p) for p in found]
    return Reply(0, "", (), rotation, (*problems, *shape), received)


def _rotation(payload: bytes, problems: list[str]) -> Rotation | None:
    try:
        response = RegenerateOIDCClientSecretResponse.FromString(payload)
    except DecodeError:
        problems.append(
            # Not the bytes: they may hold a secret the redactor has not seen.
            f"the {len(payload)}-byte message is not a RegenerateOIDCClientSecretResponse"
        )
        return None
    if not response.client_secret:
        problems.append("client_secret (field 1) is empty")
        return None
    if not response.HasField("details"):
        problems.append("details (field 2) is not set")
        return None
    details = response.details
    change_date = _moment(details, "change_date", problems)
    if change_date is None:
        return None
    creation_date = _moment(details, "creation_date", problems)
    if not details.resource_owner:
        problems.append("details.resource_owner is empty")
    return Rotation(
        response.client_secret,
        int(details.sequence),
        change_date,
        creation_date,
        details.resource_owner,
    )


def _moment(details: ObjectDetails, name: str, problems: list[str]) -> datetime | None:
    """A Timestamp field as an aware datetime (microseconds); None when unset or invalid."""
    if not details.HasField(name):
        if name == "change_date":
            problems.append("details.change_date is not set")
        return None
    stamp = getattr(details, name)
    if not 0 <= stamp.nanos < 10**9:
        problems.append(f"details.{name} has nanos {stamp.nanos}, outside 0 to 999999999")
        return None
    try:
        return datetime.fromtimestamp(stamp.seconds, UTC).replace(microsecond=stamp.nanos // 1000)
    except (ValueError, OverflowError, OSError):
        problems.append(f"details.{name} has seconds {stamp.seconds}, no date a clock shows")
        return None


# -- an error ---------------------------------------------------------------------------------


def status_reply(
    code: int,
    message: str,
    details: bytes | None,
    received: datetime,
    problems: list[Violation],
    *,
    details_sent: bool | None = None,
) -> Reply:
    """An error as ``grpc-status`` (``code``), decoded ``grpc-message`` and the decoded bytes of
    ``grpc-status-details-bin``: a known code, and details that repeat code and message.

    ``details_sent`` True with ``details`` None: the header came but could not be decoded (a
    problem the caller already filed)."""
    found = list(problems)
    if code not in KNOWN_CODES:
        found.append(
            Violation("grpc_status_is_known_code", f"grpc-status {code} is no gRPC code (0-16)")
        )
    items: tuple[Mapping[str, object], ...] = ()
    if details is None and not details_sent:
        named = _ZITADEL_ID.search(message)
        if named is not None:
            found.append(
                Violation(
                    "zitadel_error_carries_status_details",
                    f"grpc-message {message!r} names ZITADEL error {named.group(1)}, but no "
                    f"{STATUS_DETAILS_HEADER} carries its ErrorDetail",
                )
            )
    elif details is not None:
        items = _details(code, message, details, found)
    return Reply(code, message, items, None, tuple(found), received)


def _details(
    code: int, message: str, data: bytes, found: list[Violation]
) -> tuple[Mapping[str, object], ...]:
    def broken(text: str) -> tuple[Mapping[str, object], ...]:
        found.append(Violation("status_details_are_google_rpc_status", text))
        return ()

    try:
        status = decode_status(data)
    except DecodeError:
        return broken(
            f"{STATUS_DETAILS_HEADER} is not a serialized google.rpc.Status: {data[:40]!r}"
        )
    if status.code != code:
        broken(f"{STATUS_DETAILS_HEADER} says code {status.code}, grpc-status says {code}")
    if status.message != message:
        broken(
            f"{STATUS_DETAILS_HEADER} says message {status.message!r}, grpc-message says "
            f"{message!r}"
        )
    items: list[Mapping[str, object]] = []
    for detail in status.details:
        if isinstance(detail, AnyDetail):
            items.append({"@type": detail.type_url})
        else:
            items.append({"@type": ERROR_DETAIL_TYPE, "id": detail.id, "message": detail.message})
    return tuple(items)
