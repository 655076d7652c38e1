"""The fast lane: the one hot operation over REST, answered without connexion's layers.

It takes a request only when it is ``POST`` on the operation's exact path and hands every other
request (other methods, other paths, lifespan) to the app it wraps, the connexion lane. What it
takes gets every check of the connexion lane (:mod:`zitadel_mock.protocols.gateway`), in ZITADEL's
order: the body
read with the 1 MiB limit and decoded as the gateway does (row 9), authorization (rows 1 to 7),
the spec's parameter schemas (row 8, and connexion's message for any other parameter), the spec's
body schema, the command (rows 10 and 11). Answers are rendered by the same functions as in the
connexion lane and, before they are sent, validated against the spec's schema and headers for
their status; an answer that fails becomes the same 500 INTERNAL as there, and is logged.

Every validator is compiled once, at start, from ``openapi.yaml`` (jsonschema-rs, with formats);
jsonschema builds the message of a parameter or body failure only when there is one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jsonschema_rs
import yaml
from connexion.json_schema import Draft4RequestValidator, format_error_with_path
from jsonschema import Draft4Validator
from starlette.types import ASGIApp, Receive, Scope, Send

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.operations.service import SecretService
from zitadel_mock.protocols.gateway import (
    MAX_BODY_BYTES,
    NAMESPACE_HEADER,
    NONCONFORMING,
    OPERATION_ID,
    SPEC_PATH,
    Rendered,
    decode_body,
    read_body,
    render_error,
    render_success,
)
from zitadel_mock.protocols.rest_validators import PROTO_FIELDS

log = logging.getLogger("zitadel_mock.protocols.rest_operation")

Check = Callable[[Any], bool]
# Keywords connexion's validators read differently from plain JSON Schema draft 4: a schema that
# uses one is refused at start rather than checked differently in the two lanes.
OPENAPI_ONLY: Final = frozenset({"nullable", "x-nullable", "readOnly", "writeOnly", "x-writeOnly"})
LOCATION_ORDER: Final = {"path": 0, "header": 1}  # the locations the lane reads
MATCH_KEY: Final = "zitadel_mock.operation_path"  # the scope's key for the operation's match


class SpecNotSupportedError(ValueError):
    """The operation uses something the fast lane does not check the way connexion does."""


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
            raise SpecNotSupportedError(f"the fast lane does not check {sorted(used)}")
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
class Parameter:
    name: str
    location: str  # "path" or "header"
    required: bool
    check: Check
    schema: dict[str, Any]  # with the components, for the message of a failure

    def problem(self, value: str | None) -> MockError | None:
        """What connexion's parameter validation raises for ``value``, or None."""
        if value is None:
            if not self.required:
                return None
            reason = f"Missing {self.location} parameter '{self.name}'"
            return MockError(errors.INVALID_BODY, reason=reason)
        if self.check(value):
            return None
        field = PROTO_FIELDS.get(self.name) if self.location == "path" else None
        if field is not None:
            return MockError(errors.INVALID_ID_LENGTH, field=field)
        validator = Draft4Validator(self.schema, format_checker=Draft4Validator.FORMAT_CHECKER)
        failure = next(iter(validator.iter_errors(value)), None)
        return MockError(errors.INVALID_BODY, reason=str(failure or "invalid parameter"))


@dataclass(frozen=True, slots=True)
class Answerable:
    """The checks of one documented status: body schema, and header rules."""

    body: Check
    required_headers: frozenset[str]  # lower-case names
    header_checks: tuple[tuple[str, Check], ...]  # lower-case name, check of its value


class CompiledOperation:
    """The operation's path, parameters, body and answers, compiled from the spec once."""

    def __init__(self, spec_path: Path = SPEC_PATH, operation_id: str = OPERATION_ID) -> None:
        with spec_path.open("rb") as stream:
            spec = yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        components = spec.get("components", {})
        found = [
            (template, operation)
            for template, item in spec["paths"].items()
            for method, operation in item.items()
            if method == "post" and operation.get("operationId") == operation_id
        ]
        if len(found) != 1:
            raise SpecNotSupportedError(f"{operation_id} is not one POST operation in the spec")
        template, operation = found[0]
        self.path = path_pattern(template)
        parameters = [self._parameter(p, components) for p in operation.get("parameters", [])]
        # connexion checks them by location (path before header), each location in spec order.
        self.parameters = tuple(sorted(parameters, key=lambda p: LOCATION_ORDER[p.location]))
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        self.body_schema: dict[str, Any] = {**body["schema"], "components": components}
        self.body = compile_schema(body["schema"], components)
        self.answers: dict[str, Answerable] = {
            status: self._answerable(response, components)
            for status, response in operation["responses"].items()
        }
        if "default" not in self.answers:
            raise SpecNotSupportedError("the operation documents no default answer")

    @staticmethod
    def _parameter(spec: dict[str, Any], components: dict[str, Any]) -> Parameter:
        if spec["in"] not in LOCATION_ORDER:
            raise SpecNotSupportedError(f"the fast lane does not read {spec['in']} parameters")
        schema = spec.get("schema", {})
        return Parameter(
            spec["name"],
            spec["in"],
            bool(spec.get("required")),
            compile_schema(schema, components),
            {**schema, "components": components},
        )

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

    def match(self, scope: Scope) -> dict[str, str] | None:
        """The path parameters if ``scope`` is a ``POST`` on the operation's path, else None.

        Matched once per request: the first caller (the control plane) keeps the match in the
        scope, where the later ones (the lane) find it.
        """
        if MATCH_KEY in scope:
            found: dict[str, str] | None = scope[MATCH_KEY]
            return found
        match = (
            self.path.fullmatch(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        params = match.groupdict() if match is not None else None
        scope[MATCH_KEY] = params
        return params

    def ids(self, scope: Scope) -> tuple[str | None, str | None] | None:
        """The project and app ids in the path, if ``scope`` is a ``POST`` on it; else None."""
        params = self.match(scope)
        return None if params is None else (params.get("projectId"), params.get("appId"))

    def conforms(self, answer: Rendered) -> str | None:
        """Why ``answer`` does not match the spec for its status, or None if it does (its body is
        checked as the document it encodes)."""
        rules = self.answers.get(str(answer.status), self.answers["default"])
        if not rules.body(answer.document):
            return f"the body does not match the schema of {answer.status}"
        present = {name.lower(): value for name, value in answer.headers}
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
    stops at a newline) does not route such a path to the operation, so it is left to connexion.
    """
    parts = re.split(r"\{([^}]+)\}", template)
    return re.compile(
        "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/\n]+)" for i, p in enumerate(parts))
    )


WANTED: Final = (b"authorization", b"x-zitadel-orgid", NAMESPACE_HEADER.encode())


class FastLane:
    """ASGI: answers ``POST`` on the operation's path; everything else goes to ``next_app``."""

    def __init__(
        self, next_app: ASGIApp, service: SecretService, operation: CompiledOperation
    ) -> None:
        self.next_app = next_app
        self.service = service
        self.operation = operation
        self.taken = 0  # requests this lane answered (tests read it)
        self._header_names = {
            p.name.lower().encode(): p.name for p in operation.parameters if p.location == "header"
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = self.operation.match(scope) if scope["type"] == "http" else None
        if params is None:
            await self.next_app(scope, receive, send)
            return
        self.taken += 1
        answer = await self._answer(scope, receive, params)
        problem = self.operation.conforms(answer)
        if problem is not None:
            log.error("response failed validation against openapi.yaml: %s", problem)
            answer = render_error(MockError(errors.INTERNAL, reason=NONCONFORMING))
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(answer.body)).encode()),
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers),
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    async def _answer(self, scope: Scope, receive: Receive, path: dict[str, str]) -> Rendered:
        # The first value of each header, as starlette's Headers.get (and so connexion) reads it.
        first: dict[bytes, str] = {}
        for name, value in scope["headers"]:
            if name not in first and (name in WANTED or name in self._header_names):
                first[name] = value.decode("latin-1")
        project_id = path.get("projectId", "")
        namespace = first.get(NAMESPACE_HEADER.encode(), "")
        try:
            body = decode_body(await read_body(receive, MAX_BODY_BYTES))  # row 9, before auth
            caller = self.service.authorize(
                first.get(b"authorization"), first.get(b"x-zitadel-orgid"), project_id, namespace
            )
            for parameter in self.operation.parameters:
                value = (
                    path.get(parameter.name)
                    if parameter.location == "path"
                    else first.get(parameter.name.lower().encode())
                )
                problem = parameter.problem(value)
                if problem is not None:
                    raise problem
            self.check_body(body)
            result = self.service.rotate(caller, project_id, path.get("appId", ""), namespace)
        except MockError as error:
            return render_error(error)
        except Exception as exc:  # the connexion lane's last resort, the same answer
            log.error("unexpected failure: %r", exc, exc_info=exc)
            return render_error(MockError(errors.INTERNAL, reason=type(exc).__name__))
        return render_success(result)

    def check_body(self, body: dict[str, Any]) -> None:
        """The spec's body schema; a failure is reported in connexion's words."""
        if self.operation.body(body):
            return
        validator = Draft4RequestValidator(
            self.operation.body_schema, format_checker=Draft4Validator.FORMAT_CHECKER
        )
        failure = next(iter(validator.iter_errors(body)), None)
        reason = (
            f"{failure.message}{format_error_with_path(failure)}" if failure else "invalid body"
        )
        raise MockError(errors.INVALID_BODY, reason=reason)
