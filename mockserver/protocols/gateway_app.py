"""Connexion's part of the gateway: ``openapi.yaml`` served for routing, 404 and 405 (with
``Allow``) and the docs pages, and the error handlers that render what connexion raises as
google.rpc.Status (the admin API's connexion app installs them too).

Kept apart from :mod:`zitadel_mock.protocols.gateway` so that the operation's REST path imports
no connexion (its import is most of the mock's start-up; ``app`` builds this in the background).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import connexion
from connexion.exceptions import NonConformingResponse, ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.exceptions import HTTPException

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.operations.operation import load_spec
from zitadel_mock.operations.registry import MANAGED, SERVED
from zitadel_mock.protocols.gateway import (
    NONCONFORMING,
    SPEC_PATH,
    Rendered,
    log,
    render_error,
    unexpected_failure,
)


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


def _problem_to_error(status: int, detail: str | None) -> MockError:
    if status == 404:
        return MockError(errors.ROUTE_NOT_FOUND)
    if status == 405:
        return MockError(errors.METHOD_NOT_ALLOWED)
    if 400 <= status < 500:
        return MockError(errors.INVALID_BODY, reason=detail or "bad request")
    return MockError(errors.INTERNAL, reason=detail or "unexpected failure")


def install_error_handlers(app: connexion.AsyncApp) -> None:
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
    install_error_handlers(app)
    return app
