"""An operation as data: what a call carries, ZITADEL's checks in its order, and what it answers.

An :class:`Operation` is one RPC of one API version, described by

- ``method``: its gRPC method path, ``/<package>.<Service>/<Method>``. Protocols find the
  operation by it: gRPC, gRPC-web and Connect by the request's path, the REST gateway by the
  spec's ``operationId`` (``<Service>_<Method>``, as protoc-gen-openapiv2 names it);
- ``request`` and ``response``: its protobuf message types (``zitadel_proto``), the neutral form
  of its input and of its success: a codec decodes a request into the one (from protobuf bytes,
  protojson, or the gateway's path and body) and encodes the other;
- ``fields``: the request's string fields and their length rules (:class:`Field`), read from
  the spec (:func:`fields_from_openapi`), never restated; where no spec states a rule (the
  Connect spec of v2 leaves lengths to validation) the operation's module writes ``Field(...)``
  once. A rule of another kind (v2beta's required oneof) is one more step;
- ``steps``: ZITADEL's checks for that API version, in ZITADEL's order. Each step reads and adds
  to one :class:`Progress` and raises a :class:`~zitadel_mock.domain.errors.MockError` to stop;
  the shared steps (authentication, permission, the command) are :class:`SecretService`'s, the
  validation step is :func:`validate`;
- ``success``: builds the response message from the finished :class:`Progress`.

A codec turns a request on its wire into a :class:`Call` (the request message, the authorization,
the org header, the namespace), runs :meth:`Operation.run`, and encodes the
:class:`Success` or the error for its wire. It knows no check; an operation knows no wire. v2 and
v2beta differ from v1 in fields, steps and success only: they are other ``Operation`` values.
For example, v2's order (authentication, the org, validation, the app lookup, then permission and
the command) is a tuple of steps of which only the lookup and the command differ from v1's; the
lookup keeps what it found in :attr:`Progress.app`.

An operation is served once it is in :data:`zitadel_mock.operations.registry.SERVED`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NamedTuple

import yaml
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.model import App
from zitadel_mock.operations.service import Caller, Regenerated, SecretService

# The keywords a field's schema may use: what :class:`Field` checks, and words for people.
# ``nullable``: protojson reads ``null`` as a field left out, whose zero value the rule checks.
FIELD_KEYWORDS: Final = frozenset(
    {"type", "minLength", "maxLength", "description", "example", "nullable"}
)


class SpecNotSupportedError(ValueError):
    """The spec describes something the mock would not check as the spec says."""


@dataclass(frozen=True, slots=True)
class Field:
    """One string field of a request message and its length rule, in runes (code points)."""

    proto_name: str  # project_id: the proto's name, which protojson also accepts
    json_name: str  # projectId
    min_runes: int
    max_runes: int

    @property
    def go_name(self) -> str:
        """The field's Go name, as protoc-gen-validate names it in its message (``ProjectId``)."""
        return "".join(part[:1].upper() + part[1:] for part in self.proto_name.split("_"))

    def check(self, value: str, message: str) -> None:
        """protoc-gen-validate's length rule; ``message`` is the request message's name."""
        if not self.min_runes <= len(value) <= self.max_runes:
            raise MockError(errors.INVALID_ID_LENGTH, **self.refusal_fields(message))

    def refusal_fields(self, message: str) -> dict[str, str]:
        """What :data:`~zitadel_mock.domain.errors.INVALID_ID_LENGTH` says of this field."""
        return {
            "message": message,
            "field": self.go_name,
            "min": str(self.min_runes),
            "max": str(self.max_runes),
        }


class Call(NamedTuple):
    """One request as a codec decoded it, whatever its wire (a tuple: made on every request)."""

    request: Message  # of the operation's request type
    authorization: str | None = None
    org_header: str | None = None
    namespace: str = ""
    # Whether the call's deadline has passed, for a step that looks (v2: after validation).
    expired: Callable[[], bool] | None = None

    def get(self, name: str) -> Any:
        """The request's field ``name`` (its proto name); a field not sent has its zero value."""
        return getattr(self.request, name)

    def __repr__(self) -> str:  # the authorization is a credential, the request may hold ids
        return f"Call({type(self.request).__name__}, namespace={self.namespace!r})"


@dataclass(slots=True)
class Progress:
    """What the steps of one call found so far; each step reads it and adds what it learnt."""

    operation: Operation
    service: SecretService
    call: Call
    caller: Caller | None = None  # after authorization
    app: App | None = None  # after an app lookup (v2)
    rotated: Regenerated | None = None  # after the command


Step = Callable[[Progress], None]


class Success(NamedTuple):
    """An operation's answer: its response message, kept out of the repr (it holds a secret)."""

    message: Message

    def __repr__(self) -> str:
        return f"Success({type(self.message).__name__})"


@dataclass(frozen=True, slots=True)
class Operation:
    method: str  # /<package>.<Service>/<Method>
    request: type[Message]
    response: type[Message]
    fields: tuple[Field, ...]  # in the order validation checks them
    steps: tuple[Step, ...]
    success: Callable[[Progress], Message]

    @property
    def service_name(self) -> str:
        return self.method[1:].rpartition("/")[0]

    @property
    def method_name(self) -> str:
        return self.method.rpartition("/")[2]

    @property
    def rest_operation_id(self) -> str:
        """Its ``operationId`` in a spec that protoc-gen-openapiv2 wrote: ``<Service>_<Method>``."""
        return f"{self.service_name.rpartition('.')[2]}_{self.method_name}"

    def run(self, service: SecretService, call: Call) -> Success:
        """Every step in order, then the success; a failed check raises its ``MockError``."""
        return Success(self.success(self.perform(service, call)))

    def perform(self, service: SecretService, call: Call) -> Progress:
        """Every step in order; returns what they found (a codec that writes the success from
        the rotation itself, as Connect JSON does, reads :attr:`Progress.rotated`)."""
        progress = Progress(self, service, call)
        for step in self.steps:
            step(progress)
        return progress


def validate(progress: Progress) -> None:
    """The validation interceptor: each field's rule, in the operation's order (first failure)."""
    request = progress.call.request
    for rule in progress.operation.fields:
        value = getattr(request, rule.proto_name)
        if not rule.min_runes <= len(value) <= rule.max_runes:
            rule.check(value, progress.operation.request.DESCRIPTOR.name)


def load_spec(path: Path) -> dict[str, Any]:
    """The OpenAPI document at ``path``, read by libyaml once per version of the file and shared
    by every reader: it must not be changed (connexion, the one that would, copies it)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    spec = _SPECS.get(key)
    if spec is None:
        with path.open("rb") as stream:
            spec = yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        assert isinstance(spec, dict)
        _SPECS[key] = spec
    return spec


_SPECS: dict[tuple[str, int, int], dict[str, Any]] = {}


def spec_operation(spec: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    """The one operation of the spec with ``operation_id``: its path template, method, object."""
    found = [
        (template, method, operation)
        for template, item in spec.get("paths", {}).items()
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get("operationId") == operation_id
    ]
    if len(found) != 1:
        raise SpecNotSupportedError(f"{operation_id} is not one operation in the spec")
    return found[0]


def fields_from_openapi(
    request: type[Message], spec: dict[str, Any], operation_id: str
) -> tuple[Field, ...]:
    """The string fields of ``request`` whose schema in the spec's operation ``operation_id`` (a
    path parameter, or a property of the request body, named by the field's JSON name) gives a
    length, in the proto's field order (protoc-gen-validate's order).

    A schema that says more than :data:`FIELD_KEYWORDS` stops the start: the mock would not
    check it.
    """
    _, _, operation = spec_operation(spec, operation_id)
    components = spec.get("components", {})
    schemas: dict[str, dict[str, Any]] = {
        p["name"]: p.get("schema", {})
        for p in (_resolve(p, components) for p in operation.get("parameters", []))
        if p.get("in") == "path"
    }
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    properties = _resolve(body.get("schema", {}), components).get("properties", {})
    for name, schema in properties.items():
        schemas.setdefault(name, _resolve(schema, components))
    out = []
    for descriptor in request.DESCRIPTOR.fields:
        schema = schemas.get(descriptor.json_name)
        if descriptor.type != FieldDescriptor.TYPE_STRING or schema is None:
            continue
        if descriptor.is_repeated:  # a list: no length rule
            continue
        unknown = schema.keys() - FIELD_KEYWORDS
        if unknown or schema.get("type", "string") != "string":
            raise SpecNotSupportedError(
                f"the schema of {descriptor.json_name} uses {sorted(unknown) or schema['type']},"
                " which the mock does not check"
            )
        if "minLength" in schema or "maxLength" in schema:
            out.append(
                Field(
                    descriptor.name,
                    descriptor.json_name,
                    int(schema.get("minLength", 0)),
                    int(schema.get("maxLength", 2**63)),
                )
            )
    return tuple(out)


def _resolve(node: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target: Any = {"components": components}
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _resolve(target, components)
