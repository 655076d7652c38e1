"""The REST path of an operation: ``POST`` on its path in ``openapi.yaml``, and nothing else.

:class:`RestOperation` takes a request only when it is ``POST`` on the operation's exact path and
hands every other request (other methods, other paths, lifespan) to the app it wraps, connexion
(:func:`~zitadel_mock.protocols.gateway_app.build_rest_app`). What it takes it decodes with the
gateway codec (:mod:`zitadel_mock.protocols.gateway`): the body read with the 1 MiB limit and
decoded as the gateway does (row 9, before any check), the path parameters over the body's
fields; then the operation runs its checks in ZITADEL's order
(:meth:`~zitadel_mock.operations.operation.Operation.run`). Before it is sent, every answer is
validated against the spec's schema and headers for its status; one that fails becomes a 500
INTERNAL, and is logged.

:class:`OperationSpec` is compiled once, at start, from ``openapi.yaml`` (jsonschema-rs, with
formats): the path, which path parameter is which request field, and the answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jsonschema_rs
from starlette.types import ASGIApp, Receive, Scope, Send

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.headers import NAMESPACE_HEADER, ORG_HEADER
from zitadel_mock.operations.operation import (
    Call,
    Operation,
    SpecNotSupportedError,
    load_spec,
    spec_operation,
)
from zitadel_mock.operations.registry import SERVED
from zitadel_mock.operations.service import SecretService
from zitadel_mock.protocols.body import ClientGoneError, read_body
from zitadel_mock.protocols.gateway import (
    MAX_BODY_BYTES,
    NONCONFORMING,
    SPEC_PATH,
    Rendered,
    decode_body,
    render_error,
    render_success,
    string_fields,
    unexpected_failure,
)

log = logging.getLogger("zitadel_mock.protocols.rest_operation")

Check = Callable[[Any], bool]
# Keywords of OpenAPI that JSON Schema draft 4 does not read: a schema that uses one is refused
# at start rather than checked otherwise than the spec means.
OPENAPI_ONLY: Final = frozenset({"nullable", "x-nullable", "readOnly", "writeOnly", "x-writeOnly"})
MAX_HEADER_VERDICTS: Final = 4096  # sets of answer headers whose verdict is kept
_UNSEEN: Final = object()


def compile_schema(schema: dict[str, Any], components: dict[str, Any]) -> Check:
    """``schema`` (with the spec's components for its ``$ref``s) as a compiled check."""
    _refuse_openapi_only(schema, components)
    document = {**schema, "components": components}
    validator = jsonschema_rs.Draft4Validator(document, validate_formats=True)
    check: Check = validator.is_valid
    return check


def _refuse_openapi_only(
    node: Any, components: dict[str, Any], seen: frozenset[str] = frozenset()
) -> None:
    if isinstance(node, dict):
        used = OPENAPI_ONLY & node.keys()
        if used:
            raise SpecNotSupportedError(f"the REST operation does not check {sorted(used)}")
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            target: Any = {"components": components}
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            _refuse_openapi_only(target, components, seen | {ref})
        for value in node.values():
            _refuse_openapi_only(value, components, seen)
    elif isinstance(node, list):
        for value in node:
            _refuse_openapi_only(value, components, seen)


@dataclass(frozen=True, slots=True)
class Answerable:
    """The checks of one documented status: body schema, and header rules."""

    body: Check
    required_headers: frozenset[str]  # lower-case names
    header_checks: tuple[tuple[str, Check], ...]  # lower-case name, check of its value


class OperationSpec:
    """What ``openapi.yaml`` says of one operation, compiled once: its path, which path
    parameter is which request field, and the answers it documents."""

    def __init__(self, operation: Operation, spec_path: Path = SPEC_PATH) -> None:
        spec = load_spec(spec_path)
        components = spec.get("components", {})
        template, method, described = spec_operation(spec, operation.rest_operation_id)
        if method != "post":
            raise SpecNotSupportedError(f"{operation.rest_operation_id} is not a POST operation")
        self.path = path_pattern(template)
        by_json = {f.json_name: f.name for f in operation.request.DESCRIPTOR.fields}
        path_fields = []
        for parameter in described.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] in by_json:
                path_fields.append((parameter["name"], by_json[parameter["name"]]))
            elif not (parameter["in"] == "header" and parameter["name"].lower() == ORG_HEADER):
                raise SpecNotSupportedError(
                    f"the REST operation does not read the {parameter['in']} parameter"
                    f" {parameter['name']}"
                )
        self.path_fields: tuple[tuple[str, str], ...] = tuple(path_fields)
        self.answers: dict[str, Answerable] = {
            status: self._answerable(response, components)
            for status, response in described["responses"].items()
        }
        if "default" not in self.answers:
            raise SpecNotSupportedError("the operation documents no default answer")
        self._rules = {int(k): v for k, v in self.answers.items() if k.isdigit()}
        # Answers repeat their headers (a success's are one constant, an error's follow its
        # row): what the header rules say of a set of headers is kept, for a bounded number.
        self._header_verdicts: dict[tuple[int, tuple[tuple[str, str], ...]], object] = {}

    @staticmethod
    def _answerable(response: dict[str, Any], components: dict[str, Any]) -> Answerable:
        content = response.get("content", {})
        if "application/json" not in content:
            raise SpecNotSupportedError("an answer the spec does not give as application/json")
        headers = response.get("headers", {})
        return Answerable(
            compile_schema(content["application/json"].get("schema", {}), components),
            frozenset(name.lower() for name, h in headers.items() if h.get("required")),
            tuple(
                (name.lower(), compile_schema(h["schema"], components))
                for name, h in headers.items()
                if "schema" in h
            ),
        )

    def conforms(self, answer: Rendered) -> str | None:
        """Why ``answer`` does not match the spec for its status, or None if it does (its body is
        checked as the document it encodes)."""
        rules = self._rules.get(answer.status) or self.answers["default"]
        if not rules.body(answer.document):
            return f"the body does not match the schema of {answer.status}"
        key = (answer.status, answer.headers)
        verdict = self._header_verdicts.get(key, _UNSEEN)
        if verdict is _UNSEEN:
            verdict = self._headers_problem(rules, answer.headers)
            if len(self._header_verdicts) < MAX_HEADER_VERDICTS:
                self._header_verdicts[key] = verdict
        return verdict if isinstance(verdict, str) else None

    @staticmethod
    def _headers_problem(rules: Answerable, headers: tuple[tuple[str, str], ...]) -> str | None:
        present = {name.lower(): value for name, value in headers}
        missing = rules.required_headers - present.keys()
        if missing:
            return f"required headers missing: {sorted(missing)}"
        for name, check in rules.header_checks:
            if name in present and not check(present[name]):
                return f"header {name} does not match its schema"
        return None


def path_pattern(template: str) -> re.Pattern[str]:
    """The path template as a regular expression; every ``{name}`` is one non-empty segment.

    A segment with a newline is not matched: connexion's router (a starlette Mount, whose ``.*``
    stops at a newline) does not route such a path to the operation, so it is left to connexion,
    which answers 404 as for any unknown path.
    """
    parts = re.split(r"\{([^}]+)\}", template)
    return re.compile(
        "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/\n]+)" for i, p in enumerate(parts))
    )


WANTED: Final = (b"authorization", ORG_HEADER.encode(), NAMESPACE_HEADER.encode())
MATCH_KEY: Final = "zitadel_mock.rest_route"  # the scope's key for the request's one match


# A request that is ``POST`` on an operation's REST path: its spec and its path parameters.
Route = tuple[OperationSpec, dict[str, str]]


class RestRoutes:
    """The REST paths of every operation the spec describes, matched once per request: the first
    to ask (the control plane) keeps the match in the scope, where the next (the operation's
    :class:`RestOperation`) finds it."""

    def __init__(
        self, operations: tuple[Operation, ...] = SERVED, spec_path: Path = SPEC_PATH
    ) -> None:
        described = {
            operation.get("operationId")
            for item in load_spec(spec_path).get("paths", {}).values()
            for operation in item.values()
            if isinstance(operation, dict)
        }
        self.served: tuple[tuple[Operation, OperationSpec], ...] = tuple(
            (operation, OperationSpec(operation, spec_path))
            for operation in operations
            if operation.rest_operation_id in described
        )
        # Per spec, the path parameters that carry the project and the app id.
        self._id_params = {spec: _id_params(spec) for _, spec in self.served}

    def match(self, scope: Scope) -> Route | None:
        if MATCH_KEY in scope:
            kept: Route | None = scope[MATCH_KEY]
            return kept
        found = None
        if scope["type"] == "http" and scope["method"] == "POST":
            for _, spec in self.served:
                match = spec.path.fullmatch(scope["path"])
                if match is not None:
                    found = (spec, match.groupdict())
                    break
        scope[MATCH_KEY] = found
        return found

    def ids(self, scope: Scope) -> tuple[str | None, str | None] | None:
        """The project and app ids in the path, if ``scope`` is a REST operation's; else None."""
        route = self.match(scope)
        if route is None:
            return None
        spec, params = route
        project, app = self._id_params[spec]
        return (
            params.get(project) if project is not None else None,
            params.get(app) if app is not None else None,
        )


def _id_params(spec: OperationSpec) -> tuple[str | None, str | None]:
    by_field = {proto: name for name, proto in spec.path_fields}
    return by_field.get("project_id"), by_field.get("app_id")


class RestOperation:
    """ASGI: answers ``POST`` on the operation's path; everything else goes to ``next_app``."""

    def __init__(
        self,
        next_app: ASGIApp,
        service: SecretService,
        operation: Operation,
        spec: OperationSpec | None = None,
        routes: RestRoutes | None = None,
    ) -> None:
        self.next_app = next_app
        self.service = service
        self.operation = operation
        self.spec = spec or OperationSpec(operation)
        self.routes = routes  # where the request's path was matched, if not here
        self._string_fields = string_fields(operation.request)
        in_path = {proto for _, proto in self.spec.path_fields}
        # The fields the body may set: those the path does not set over it.
        self._body_fields = tuple(
            (json, proto) for json, proto in self._string_fields if proto not in in_path
        )
        # Answers repeat their headers (see OperationSpec.conforms): each set's bytes, kept.
        self._encoded_headers: dict[tuple[tuple[str, str], ...], tuple[tuple[bytes, bytes], ...]]
        self._encoded_headers = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = self._params(scope)
        if params is None:
            await self.next_app(scope, receive, send)
            return
        try:
            answer = await self.answer(scope, receive, params)
        except ClientGoneError:
            return  # nobody is left to answer
        problem = self.spec.conforms(answer)
        if problem is not None:
            log.error("response failed validation against openapi.yaml: %s", problem)
            answer = render_error(MockError(errors.INTERNAL, reason=NONCONFORMING))
        encoded = self._encoded_headers.get(answer.headers)
        if encoded is None:
            encoded = tuple(
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers
            )
            if len(self._encoded_headers) < MAX_HEADER_VERDICTS:
                self._encoded_headers[answer.headers] = encoded
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(answer.body)),
            *encoded,
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    def _params(self, scope: Scope) -> dict[str, str] | None:
        """The path parameters if ``scope`` is ``POST`` on this operation's path, else None."""
        if self.routes is not None:
            route = self.routes.match(scope)
            return route[1] if route is not None and route[0] is self.spec else None
        match = (
            self.spec.path.fullmatch(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        return match.groupdict() if match is not None else None

    async def answer(self, scope: Scope, receive: Receive, path: dict[str, str]) -> Rendered:
        """Decode the request, run the operation, render what it gives."""
        # The first value of each header, as starlette's Headers.get (and so connexion) reads it.
        first: dict[bytes, str] = {}
        for name, value in scope["headers"]:
            if name not in first and name in WANTED:
                first[name] = value.decode("latin-1")
        try:
            body = decode_body(await read_body(receive, MAX_BODY_BYTES), self._string_fields)
            fields = {}
            for name, proto in self.spec.path_fields:
                fields[proto] = path[name]
            if body:
                for json, proto in self._body_fields:
                    if json in body or proto in body:
                        fields[proto] = body[json] if json in body else body[proto]
            call = Call(  # request, authorization, org header, namespace
                self.operation.request(**fields),
                first.get(b"authorization"),
                first.get(WANTED[1]),
                first.get(WANTED[2], ""),
            )
            success = self.operation.run(self.service, call)
        except MockError as error:
            return render_error(error)
        except ClientGoneError:
            raise
        except Exception as exc:  # the last resort
            return render_error(unexpected_failure(exc, log))
        return render_success(success)


def with_rest_operations(
    next_app: ASGIApp, service: SecretService, routes: RestRoutes | None = None
) -> ASGIApp:
    """``next_app`` behind the REST path of every operation in ``routes`` (by default, every
    served operation the spec describes; one without, such as v2's, is served by its other
    protocols only)."""
    routes = routes or RestRoutes()
    app = next_app
    for operation, spec in routes.served:
        app = RestOperation(app, service, operation, spec, routes)
    return app
