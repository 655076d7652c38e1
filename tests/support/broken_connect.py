"""Broken v2 servers: the real mock behind a middleware that breaks ONE v2 promise over Connect.

Built on :class:`tests.support.broken_servers.Defect` (served the same way, by
:func:`tests.support.broken_servers.serve`); each rewrites the Connect JSON answers of the v2 path
or the token endpoint.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import replace
from typing import Any

from starlette.types import ASGIApp

from tests.support.broken_servers import (
    Defect,
    Exchange,
    Headers,
    OldSecretKeepsWorking,
    _json,
    _set_header,
    _with_json,
)
from zitadel_proto.methods import V2_GENERATE_CLIENT_SECRET
from zitadel_proto.zitadel.message_pb2 import ErrorDetail

Answer = tuple[int, Headers, bytes]


def _is_v2(exchange: Exchange) -> bool:
    return exchange.path == V2_GENERATE_CLIENT_SECRET


def _plain(exchange: Exchange) -> Exchange:
    """The exchange with its body gunzipped (the mock gzips successes for httpx's
    Accept-Encoding, as connect-go does)."""
    if dict(exchange.headers).get(b"content-encoding") != b"gzip":
        return exchange
    headers = _set_header(exchange.headers, b"content-encoding", None)
    return replace(exchange, headers=headers, body=gzip.decompress(exchange.body))


class _V2Success(Defect):
    """Rewrites every Connect JSON success of the v2 call."""

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        return document

    def response(self, exchange: Exchange) -> Answer:
        if not _is_v2(exchange) or exchange.status != 200:
            return super().response(exchange)
        exchange = _plain(exchange)
        return _with_json(exchange, self.rewrite(_json(exchange)))


class _V2Refusal(Defect):
    """Rewrites every Connect error of the v2 call."""

    def rewrite(self, status: int, error: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return status, error

    def response(self, exchange: Exchange) -> Answer:
        error = _json(exchange) if _is_v2(exchange) and exchange.status >= 400 else None
        if not isinstance(error, dict):
            return super().response(exchange)
        status, changed = self.rewrite(exchange.status, error)
        return status, exchange.headers, json.dumps(changed).encode()


class RepeatedSecretV2(_V2Success):
    """Every success returns the first secret ever returned."""

    first: str | None = None

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        self.first = self.first or document["clientSecret"]
        return {**document, "clientSecret": self.first}


class CreationDateWithOffset(_V2Success):
    """creationDate as ``...+00:00``: RFC 3339, but not protojson's ``Z``."""

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        return {**document, "creationDate": document["creationDate"].replace("Z", "+00:00")}


class WrongConnectCodeOnNotFound(_V2Refusal):
    """A 404 says code ``invalid_argument`` (whose status is 400)."""

    def rewrite(self, status: int, error: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return status, ({**error, "code": "invalid_argument"} if status == 404 else error)


class PaddedDetailValues(_V2Refusal):
    """Detail values in base64 with ``=`` padding, where connect-go writes none."""

    def rewrite(self, status: int, error: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        details = [
            {**item, "value": item["value"] + "=" * (-len(item["value"]) % 4)}
            for item in error.get("details", [])
        ]
        return status, ({**error, "details": details} if details else error)


class DetailsDroppedV2(_V2Refusal):
    """Errors keep '<text> (<id>)' but lose their details."""

    def rewrite(self, status: int, error: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return status, {k: v for k, v in error.items() if k != "details"}


class V1IdForUnknownApp(_V2Refusal):
    """An unknown app is answered with v1's COMMAND-2g66f instead of v2's COMMAND-Kd92s."""

    def rewrite(self, status: int, error: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if "(COMMAND-Kd92s)" not in error.get("message", ""):
            return status, error
        detail = ErrorDetail(id="COMMAND-2g66f", message="Errors.Project.App.NotFound")
        value = base64.b64encode(detail.SerializeToString()).decode().rstrip("=")
        item = {
            "type": "zitadel.v1.ErrorDetail",
            "value": value,
            "debug": {"id": detail.id, "message": detail.message},
        }
        return status, {**error, "message": f"{detail.message} (COMMAND-2g66f)", "details": [item]}


class DetailOnMissingToken(_V2Refusal):
    """connect-go's raw 'auth header missing' dressed as a ZITADEL error, with an id and detail."""

    def rewrite(self, status: int, error: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if error.get("message") != "auth header missing":
            return status, error
        detail = ErrorDetail(id="AUTH-7fs1e", message="auth header missing")
        value = base64.b64encode(detail.SerializeToString()).decode().rstrip("=")
        item = {
            "type": "zitadel.v1.ErrorDetail",
            "value": value,
            "debug": {"id": detail.id, "message": detail.message},
        }
        return status, {**error, "message": "auth header missing (AUTH-7fs1e)", "details": [item]}


class ValidationBeforeAuthentication(Defect):
    """An empty applicationId is refused with 400 before the token is looked at."""

    def request(self, path: str, headers: Headers, body: bytes) -> tuple[Headers, bytes] | Answer:
        if path != V2_GENERATE_CLIENT_SECRET:
            return headers, body
        try:
            document = json.loads(body)
        except ValueError:
            return headers, body
        if isinstance(document, dict) and document.get("applicationId") == "":
            error = {
                "code": "invalid_argument",
                "message": "invalid GenerateClientSecretRequest.ApplicationId: value length must "
                "be between 1 and 200 runes, inclusive",
            }
            return 400, [(b"content-type", b"application/json")], json.dumps(error).encode()
        return headers, body


class OldSecretKeepsWorkingV2(OldSecretKeepsWorking):
    """At the token endpoint, any secret the v2 call ever returned still authenticates."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)

    def response(self, exchange: Exchange) -> Answer:
        if exchange.status == 200 and _is_v2(exchange):
            self.returned.add(_json(_plain(exchange))["clientSecret"])
        return super().response(exchange)
