"""The REST transport: the call as grpc-gateway serves it, and what its answers must look like.

:func:`read_reply` is the one reading of an HTTP answer, used for the suite's own calls and for
schemathesis' cases alike: a success must be the response message in protojson, an error a
google.rpc.Status in ``application/json`` whose code matches the HTTP status the way grpc-gateway
maps it, and every 401 must carry ``WWW-Authenticate``.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote

from zitadel_contract.checks import (
    HTTP_STATUS_OF_CODE,
    ZITADEL_ID_IN_MESSAGE,
    code_matches_status,
)
from zitadel_contract.model import (
    ERROR_DETAIL_TYPE,
    OPERATION_PATH,
    Call,
    Credential,
    NotApplicableError,
    Reply,
    Rotation,
    Violation,
)
from zitadel_contract.provision import Target
from zitadel_contract.transports.http_client import http_client

TOKEN_VARIABLE: Final = "ZITADEL_CONTRACT_TOKEN"
NO_PERMISSION_VARIABLE: Final = "ZITADEL_CONTRACT_NO_PERMISSION_TOKEN"
STATUS_FIELDS: Final = frozenset({"code", "message", "details"})
_TIMESTAMP: Final = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{3}|\d{6}|\d{9}))?Z"
)  # protojson's google.protobuf.Timestamp: UTC, 0, 3, 6 or 9 fraction digits
_UINT64: Final = re.compile(r"0|[1-9][0-9]{0,19}")


def parse_timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or (match := _TIMESTAMP.fullmatch(value)) is None:
        return None
    micros = (match.group(2) or "0").ljust(6, "0")[:6]
    try:
        moment = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment.replace(microsecond=int(micros))


def media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def read_reply(
    status: int, headers: Mapping[str, str], body: bytes, received_at: datetime | None = None
) -> Reply:
    """One HTTP answer as a :class:`Reply`. ``headers`` must have lower-case names."""
    received = received_at or datetime.now(UTC)
    if 200 <= status < 300:
        return _success(status, headers, body, received)
    return _error(status, headers, body, received)


def _success(status: int, headers: Mapping[str, str], body: bytes, received: datetime) -> Reply:
    problems: list[str] = []
    if status != 200:
        problems.append(f"HTTP {status}; grpc-gateway answers a success with 200")
    if media_type(headers) != "application/json":
        problems.append(f"Content-Type {headers.get('content-type')!r}, not application/json")
    rotation = None
    try:
        document = json.loads(body)
    except ValueError:
        problems.append("the body is not JSON")
    else:
        rotation = _rotation(document, problems)
    violations = tuple(Violation("success_body_is_protojson", p) for p in problems)
    return Reply(0, "", (), rotation, violations, received, status)


def _rotation(document: object, problems: list[str]) -> Rotation | None:
    if not isinstance(document, dict) or not isinstance(document.get("details"), dict):
        problems.append("the body is not an object with a 'details' object")
        return None
    secret, details = document.get("clientSecret"), document["details"]
    if not isinstance(secret, str) or not secret:
        problems.append("clientSecret is missing or not a non-empty string")
        return None
    raw_sequence = details.get("sequence")
    if isinstance(raw_sequence, str) and _UINT64.fullmatch(raw_sequence):
        sequence = int(raw_sequence)
    elif isinstance(raw_sequence, int) and not isinstance(raw_sequence, bool):
        problems.append(
            f"details.sequence is the JSON number {raw_sequence}; protojson writes a uint64 "
            "as a decimal string"
        )
        sequence = raw_sequence
    else:
        problems.append(f"details.sequence {raw_sequence!r} is not a uint64 decimal string")
        return None
    change_date = parse_timestamp(details.get("changeDate"))
    if change_date is None:
        problems.append(
            f"details.changeDate {details.get('changeDate')!r} is not an RFC 3339 UTC timestamp"
        )
        return None
    creation_date = parse_timestamp(details.get("creationDate"))
    if "creationDate" in details and creation_date is None:
        problems.append(f"details.creationDate {details['creationDate']!r} is not a timestamp")
    owner = details.get("resourceOwner")
    if not isinstance(owner, str) or not owner:
        problems.append(f"details.resourceOwner {owner!r} is not a non-empty string")
        owner = ""
    return Rotation(secret, sequence, change_date, creation_date, owner)


def _error(status: int, headers: Mapping[str, str], body: bytes, received: datetime) -> Reply:
    shape: list[str] = []
    if media_type(headers) != "application/json":
        shape.append(
            f"Content-Type {headers.get('content-type')!r}; grpc-gateway sends errors as "
            "application/json"
        )
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    code, message, details = -1, "", ()
    if not isinstance(document, dict):
        shape.append(f"the body is not a JSON object: {body[:200]!r}")
    else:
        unexpected = sorted(set(document) - STATUS_FIELDS)
        if unexpected:
            shape.append(f"fields {unexpected} are not google.rpc.Status fields")
        raw_code, raw_message = document.get("code"), document.get("message")
        raw_details = document.get("details", [])
        if isinstance(raw_code, int) and not isinstance(raw_code, bool):
            code = raw_code
        else:
            shape.append(f"code {raw_code!r} is not an integer")
        if isinstance(raw_message, str):
            message = raw_message
        else:
            shape.append(f"message {raw_message!r} is not a string")
        if isinstance(raw_details, list) and all(
            isinstance(d, dict) and isinstance(d.get("@type"), str) for d in raw_details
        ):
            details = tuple(raw_details)
        else:
            shape.append("details is not a list of google.protobuf.Any objects")
    found = [Violation("error_is_google_rpc_status", p) for p in shape]
    if code != -1 and not code_matches_status(code, status):
        expected = HTTP_STATUS_OF_CODE.get(code)
        found.append(
            Violation(
                "error_code_matches_http_status",
                f"HTTP {status} carries code {code}; grpc-gateway sends code {code} as "
                f"HTTP {expected}"
                if expected
                else f"HTTP {status} carries code {code}, which is no error code",
            )
        )
    named = ZITADEL_ID_IN_MESSAGE.search(message)
    if named is not None and not details and isinstance(document, dict):
        found.append(
            Violation(
                "zitadel_error_carries_error_detail",
                f"message {message!r} names ZITADEL error {named.group(1)}, but the body has "
                f"no details carrying its {ERROR_DETAIL_TYPE}",
            )
        )
    if status == 401 and not headers.get("www-authenticate"):
        found.append(
            Violation(
                "unauthenticated_carries_www_authenticate", "HTTP 401 without WWW-Authenticate"
            )
        )
    return Reply(code, message, details, None, tuple(found), received, status)


def authorization_of(call: Call, target: Target) -> str | None:
    """The Authorization value ``call`` asks for, or None for none at all."""
    if call.credential is Credential.GIVEN:
        return f"Bearer {target.token}"
    if call.credential is Credential.NO_PERMISSION:
        if target.no_permission_token is None:
            raise NotApplicableError("no token without permission was given")
        return f"Bearer {target.no_permission_token}"
    if call.credential is Credential.RAW:
        return call.raw_authorization
    return None


def curl_headers(headers: Iterable[tuple[str, str]], credential: Credential) -> list[str]:
    """``-H`` arguments of a curl line; the run's tokens as the variables that hold them."""
    words: list[str] = []
    for name, value in headers:
        if name.lower() == "authorization" and credential is Credential.GIVEN:
            words += ["-H", f'"{name}: Bearer ${TOKEN_VARIABLE}"']
        elif name.lower() == "authorization" and credential is Credential.NO_PERMISSION:
            words += ["-H", f'"{name}: Bearer ${NO_PERMISSION_VARIABLE}"']
        else:
            words += ["-H", shlex.quote(f"{name}: {value}")]
    return words


class RestTransport:
    """Calls over HTTP/1.1 JSON with httpx, one connection pool per run."""

    name = "rest"

    def __init__(self, target: Target, timeout: float) -> None:
        self.target = target
        self.client = http_client(target.url, timeout, follow_redirects=False)
        self.requests = 0

    def _parts(self, call: Call) -> tuple[str, dict[str, str], bytes]:
        path = call.path or OPERATION_PATH.format(
            projectId=quote(call.project_id, safe=""), appId=quote(call.app_id, safe="")
        )
        headers = {"Content-Type": "application/json"}
        authorization = authorization_of(call, self.target)
        if authorization is not None:
            headers["Authorization"] = authorization
        if call.org_id is not None:
            headers["x-zitadel-orgid"] = call.org_id
        body = call.raw_body
        if body is None:
            body = json.dumps(dict(call.extra_fields), separators=(",", ":")).encode()
        return path, headers, body

    def call(self, call: Call) -> Reply:
        path, headers, body = self._parts(call)
        response = self.client.request(call.method, path, headers=headers, content=body)
        self.requests += 1
        lowered = {k.lower(): v for k, v in response.headers.items()}
        return read_reply(response.status_code, lowered, response.content)

    def reproduce(self, call: Call) -> str:
        """A curl line that sends the same request, tokens as environment variables."""
        path, headers, body = self._parts(call)
        words = ["curl", "-sS", "-X", call.method, shlex.quote(self.target.url + path)]
        words += curl_headers(headers.items(), call.credential)
        words += ["--data-binary", shlex.quote(body.decode("utf-8", errors="backslashreplace"))]
        return " ".join(words)

    def close(self) -> None:
        self.client.close()
