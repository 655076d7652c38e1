"""Deliberately broken servers: the real mock behind a middleware that breaks ONE promise.

Each defect is an ASGI middleware around the mock's own app, served by uvicorn on a real socket
in a thread. The contract suite must fail against every one of them, for the right reason.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.support.threaded_server import serving
from zitadel_contract.provision import APP, APP_ORG, CLIENT_ID, HOME_ORG, PROJECT, fixture_document
from zitadel_mock.app import Settings, build_app

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Exchange:
    """A request as the middleware saw it, and the answer it may rewrite."""

    path: str
    request_headers: dict[bytes, bytes]
    status: int
    headers: Headers
    body: bytes


class Defect:
    """A middleware with two optional hooks: rewrite the request, or rewrite the answer.

    ``request`` returns new headers and body, or an answer of its own (status, headers, body).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def request(
        self, path: str, headers: Headers, body: bytes
    ) -> tuple[Headers, bytes] | tuple[int, Headers, bytes]:
        return headers, body

    def response(self, exchange: Exchange) -> tuple[int, Headers, bytes]:
        return exchange.status, exchange.headers, exchange.body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                break
        changed = self.request(scope["path"], list(scope["headers"]), b"".join(chunks))
        if len(changed) == 3:
            await _answer(send, *changed)
            return
        headers, body = changed
        headers = [(k, v) for k, v in headers if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        start: dict[str, Any] = {}
        out: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                out.append(message.get("body", b""))

        await self.app({**scope, "headers": headers}, replay, capture)
        exchange = Exchange(
            scope["path"],
            dict(headers),
            start["status"],
            list(start.get("headers", [])),
            b"".join(out),
        )
        await _answer(send, *self.response(exchange))


async def _answer(send: Send, status: int, headers: Headers, body: bytes) -> None:
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _json(exchange: Exchange) -> Any:
    return json.loads(exchange.body) if exchange.body else None


def _with_json(exchange: Exchange, document: object) -> tuple[int, Headers, bytes]:
    return exchange.status, exchange.headers, json.dumps(document).encode()


def _set_header(headers: Headers, name: bytes, value: bytes | None) -> Headers:
    kept = [(k, v) for k, v in headers if k.lower() != name]
    return kept if value is None else [*kept, (name, value)]


# -- the defects, one promise each -----------------------------------------------------------


class WrongCodeOnNotFound(Defect):
    """A 404 says code 3 (INVALID_ARGUMENT) instead of 5."""

    def response(self, exchange: Exchange) -> tuple[int, Headers, bytes]:
        if exchange.status != 404:
            return super().response(exchange)
        return _with_json(exchange, {**_json(exchange), "code": 3})


class ProblemJsonErrors(Defect):
    """Errors as RFC 7807 problem+json, the way connexion answers by default."""

    def response(self, exchange: Exchange) -> tuple[int, Headers, bytes]:
        if exchange.status < 400:
            return super().response(exchange)
        status = _json(exchange)
        problem = {
            "type": "about:blank",
            "title": "Error",
            "status": exchange.status,
            "detail": status["message"],
        }
        headers = _set_header(exchange.headers, b"content-type", b"application/problem+json")
        return exchange.status, headers, json.dumps(problem).encode()


class _SuccessRewrite(Defect):
    """Rewrites the body of every successful rotation."""

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        return document

    def response(self, exchange: Exchange) -> tuple[int, Headers, bytes]:
        if exchange.status != 200 or not exchange.path.endswith("_generate_client_secret"):
            return super().response(exchange)
        return _with_json(exchange, self.rewrite(_json(exchange)))


class RepeatedSecret(_SuccessRewrite):
    """Every success returns the first secret ever returned."""

    first: str | None = None

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        self.first = self.first or document["clientSecret"]
        return {**document, "clientSecret": self.first}


class StuckSequence(_SuccessRewrite):
    """details.sequence never moves from its first value."""

    first: str | None = None

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        self.first = self.first or document["details"]["sequence"]
        return {**document, "details": {**document["details"], "sequence": self.first}}


class SequenceAsNumber(_SuccessRewrite):
    """details.sequence as a JSON number, not protojson's decimal string."""

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        details = document["details"]
        return {**document, "details": {**details, "sequence": int(details["sequence"])}}


class ChangeDateADayLate(_SuccessRewrite):
    """details.changeDate a day in the past: far outside any clock skew."""

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        details = document["details"]
        moment = datetime.fromisoformat(details["changeDate"].replace("Z", "+00:00"))
        late = (moment - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {**document, "details": {**details, "changeDate": late}}


class CreationDateAfterChangeDate(_SuccessRewrite):
    """details.creationDate an hour after changeDate."""

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        details = document["details"]
        moment = datetime.fromisoformat(details["changeDate"].replace("Z", "+00:00"))
        later = (moment + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {**document, "details": {**details, "creationDate": later}}


class OwnerIsTheCallersOrg(_SuccessRewrite):
    """details.resourceOwner is the caller's own org, not the one in x-zitadel-orgid."""

    def rewrite(self, document: dict[str, Any]) -> dict[str, Any]:
        return {**document, "details": {**document["details"], "resourceOwner": HOME_ORG}}


class UnknownAppIsForbidden(Defect):
    """An unknown project or app gives 403 code 7 instead of 404 code 5."""

    def response(self, exchange: Exchange) -> tuple[int, Headers, bytes]:
        status = _json(exchange) if exchange.status == 404 else None
        if not isinstance(status, dict) or "COMMAND-2g66f" not in status.get("message", ""):
            return super().response(exchange)
        return 403, exchange.headers, json.dumps({**status, "code": 7}).encode()


class ServerErrorOnInvalidJson(Defect):
    """A body that is not JSON crashes the server: 500, code 13."""

    def request(
        self, path: str, headers: Headers, body: bytes
    ) -> tuple[Headers, bytes] | tuple[int, Headers, bytes]:
        try:
            json.loads(body or b"{}")
        except ValueError:
            answer = json.dumps({"code": 13, "message": "internal error"}).encode()
            return 500, [(b"content-type", b"application/json")], answer
        return headers, body


class IgnoredToken(Defect):
    """Any Authorization, or none, is taken as the admin's token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        super().__init__(app)
        self.token = token

    def request(
        self, path: str, headers: Headers, body: bytes
    ) -> tuple[Headers, bytes] | tuple[int, Headers, bytes]:
        if not path.endswith("_generate_client_secret"):
            return headers, body
        return _set_header(headers, b"authorization", f"Bearer {self.token}".encode()), body


class PermissionNotChecked(IgnoredToken):
    """The token without project.app.write works like the admin's."""

    def __init__(self, app: ASGIApp, token: str, viewer_token: str) -> None:
        super().__init__(app, token)
        self.viewer = f"Bearer {viewer_token}".encode()

    def request(
        self, path: str, headers: Headers, body: bytes
    ) -> tuple[Headers, bytes] | tuple[int, Headers, bytes]:
        if dict(headers).get(b"authorization") != self.viewer:
            return headers, body
        return super().request(path, headers, body)


class IgnoredOrgHeader(Defect):
    """x-zitadel-orgid is dropped: every call acts in the caller's own org."""

    def request(
        self, path: str, headers: Headers, body: bytes
    ) -> tuple[Headers, bytes] | tuple[int, Headers, bytes]:
        return _set_header(headers, b"x-zitadel-orgid", None), body


class NoWwwAuthenticate(Defect):
    """401 without WWW-Authenticate."""

    def response(self, exchange: Exchange) -> tuple[int, Headers, bytes]:
        headers = _set_header(exchange.headers, b"www-authenticate", None)
        return exchange.status, headers, exchange.body


class MessageWithoutId(Defect):
    """ZITADEL's errors say only the text, not '<text> (<id>)'."""

    def response(self, exchange: Exchange) -> tuple[int, Headers, bytes]:
        status = _json(exchange) if exchange.status >= 400 else None
        if not isinstance(status, dict) or not status.get("details"):
            return super().response(exchange)
        return _with_json(exchange, {**status, "message": status["details"][0]["message"]})


class DetailsDropped(Defect):
    """Errors keep ZITADEL's message '<text> (<id>)' but lose their details (the ErrorDetail)."""

    def response(self, exchange: Exchange) -> tuple[int, Headers, bytes]:
        status = _json(exchange) if exchange.status >= 400 else None
        if not isinstance(status, dict) or not status.get("details"):
            return super().response(exchange)
        return _with_json(exchange, {k: v for k, v in status.items() if k != "details"})


class AlwaysASecret(Defect):
    """Every request, whatever it asks, gets 200 {"clientSecret": "x"}: no status, no details."""

    def request(
        self, path: str, headers: Headers, body: bytes
    ) -> tuple[Headers, bytes] | tuple[int, Headers, bytes]:
        answer = json.dumps({"clientSecret": "x"}).encode()
        return 200, [(b"content-type", b"application/json")], answer


class ExtraFieldsRefused(Defect):
    """A body field other than the ids is refused, against the gateway's rules."""

    def request(
        self, path: str, headers: Headers, body: bytes
    ) -> tuple[Headers, bytes] | tuple[int, Headers, bytes]:
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            return headers, body
        if isinstance(document, dict) and set(document) - {"projectId", "appId"}:
            answer = json.dumps({"code": 3, "message": "unknown field"}).encode()
            return 400, [(b"content-type", b"application/json")], answer
        return headers, body


class OldSecretKeepsWorking(Defect):
    """At the token endpoint, any secret this server ever returned still authenticates."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self.returned: set[str] = set()

    def request(
        self, path: str, headers: Headers, body: bytes
    ) -> tuple[Headers, bytes] | tuple[int, Headers, bytes]:
        if path != "/oauth/v2/token" or _presented_secret(headers, body) not in self.returned:
            return headers, body
        answer = {"error": "invalid_request", "error_description": "Errors.User.Code.Invalid"}
        return 400, [(b"content-type", b"application/json")], json.dumps(answer).encode()

    def response(self, exchange: Exchange) -> tuple[int, Headers, bytes]:
        if exchange.status == 200 and exchange.path.endswith("_generate_client_secret"):
            self.returned.add(_json(exchange)["clientSecret"])
        return super().response(exchange)


def _presented_secret(headers: Headers, body: bytes) -> str | None:
    authorization = dict(headers).get(b"authorization", b"")
    if authorization.lower().startswith(b"basic "):
        pair = base64.b64decode(authorization[6:]).decode()
        return unquote_plus(pair.partition(":")[2])
    return parse_qs(body.decode()).get("client_secret", [None])[0]


class Spy(Defect):
    """Not a defect: remembers every client secret the server hands out, to look for later."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self.secrets: set[str] = set()

    def response(self, exchange: Exchange) -> tuple[int, Headers, bytes]:
        if b'"clientSecret"' in exchange.body:
            self.secrets.add(json.loads(exchange.body)["clientSecret"])
        return super().response(exchange)


# -- serving ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """What the contract needs to know of a served (broken) mock."""

    url: str
    token: str
    viewer_token: str
    halt: Callable[[], None] = lambda: None  # ask the server to stop, without waiting

    def verify_arguments(self) -> list[str]:
        return [
            self.url,
            "--org-id",
            APP_ORG,
            "--project-id",
            PROJECT,
            "--app-id",
            APP,
            "--client-id",
            CLIENT_ID,
        ]

    def verify_environment(self) -> dict[str, str]:
        return {
            "ZITADEL_CONTRACT_TOKEN": self.token,
            "ZITADEL_CONTRACT_NO_PERMISSION_TOKEN": self.viewer_token,
        }

    def verify(self, *extra: str, env: dict[str, str] | None = None) -> CompletedProcess[str]:
        """A contract run against this deployment, in a process of its own:
        ``zitadel_contract.cli`` is what ``zitadel-mock verify`` runs, minus the mock's imports."""
        command = [sys.executable, "-m", "zitadel_contract.cli", *self.verify_arguments(), *extra]
        return subprocess.run(
            command,
            env={**os.environ, **self.verify_environment(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def admin_in_app_org(document: str) -> str:
    """The contract's fixtures with the admin token's own org the app's org, so that a call
    without ``x-zitadel-orgid`` still finds the app."""
    admin = 'name: contract-admin\n    user: "310000000000001001"\n'
    moved = document.replace(f'{admin}    org: "{HOME_ORG}"', f'{admin}    org: "{APP_ORG}"')
    assert moved != document
    return moved


@contextmanager
def serve(
    wrap: Callable[[ASGIApp, str, str], ASGIApp],
    fixtures_of: Callable[[str], str] = lambda document: document,
) -> Iterator[Deployment]:
    """The mock with the contract's fixtures (``fixtures_of`` may change them), wrapped by
    ``wrap(app, token, viewer_token)``."""
    token, viewer = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory() as folder:
        fixtures = Path(folder) / "fixtures.yaml"
        fixtures.write_text(fixtures_of(fixture_document(token, viewer)))
        app = wrap(build_app(Settings(fixtures=fixtures)), token, viewer)
        with serving(app) as (port, halt):
            yield Deployment(f"http://127.0.0.1:{port}", token, viewer, halt)
