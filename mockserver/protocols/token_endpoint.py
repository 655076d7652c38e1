"""``POST /oauth/v2/token``: client authentication only, so that a rotation can be observed.

The mock serves exactly as much of ZITADEL's token endpoint as it takes to tell whether a client
secret is the current one: it authenticates the client (``client_secret_basic`` or
``client_secret_post``) the way ZITADEL does, and then refuses every authorization code, since it
never issues one. Nothing else of OAuth is here.

Order and texts follow ZITADEL's token endpoint (zitadel/oidc ``pkg/op`` ``server_http.go``:
form, grant type, client credentials; ZITADEL ``internal/api/oidc`` ``VerifyClient`` and
``CodeExchange``). Errors are RFC 6749 section 5.2 bodies, ``application/json``:

- a client that fails authentication gets ``401 invalid_client`` (no ``WWW-Authenticate``:
  ZITADEL's OIDC library writes none);
- a right secret with a made-up code gets ``400 invalid_request`` ``Errors.User.Code.Invalid``,
  which is what ZITADEL answers today (zitadel/zitadel issue 11892 asks for ``invalid_grant``);
- everything else malformed is ``400 invalid_request`` or ``unsupported_grant_type``.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from zitadel_mock.domain.client_secrets import SecretHash
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.headers import NAMESPACE_HEADER, SUCCESS_HEADER_BYTES
from zitadel_mock.domain.model import App, AppType, AuthMethod
from zitadel_mock.operations.service import SecretService
from zitadel_mock.protocols.body import ClientGoneError, read_body

TOKEN_PATH: Final = "/oauth/v2/token"
MAX_FORM_BYTES: Final = 1024 * 1024
FORM_TYPE: Final = "application/x-www-form-urlencoded"
CODE_GRANT: Final = "authorization_code"
JWT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Hashed for a client that does not exist, so that it answers in the time a wrong secret takes.
# Of a random secret nobody knows (not even the mock): it never matches.
DUMMY_HASH: Final = SecretHash.of(secrets.token_urlsafe(32))
# RFC 6749 section 5.1: token responses are never cached, errors included.
RESPONSE_HEADERS: Final = ((b"content-type", b"application/json"), *SUCCESS_HEADER_BYTES)


class OAuthError(Exception):
    """An RFC 6749 error response: ``error`` code, description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> bytes:
        return json.dumps(
            {"error": self.error, "error_description": self.description}, separators=(",", ":")
        ).encode()


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


class FormError(ValueError):
    """The body or query is not valid ``application/x-www-form-urlencoded``."""


def _unescape(text: bytes) -> str:
    """Go's ``url.QueryUnescape``: ``+`` is a space, ``%`` must start two hex digits."""
    i = text.find(b"%")
    while i != -1:
        pair = text[i + 1 : i + 3]
        if len(pair) != 2 or not all(c in b"0123456789abcdefABCDEF" for c in pair):
            raise FormError(f"invalid URL escape {text[i : i + 3]!r}")
        i = text.find(b"%", i + 3)
    return unquote_to_bytes(text.replace(b"+", b" ")).decode("utf-8", errors="replace")


def parse_form(raw: bytes) -> dict[str, list[str]]:
    """Go's ``url.ParseQuery``: ``&``-separated pairs, no ``;``, every escape well formed."""
    form: dict[str, list[str]] = {}
    for piece in raw.split(b"&"):
        if not piece:
            continue
        if b";" in piece:
            raise FormError("invalid semicolon separator in query")
        key, _, value = piece.partition(b"=")
        form.setdefault(_unescape(key), []).append(_unescape(value))
    return form


def basic_credentials(authorization: bytes | None) -> tuple[str, str] | None:
    """HTTP Basic credentials as Go's ``Request.BasicAuth`` reads them; None if there are none.

    A header that is not ``Basic``, not base64, or has no ``:`` counts as no credentials at all.
    Both halves are then query-unescaped, as ZITADEL does; a bad escape is ``invalid_client``.
    """
    if authorization is None or authorization[:6].lower() != b"basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:], validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    if not colon:
        return None
    try:
        return _unescape(user), _unescape(password)
    except FormError:
        raise invalid_client("invalid basic auth header") from None


def first(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """What reached the endpoint: method, headers of interest, query and body."""

    method: str
    content_type: bytes
    authorization: bytes | None
    namespace: str
    query: bytes
    body: bytes


def _as_if_checked(client_id: str, secret: str) -> bool:
    """The work of a secret check for a client that does not exist: a record as the state would
    build it, then the hash of ``secret`` against a secret nobody knows."""
    app = App(
        id="0",
        project_id="0",
        name="",
        type=AppType(AppType.OIDC.value),
        auth_method=AuthMethod(AuthMethod.BASIC.value),
        client_id=client_id,
        secret_hash=DUMMY_HASH.encoded,
    )
    return app.auth_method in (AuthMethod.BASIC, AuthMethod.POST) and SecretHash(
        app.secret_hash or DUMMY_HASH.encoded
    ).matches(secret)


class TokenEndpoint:
    """Answers one token request; every way out is an :class:`OAuthError`."""

    def __init__(self, service: SecretService) -> None:
        self.service = service

    def answer(self, request: TokenRequest) -> OAuthError:
        try:
            return self._exchange(request)
        except OAuthError as error:
            return error

    def _exchange(self, request: TokenRequest) -> OAuthError:
        if request.method != "POST":
            return OAuthError("invalid_request", "the token endpoint takes POST only", 405)
        form = self._form(request)
        grant_type = first(form, "grant_type")
        if not grant_type:
            return invalid_request("grant_type missing")
        if grant_type != CODE_GRANT:
            return OAuthError("unsupported_grant_type", f"{grant_type} not supported")
        client_id, secret, assertion = self._credentials(request, form)
        self._authenticate(client_id, secret, assertion, request.namespace)
        if not first(form, "code"):
            return invalid_request("code missing")
        if not first(form, "redirect_uri"):
            return invalid_request("redirect_uri missing")
        # The mock never issues a code, so every code is one ZITADEL cannot decrypt.
        return invalid_request("Errors.User.Code.Invalid")

    @staticmethod
    def _form(request: TokenRequest) -> dict[str, list[str]]:
        """Body fields (form-encoded bodies only, as Go reads them) first, then the query's."""
        media_type = request.content_type.split(b";", 1)[0].strip().lower()
        try:
            form = parse_form(request.body) if media_type == FORM_TYPE.encode() else {}
            for key, values in parse_form(request.query).items():
                form.setdefault(key, []).extend(values)
        except FormError:
            raise invalid_request("error parsing form") from None
        return form

    @staticmethod
    def _credentials(
        request: TokenRequest, form: dict[str, list[str]]
    ) -> tuple[str, str, str | None]:
        """RFC 6749 2.3: one authentication method per request; Basic wins over the form."""
        client_id, secret = first(form, "client_id"), first(form, "client_secret")
        assertion = first(form, "client_assertion")
        assertion_type = first(form, "client_assertion_type")
        by_assertion = bool(assertion and assertion_type)
        by_secret = bool(client_id and secret)
        if by_assertion and by_secret:
            raise invalid_request("client authentication must not use more than one method")
        basic = basic_credentials(request.authorization)
        if basic is not None:
            if by_assertion or by_secret:
                raise invalid_request("client authentication must not use more than one method")
            client_id, secret = basic
        if not client_id and not assertion:
            raise invalid_request("client_id or client_assertion must be provided")
        if assertion and assertion_type != JWT_ASSERTION_TYPE:
            raise invalid_request(f"invalid client_assertion_type {assertion_type}")
        return client_id, secret, assertion if by_assertion else None

    def _authenticate(self, client_id: str, secret: str, assertion: str | None, ns: str) -> None:
        """ZITADEL's VerifyClient for an active OIDC app, by its auth method."""
        if assertion is not None:
            raise invalid_client("invalid assertion")  # the mock keeps no client keys
        app = self.service.store.app_by_client_id(client_id, ns)
        if app is None or app.type is not AppType.OIDC:
            # As long as a wrong secret takes: one lookup, one record built, one hash. The
            # descriptions are ZITADEL's own, which differ (its status, 401 invalid_client, not).
            _as_if_checked(client_id, secret)
            raise invalid_client("no active client not found")
        if app.auth_method in (AuthMethod.BASIC, AuthMethod.POST):
            if not secret:
                raise invalid_client("empty client secret")
            if not SecretHash(app.secret_hash or DUMMY_HASH.encoded).matches(secret):
                raise invalid_client("invalid secret")
        elif app.auth_method is AuthMethod.PRIVATE_KEY_JWT:
            raise invalid_client("empty client assertion")
        # AuthMethod.NONE: a public client; ZITADEL checks no secret at all.


class ServeTokenEndpoint:
    """ASGI middleware: ``/oauth/v2/token`` is answered by :class:`TokenEndpoint`, the rest goes
    to ``app``."""

    def __init__(self, app: ASGIApp, service: SecretService) -> None:
        self.app = app
        self.endpoint = TokenEndpoint(service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != TOKEN_PATH:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        body, too_large = b"", False
        try:
            body = await read_body(receive, MAX_FORM_BYTES)
        except MockError:  # longer than MAX_FORM_BYTES
            too_large = True
        except ClientGoneError:
            return  # nobody is left to answer
        request = TokenRequest(
            method=scope["method"],
            content_type=headers.get(b"content-type", b""),
            authorization=headers.get(b"authorization"),
            namespace=headers.get(NAMESPACE_HEADER.encode(), b"").decode("latin-1"),
            query=scope.get("query_string", b""),
            body=body,
        )
        error = (
            invalid_request("error parsing form") if too_large else self.endpoint.answer(request)
        )
        payload = error.body()
        extra = [(b"allow", b"POST")] if error.status == 405 else []
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [
                    *RESPONSE_HEADERS,
                    (b"content-length", str(len(payload)).encode()),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
