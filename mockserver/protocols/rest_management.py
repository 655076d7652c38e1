"""The REST paths of Management API v1 ``AddProject``, ``AddOIDCApp`` and ``RemoveProject``.

:class:`ManagementRest` takes a request only when its method and path are one of those calls'
in ``openapi.yaml``; everything else goes to the app it wraps (connexion: docs, 404, 405). It
sits below the generate-secret operations' :class:`~.rest_operation.RestOperation`, so a
rotation never reaches it. A request it takes is decoded as grpc-gateway decodes it (the body
read with the 1 MiB limit, a JSON object, protojson with unknown fields discarded; no body for
``DELETE``), the path parameters set over the body's fields, and the operation run
(:class:`~zitadel_mock.operations.management_projects.ManagementOperation`). Every answer is
validated against the spec's schema for its status before it is sent; one that fails becomes a
500 INTERNAL and is logged (the reason only, never the body: a success may hold a secret).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from starlette.types import ASGIApp, Receive, Scope, Send

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.headers import NAMESPACE_HEADER, ORG_HEADER
from zitadel_mock.operations.management_projects import ManagementCommands, ManagementOperation
from zitadel_mock.operations.operation import Call, load_spec, spec_operation
from zitadel_mock.operations.registry import MANAGED
from zitadel_mock.protocols.body import ClientGoneError, read_body
from zitadel_mock.protocols.gateway import (
    MAX_BODY_BYTES,
    NONCONFORMING,
    SPEC_PATH,
    Rendered,
    decode_body,
    render_error,
    render_success,
    unexpected_failure,
)
from zitadel_mock.protocols.rest_operation import Check, compile_schema, path_pattern

log = logging.getLogger("zitadel_mock.protocols.rest_management")

WANTED = {
    b"authorization": "authorization",
    ORG_HEADER.encode(): "org",
    NAMESPACE_HEADER.encode(): "ns",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """What the spec says of one status: the body's check and the headers it requires."""

    body: Check
    required_headers: frozenset[str]


class ManagementRoute:
    """One call's REST path, compiled once from the spec: its method, path, path parameters
    (name in the path, proto field) and answers."""

    def __init__(self, operation: ManagementOperation, spec_path: Path = SPEC_PATH) -> None:
        spec = load_spec(spec_path)
        components = spec.get("components", {})
        template, method, described = spec_operation(spec, operation.rest_operation_id)
        if method.upper() != operation.http_method:
            raise ValueError(f"{operation.rest_operation_id} is {method} in the spec")
        self.operation = operation
        self.method = operation.http_method
        self.path: re.Pattern[str] = path_pattern(template)
        by_json = {f.json_name: f.name for f in operation.request.DESCRIPTOR.fields}
        self.path_fields = tuple(
            (p["name"], by_json[p["name"]])
            for p in described.get("parameters", [])
            if p.get("in") == "path"
        )
        self.answers: dict[str, Answer] = {}
        for status, given in described["responses"].items():
            response = _resolve(given, components)
            schema = response["content"]["application/json"].get("schema", {})
            self.answers[status] = Answer(
                compile_schema(schema, components),
                frozenset(
                    n.lower() for n, h in response.get("headers", {}).items() if h.get("required")
                ),
            )

    def conforms(self, answer: Rendered) -> str | None:
        rules = self.answers.get(str(answer.status)) or self.answers["default"]
        if not rules.body(answer.document):
            return f"the body does not match the schema of {answer.status}"
        missing = rules.required_headers - {name.lower() for name, _ in answer.headers}
        return f"required headers missing: {sorted(missing)}" if missing else None


def _resolve(node: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target: Any = {"components": components}
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _resolve(target, components)


class ManagementRest:
    """ASGI: answers the Management API calls' REST paths; everything else goes to ``next_app``."""

    def __init__(
        self,
        next_app: ASGIApp,
        commands: ManagementCommands,
        operations: tuple[ManagementOperation, ...] = MANAGED,
        spec_path: Path = SPEC_PATH,
    ) -> None:
        self.next_app = next_app
        self.commands = commands
        self.routes = tuple(ManagementRoute(op, spec_path) for op in operations)

    def match(self, scope: Scope) -> tuple[ManagementRoute, dict[str, str]] | None:
        if scope["type"] != "http":
            return None
        for route in self.routes:
            if scope["method"] == route.method:
                found = route.path.fullmatch(scope["path"])
                if found is not None:
                    return route, found.groupdict()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = self.match(scope)
        if matched is None:
            await self.next_app(scope, receive, send)
            return
        route, params = matched
        try:
            answer = await self.answer(route, scope, receive, params)
        except ClientGoneError:
            return
        problem = route.conforms(answer)
        if problem is not None:
            log.error("response failed validation against openapi.yaml: %s", problem)
            answer = render_error(MockError(errors.INTERNAL, reason=NONCONFORMING))
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(answer.body)),
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers),
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    async def answer(
        self, route: ManagementRoute, scope: Scope, receive: Receive, params: dict[str, str]
    ) -> Rendered:
        """Decode the request, run the operation, render what it gives."""
        seen: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = WANTED.get(name)
            if key is not None and key not in seen:
                seen[key] = value.decode("latin-1")
        operation = route.operation
        try:
            request = operation.request()
            if route.method != "DELETE":  # the gateway reads no body for DELETE
                document = decode_body(await read_body(receive, MAX_BODY_BYTES), ())
                refuse_what_protojson_refuses(document, request)
                try:
                    json_format.ParseDict(document, request, ignore_unknown_fields=True)
                except json_format.ParseError as exc:
                    raise MockError(errors.INVALID_BODY, reason=str(exc)) from None
            for name, proto in route.path_fields:
                setattr(request, proto, params[name])
            call = Call(request, seen.get("authorization"), seen.get("org"), seen.get("ns", ""))
            success = operation.run(self.commands, call)
        except MockError as error:
            return render_error(error)
        except ClientGoneError:
            raise
        except Exception as exc:  # the last resort
            return render_error(unexpected_failure(exc, log))
        return render_success(success)


def refuse_what_protojson_refuses(document: dict[str, Any], request: Message) -> None:
    """What Go's protojson refuses and Python's json_format takes: an enum given as ``true`` or
    as a number with a fraction (json_format truncates it), and a message field given as
    anything but an object or ``null`` (json_format reads a string's characters as field names
    and discards them). Refused as the gateway refuses them (row 9). An unknown enum name is
    left to json_format, which discards it as protojson's ``DiscardUnknown`` does."""
    for descriptor in request.DESCRIPTOR.fields:
        for name in (descriptor.json_name, descriptor.name):
            given = document.get(name)
            values = given if isinstance(given, list) else [given]
            for value in values:
                if descriptor.type == FieldDescriptor.TYPE_ENUM and (
                    isinstance(value, bool) or (isinstance(value, float) and not value.is_integer())
                ):
                    raise MockError(
                        errors.INVALID_BODY,
                        reason=f"invalid value for enum field {descriptor.json_name}: {value}",
                    )
                message_type = descriptor.message_type
                if (
                    message_type is not None
                    and not message_type.full_name.startswith("google.protobuf.")
                    and not isinstance(value, dict | None)
                ):
                    raise MockError(
                        errors.INVALID_BODY,
                        reason=f"invalid value for message field {descriptor.json_name}",
                    )
