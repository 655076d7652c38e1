"""The gateway's REST JSON codec: a request body in, an answer's status, headers and body out.

What grpc-gateway does around ZITADEL's gRPC server, and nothing of ZITADEL's checks: the body
decoded as the gateway decodes it (row 9, before any interceptor), a success as protojson
(:mod:`zitadel_mock.protocols.protojson`) with the headers ZITADEL adds, every error as
google.rpc.Status. The operation itself is answered by
:class:`~zitadel_mock.protocols.rest_operation.RestOperation`; connexion (:func:`build_rest_app`)
serves ``openapi.yaml`` for everything else: routing, 404 and 405 (with ``Allow``), the docs
pages, and the error rendering of the admin API.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, NamedTuple

import connexion
from connexion.exceptions import NonConformingResponse, ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from google.protobuf.message import Message
from starlette.exceptions import HTTPException

from zitadel_mock.domain import errors, jsonbytes
from zitadel_mock.domain.errors import MockError, status_body
from zitadel_mock.domain.headers import SUCCESS_HEADERS
from zitadel_mock.operations.operation import Success, load_spec
from zitadel_mock.operations.registry import MANAGED, SERVED
from zitadel_mock.protocols.protojson import document as protojson_document

log = logging.getLogger("zitadel_mock.protocols.gateway")

SPEC_PATH: Final = (
    Path(__file__).resolve().parent.parent / "openapi.yaml"
)  # a link to ../openapi.yaml
MAX_BODY_BYTES: Final = 1024 * 1024
# What a 500 says when the mock's own answer failed validation (the details go to the log).
NONCONFORMING: Final = "its answer did not match openapi.yaml"
JSON_WHITESPACE: Final = b" \t\n\r"  # RFC 8259; Python's bytes.strip() would also eat \f, \v


class Rendered(NamedTuple):
    """An answer as the REST operation sends it (with Content-Type ``application/json``):
    ``body`` is ``document`` encoded (a tuple: made for every answer)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    document: dict[str, Any]  # the body before encoding (holds the secret)
    body: bytes

    def __repr__(self) -> str:  # the body holds a secret on success
        return f"Rendered({self.status}, {self.headers!r})"


def render_error(error: MockError, extra_headers: dict[str, str] | None = None) -> Rendered:
    """google.rpc.Status in JSON, with the headers grpc-gateway adds."""
    headers = dict(extra_headers or {})
    if error.code is errors.Code.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = error.message
    document = status_body(error)
    return Rendered(error.http_status, tuple(headers.items()), document, encode(document))


def render_success(success: Success) -> Rendered:
    """The operation's response message in protojson, with ZITADEL's success headers."""
    document = protojson_document(success.message)
    return Rendered(200, SUCCESS_HEADERS, document, encode(document))


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


def string_fields(message: type[Message]) -> tuple[tuple[str, str], ...]:
    """The (JSON name, proto name) of each string field of ``message``: what
    :func:`decode_body` holds to protojson's rules."""
    return tuple(
        (f.json_name, f.name) for f in message.DESCRIPTOR.fields if f.type == f.TYPE_STRING
    )


def decode_body(raw: bytes, fields: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The gateway's JSON decoding: empty is ``{}``, anything but a JSON object is row 9, and so
    is a request field (``fields``, see :func:`string_fields`) that is not a string or is set
    under both its names."""
    if raw == b"{}" or not raw.strip(JSON_WHITESPACE):
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
    pairs = tuple(fields)
    for pair in pairs:
        for name in pair:
            if name in value and not isinstance(value[name], str):
                raise MockError(
                    errors.INVALID_BODY,
                    reason=f"request body field {name!r} must be a string,"
                    f" not {json.dumps(value[name])[:40]}",
                )
    for json_name, proto_name in pairs:
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


def _problem_to_error(status: int, detail: str | None) -> MockError:
    if status == 404:
        return MockError(errors.ROUTE_NOT_FOUND)
    if status == 405:
        return MockError(errors.METHOD_NOT_ALLOWED)
    if 400 <= status < 500:
        return MockError(errors.INVALID_BODY, reason=detail or "bad request")
    return MockError(errors.INTERNAL, reason=detail or "unexpected failure")


def unexpected_failure(exc: Exception, logger: logging.Logger = log) -> MockError:
    """A failure of the mock's own (a bug): logged with its traceback, answered INTERNAL with
    only the exception's type as the reason."""
    logger.error("unexpected failure: %r", exc, exc_info=exc)
    return MockError(errors.INTERNAL, reason=type(exc).__name__)


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
        return error_response(unexpected_failure(exc))

    app.add_error_handler(MockError, on_mock_error)
    app.add_error_handler(ProblemException, on_problem)
    app.add_error_handler(HTTPException, on_http_exception)
    app.add_error_handler(Exception, on_crash)


# Connexion's own checks of an operation: none of them runs, since the operation is not connexion's.
OPERATION_MIDDLEWARES: Final = (
    SecurityMiddleware,
    RequestValidationMiddleware,
    ResponseValidationMiddleware,
)


def _not_served_here(**_kwargs: Any) -> Any:
    """What connexion would run for an operation: never reached, since RestOperation takes every
    request connexion would route to one (a test sends it generated requests to show it)."""
    log.error("a request reached connexion's handler of an operation")
    raise MockError(errors.INTERNAL, reason="the request reached connexion's operation handler")


def build_rest_app(spec_path: Path = SPEC_PATH) -> connexion.AsyncApp:
    """Connexion serving the spec for routing, 404 and 405, and the docs; no operation."""
    middlewares = [
        m for m in ConnexionMiddleware.default_middlewares if m not in OPERATION_MIDDLEWARES
    ]
    operation_ids = [op.rest_operation_id for op in SERVED] + [m.rest_operation_id for m in MANAGED]
    handlers = dict.fromkeys(operation_ids, _not_served_here)
    app = connexion.AsyncApp(
        __name__,
        middlewares=middlewares,
        specification_dir=spec_path.parent,
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs"),
    )
    app.add_api(
        load_spec(spec_path),  # read by libyaml here: connexion's own reading takes 0.1 s
        resolver=Resolver(function_resolver=handlers.__getitem__),
        validate_responses=False,
        strict_validation=False,
        pythonic_params=True,
    )
    _install_error_handlers(app)
    return app
