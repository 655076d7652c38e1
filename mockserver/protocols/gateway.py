"""The REST adapter: connexion serves openapi.yaml, with ZITADEL's checks in ZITADEL's order.

Connexion's own stack is routing, security, request validation, handler. ZITADEL's gateway decodes
the body before the gRPC interceptors authenticate, so a small middleware decodes the body right
after routing (row 9); security is the authorization interceptor (rows 1 to 7); connexion's
parameter validation is the validation interceptor (row 8); the handler runs the command (rows 10
and 11). Every failure, connexion's own included, is rendered as google.rpc.Status.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import connexion
from connexion.exceptions import NonConformingResponse, ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from connexion.security import AbstractSecurityHandler
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zitadel_mock.domain import errors, jsonbytes
from zitadel_mock.domain.errors import MockError, status_body
from zitadel_mock.operations.service import Caller, Regenerated, SecretService
from zitadel_mock.protocols.rest_validators import validator_map

log = logging.getLogger("zitadel_mock.protocols.gateway")

OPERATION_ID: Final = "ManagementService_RegenerateOIDCClientSecret"
SPEC_PATH: Final = (
    Path(__file__).resolve().parent.parent / "openapi.yaml"
)  # a link to ../openapi.yaml
MAX_BODY_BYTES: Final = 1024 * 1024
# What a 500 says when the mock's own answer failed validation (the details go to the log).
NONCONFORMING: Final = "its answer did not match openapi.yaml"
SUCCESS_HEADERS: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
NAMESPACE_HEADER: Final = "x-mock-namespace"
JSON_WHITESPACE: Final = b" \t\n\r"  # RFC 8259; Python's bytes.strip() would also eat \f, \v


@dataclass(frozen=True, slots=True)
class Rendered:
    """An answer as both REST lanes send it (with Content-Type ``application/json``): ``body``
    is ``document`` encoded."""

    status: int
    headers: tuple[tuple[str, str], ...]
    document: dict[str, Any] = field(repr=False)  # the body before encoding (holds the secret)
    body: bytes = field(repr=False)


def render_error(error: MockError, extra_headers: dict[str, str] | None = None) -> Rendered:
    """google.rpc.Status in JSON, with the headers grpc-gateway adds."""
    headers = dict(extra_headers or {})
    if error.code is errors.Code.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = error.message
    document = status_body(error)
    return Rendered(error.http_status, tuple(headers.items()), document, encode(document))


def render_success(result: Regenerated) -> Rendered:
    document = success_body(result)
    return Rendered(200, tuple(SUCCESS_HEADERS.items()), document, encode(document))


def encode(document: dict[str, Any]) -> bytes:
    return jsonbytes.dumps(document)


def connexion_response(answer: Rendered) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=answer.status,
        mimetype="application/json",
        content_type="application/json",
        body=answer.body,
        headers=dict(answer.headers),  # a dict of its own: connexion adds Content-Type to it
    )


def error_response(
    error: MockError, extra_headers: dict[str, str] | None = None
) -> ConnexionResponse:
    return connexion_response(render_error(error, extra_headers))


def success_body(result: Regenerated) -> dict[str, Any]:
    """RegenerateOIDCClientSecretResponse as protojson writes it (no creationDate)."""
    return {
        "clientSecret": result.client_secret,
        "details": {
            "sequence": str(result.sequence),
            "changeDate": timestamp(result.change_date),
            "resourceOwner": result.resource_owner,
        },
    }


def decode_body(raw: bytes) -> dict[str, Any]:
    """The gateway's JSON decoding: empty is ``{}``, anything but a JSON object is row 9."""
    if not raw.strip(JSON_WHITESPACE):
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
    for name in ("projectId", "project_id", "appId", "app_id"):
        if name in value and not isinstance(value[name], str):
            raise MockError(
                errors.INVALID_BODY,
                reason=f"request body field {name!r} must be a string,"
                f" not {json.dumps(value[name])[:40]}",
            )
    for json_name, proto_name in (("projectId", "project_id"), ("appId", "app_id")):
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


def timestamp(moment: datetime) -> str:
    """A google.protobuf.Timestamp as protojson writes it: RFC 3339 in UTC (``...Z``)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class GatewayBodyMiddleware:
    """Reads and decodes the operation's body before authentication, as grpc-gateway does.

    Any Content-Type but gRPC's is decoded as JSON (ZITADEL registers its JSON marshaler for
    ``*``). The decoded body is replayed to connexion as ``application/json``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routing = scope.get("extensions", {}).get("connexion_routing", {})
        if scope["type"] != "http" or routing.get("operation_id") != OPERATION_ID:
            await self.app(scope, receive, send)
            return
        raw = await read_body(receive, MAX_BODY_BYTES)
        decode_body(raw)
        headers = [
            (k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")
        ]
        payload = raw if raw.strip(JSON_WHITESPACE) else b"{}"
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        scope = {**scope, "headers": headers}
        await self.app(scope, _replay(payload), send)


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise MockError(errors.BODY_TOO_LARGE, limit=str(limit))
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(payload: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    return receive


def security_handler(service: SecretService) -> type[AbstractSecurityHandler]:
    """A bearer scheme that is ZITADEL's authorization interceptor (rows 1 to 7)."""

    class ZitadelBearer(AbstractSecurityHandler):  # type: ignore[misc]
        security_definition_key = "x-bearerInfoFunc"
        environ_key = "BEARERINFO_FUNC"

        def get_fn(
            self, security_scheme: dict[str, Any], required_scopes: list[str]
        ) -> Callable[[ConnexionRequest], dict[str, object]]:
            def verify(request: ConnexionRequest) -> dict[str, object]:
                namespace = request.headers.get(NAMESPACE_HEADER, "")
                caller = service.authorize(
                    request.headers.get("authorization"),
                    request.headers.get("x-zitadel-orgid"),
                    request.path_params.get("projectId", ""),
                    namespace,
                )
                return {"sub": caller.principal.user_id, "caller": caller, "namespace": namespace}

            return verify

    return ZitadelBearer


def make_handler(service: SecretService) -> Callable[..., Awaitable[Any]]:
    async def regenerate(
        project_id: str, app_id: str, context_: dict[str, Any], body: Any = None
    ) -> Any:
        caller: Caller = context_["token_info"]["caller"]
        namespace: str = context_["token_info"]["namespace"]
        try:
            result = service.rotate(caller, project_id, app_id, namespace)
        except MockError as error:
            # Returned, not raised, so that response validation checks error bodies too.
            return error_response(error)
        return connexion_response(render_success(result))

    return regenerate


def _problem_to_error(status: int, detail: str | None) -> MockError:
    if status == 404:
        return MockError(errors.ROUTE_NOT_FOUND)
    if status == 405:
        return MockError(errors.METHOD_NOT_ALLOWED)
    if 400 <= status < 500:
        return MockError(errors.INVALID_BODY, reason=detail or "bad request")
    return MockError(errors.INTERNAL, reason=detail or "unexpected failure")


def _install_error_handlers(app: connexion.AsyncApp) -> None:
    async def on_mock_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        assert isinstance(exc, MockError)
        return error_response(exc)

    async def on_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        assert isinstance(exc, ProblemException)
        if isinstance(exc, NonConformingResponse):
            log.error("response failed validation against openapi.yaml: %s", exc.detail)
            return error_response(MockError(errors.INTERNAL, reason=NONCONFORMING))
        return error_response(_problem_to_error(exc.status, exc.detail))

    async def on_http_exception(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        assert isinstance(exc, HTTPException)
        error = _problem_to_error(exc.status_code, exc.detail)
        headers = (
            {"Allow": exc.headers["Allow"]} if exc.headers and "Allow" in exc.headers else None
        )
        return error_response(error, headers)

    async def on_crash(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        log.error("unexpected failure: %r", exc, exc_info=exc)
        return error_response(MockError(errors.INTERNAL, reason=type(exc).__name__))

    app.add_error_handler(MockError, on_mock_error)
    app.add_error_handler(ProblemException, on_problem)
    app.add_error_handler(HTTPException, on_http_exception)
    app.add_error_handler(Exception, on_crash)


def build_rest_app(service: SecretService, spec_path: Path = SPEC_PATH) -> connexion.AsyncApp:
    middlewares = list(ConnexionMiddleware.default_middlewares)
    middlewares.insert(middlewares.index(RoutingMiddleware) + 1, GatewayBodyMiddleware)
    handlers = {OPERATION_ID: make_handler(service)}
    app = connexion.AsyncApp(
        __name__,
        middlewares=middlewares,
        specification_dir=spec_path.parent,
        security_map={"bearer": security_handler(service)},
        validator_map=validator_map(),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs"),
    )
    app.add_api(
        spec_path.name,
        resolver=Resolver(function_resolver=handlers.__getitem__),
        validate_responses=True,
        strict_validation=False,
        pythonic_params=True,
    )
    _install_error_handlers(app)
    return app
