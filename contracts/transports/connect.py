"""The ``connect`` and ``connect-proto`` transports: v2 and v2beta as connect-go serves them.

A unary Connect call is ``POST /<service>/<method>`` with the request as JSON
(``application/json``) or binary protobuf (``application/proto``); the answer echoes that
Content-Type on success, and an error is always Connect's JSON, ``{"code": "<code string>",
"message": ..., "details": [{"type", "value", "debug"}]}``, with the HTTP status of
connect-go's table (ZITADEL-v2.md §5). :func:`read_connect_reply` is the one reading of such an
answer: its details become the suite's ``{"@type", "id", "message"}`` items, so the checks every
reply passes apply unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from google.protobuf.message import DecodeError

from zitadel_contract.checks import ZITADEL_ID_IN_MESSAGE
from zitadel_contract.model import ERROR_DETAIL_TYPE, Call, Reply, Rotation, Violation
from zitadel_contract.provision import Target
from zitadel_contract.transports.http_client import http_client
from zitadel_contract.transports.rest import (
    authorization_of,
    curl_headers,
    media_type,
    parse_timestamp,
)
from zitadel_contract.transports.shell import printf_words
from zitadel_contract.transports.versions import Api, api_of, v2_rotation
from zitadel_proto.zitadel.message_pb2 import ErrorDetail

# connect-go's codes, their gRPC numbers and HTTP statuses (protocol_connect.go).
CONNECT_CODES: Final[dict[str, tuple[int, int]]] = {
    "canceled": (1, 499), "unknown": (2, 500), "invalid_argument": (3, 400),
    "deadline_exceeded": (4, 504), "not_found": (5, 404), "already_exists": (6, 409),
    "permission_denied": (7, 403), "resource_exhausted": (8, 429),
    "failed_precondition": (9, 400), "aborted": (10, 409), "out_of_range": (11, 400),
    "unimplemented": (12, 501), "internal": (13, 500), "unavailable": (14, 503),
    "data_loss": (15, 500), "unauthenticated": (16, 401),
}  # fmt: skip
# connect-go's answers before the protocol starts (no Connect error body): 404 text/plain for a
# path it does not serve, 405 and 415 empty; as codes, how a Connect client reads those statuses.
BEFORE_PROTOCOL: Final[dict[int, int]] = {404: 12, 405: 2, 415: 2}
DETAIL_TYPE: Final = "zitadel.v1.ErrorDetail"
_UNPADDED_BASE64: Final = re.compile(r"[A-Za-z0-9+/]*")
_ERROR_FIELDS: Final = frozenset({"code", "message", "details"})


def read_connect_reply(
    status: int, headers: Mapping[str, str], body: bytes, *, proto: bool
) -> Reply:
    """One Connect answer; ``proto``: the request was ``application/proto``."""
    received = datetime.now(UTC)
    if status == 200:
        return _success(headers, body, proto, received)
    if status in BEFORE_PROTOCOL and (not body or media_type(headers) == "text/plain"):
        return Reply(BEFORE_PROTOCOL[status], "", (), None, (), received, status)
    return _error(status, headers, body, received)


def _success(headers: Mapping[str, str], body: bytes, proto: bool, received: datetime) -> Reply:
    problems: list[str] = []
    expected = "application/proto" if proto else "application/json"
    if media_type(headers) != expected:
        problems.append(f"Content-Type {headers.get('content-type')!r}, not {expected}")
    rotation = v2_rotation(body, problems) if proto else _json_rotation(body, problems)
    found = tuple(Violation("success_body_is_protojson", p) for p in problems)
    return Reply(0, "", (), rotation, found, received, 200)


def _json_rotation(body: bytes, problems: list[str]) -> Rotation | None:
    try:
        document = json.loads(body)
    except ValueError:
        problems.append("the body is not JSON")
        return None
    if not isinstance(document, dict):
        problems.append("the body is not a JSON object")
        return None
    secret = document.get("clientSecret")
    if not isinstance(secret, str) or not secret:
        problems.append("clientSecret is missing or not a non-empty string")
        return None
    unexpected = sorted(set(document) - {"clientSecret", "creationDate"})
    if unexpected:
        problems.append(f"fields {unexpected} are not in the response message")
    moment = parse_timestamp(document.get("creationDate"))
    if moment is None:
        problems.append(
            f"creationDate {document.get('creationDate')!r} is not a protojson Timestamp "
            "(RFC 3339, UTC with Z, 0, 3, 6 or 9 fraction digits)"
        )
        return None
    return Rotation(secret, None, moment, None, None)


def _error(status: int, headers: Mapping[str, str], body: bytes, received: datetime) -> Reply:
    found: list[Violation] = []

    def shape(text: str) -> None:
        found.append(Violation("connect_error_is_connect_json", text))

    if media_type(headers) != "application/json":
        shape(f"Content-Type {headers.get('content-type')!r}; Connect errors are application/json")
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    code, message = -1, ""
    details: list[Mapping[str, object]] = []
    if not isinstance(document, dict):
        shape(f"HTTP {status}: the body is not a JSON object: {body[:200]!r}")
        return Reply(code, message, (), None, tuple(found), received, status)
    unexpected = sorted(set(document) - _ERROR_FIELDS)
    if unexpected:
        shape(f"fields {unexpected} are not Connect error fields")
    raw_code, raw_message = document.get("code"), document.get("message", "")
    if isinstance(raw_code, str) and raw_code in CONNECT_CODES:
        code, expected = CONNECT_CODES[raw_code]
        if expected != status:
            found.append(
                Violation(
                    "connect_code_matches_http_status",
                    f"HTTP {status} carries code {raw_code!r}; connect-go sends {raw_code!r} as "
                    f"HTTP {expected}",
                )
            )
    else:
        shape(f"code {raw_code!r} is not a Connect code string")
    if isinstance(raw_message, str):
        message = raw_message
    else:
        shape(f"message {raw_message!r} is not a string")
    raw_details = document.get("details", [])
    if not isinstance(raw_details, list) or ("details" in document and not raw_details):
        shape("details is not a non-empty list (connect-go leaves it out when empty)")
    else:
        for item in raw_details:
            detail = _detail(item, found)
            if detail is not None:
                details.append(detail)
    named = ZITADEL_ID_IN_MESSAGE.search(message)
    if named is not None and not raw_details:
        found.append(
            Violation(
                "zitadel_error_carries_error_detail",
                f"message {message!r} names ZITADEL error {named.group(1)}, but the body has "
                f"no details carrying its {DETAIL_TYPE}",
            )
        )
    return Reply(code, message, tuple(details), None, tuple(found), received, status)


def _detail(item: object, found: list[Violation]) -> Mapping[str, object] | None:
    def broken(text: str) -> None:
        found.append(Violation("connect_detail_is_unpadded_base64", text))

    if not isinstance(item, dict) or item.get("type") != DETAIL_TYPE:
        kind = item.get("type") if isinstance(item, dict) else item
        broken(f"a detail of type {kind!r}, not {DETAIL_TYPE!r}")
        return None
    value = item.get("value")
    if not isinstance(value, str) or not _UNPADDED_BASE64.fullmatch(value):
        broken(f"value {str(value)[:60]!r} is not standard base64 without padding")
        return None
    try:
        decoded = ErrorDetail.FromString(base64.b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, DecodeError):
        broken(f"value {value[:60]!r} does not decode to a zitadel.v1.ErrorDetail")
        return None
    debug = item.get("debug")
    if debug != {"id": decoded.id, "message": decoded.message}:
        broken(f"debug {debug!r} does not repeat the value's id and message")
    return {"@type": ERROR_DETAIL_TYPE, "id": decoded.id, "message": decoded.message}


class ConnectTransport:
    """Connect unary calls with JSON bodies over HTTP/1.1 (httpx), as the zitadel-client SDK."""

    name = "connect"
    proto = False

    def __init__(self, target: Target, timeout: float) -> None:
        self.target = target
        self.api: Api = api_of(target.api)
        self.client = http_client(target.url, timeout, follow_redirects=False)
        self.requests = 0

    def _parts(self, call: Call) -> tuple[str, list[tuple[str, str]], bytes]:
        if self.proto:
            body = self.api.request_message(call)
            headers = [("Content-Type", "application/proto")]
        else:
            body = self.api.json_body(call)
            headers = [("Content-Type", "application/json")]
        authorization = authorization_of(call, self.target)
        if authorization is not None:
            headers.append(("Authorization", authorization))
        if call.org_id is not None:
            headers.append(("x-zitadel-orgid", call.org_id))
        return call.path or self.api.method_path, headers, body

    def call(self, call: Call) -> Reply:
        path, headers, body = self._parts(call)
        response = self.client.request(call.method, path, headers=headers, content=body)
        self.requests += 1
        lowered = {k.lower(): v for k, v in response.headers.items()}
        return read_connect_reply(response.status_code, lowered, response.content, proto=self.proto)

    def reproduce(self, call: Call) -> str:
        path, headers, body = self._parts(call)
        words = ["curl", "-sS", "-X", call.method, shlex.quote(self.target.url + path)]
        words += curl_headers(headers, call.credential)
        if self.proto:
            return " ".join([*printf_words(body), "|", *words, "--data-binary", "@-"])
        words += ["--data-binary", shlex.quote(body.decode("utf-8", errors="backslashreplace"))]
        return " ".join(words)

    def close(self) -> None:
        self.client.close()


class ConnectProtoTransport(ConnectTransport):
    """Connect unary calls with binary protobuf bodies (``application/proto``)."""

    name = "connect-proto"
    proto = True
