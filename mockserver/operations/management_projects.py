"""Management API v1 ``AddProject``, ``AddOIDCApp`` and ``RemoveProject``: each one
:class:`ManagementOperation` (data) and one command of :class:`ManagementCommands`.

ZITADEL's order for each call (docs/management-api.md): the gateway decodes the body (the
codec's part, before anything else), the authorization interceptor (the token, the org the call
acts in, then the permission of the method's ``auth_option``, checked against its
``check_field_name``), the validation interceptor (protoc-gen-validate, field by field in proto
order: string lengths read from ``openapi.yaml``, enums that must be defined, the clock skew's
range), then the command. These calls are served over REST only, and outside the
generate-secret path: nothing here runs for a rotation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Final

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from zitadel_mock.domain import errors
from zitadel_mock.domain.applications import (
    AUTH_METHODS,
    MAX_CLOCK_SKEW_NANOS,
    grants_cover,
    has_secret,
)
from zitadel_mock.domain.client_secrets import SecretHash, system_random_bytes
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.ids import IdGenerator
from zitadel_mock.domain.model import Principal, Scope
from zitadel_mock.domain.permissions import (
    GRANTED_BY,
    PROJECT_APP_WRITE,
    PROJECT_CREATE,
    PROJECT_DELETE,
)
from zitadel_mock.operations.operation import Call, Field, Success, fields_from_openapi, load_spec
from zitadel_mock.operations.service import Caller, SecretService
from zitadel_mock.state import management as records
from zitadel_proto.zitadel.management_pb2 import (
    AddOIDCAppRequest,
    AddOIDCAppResponse,
    AddProjectRequest,
    AddProjectResponse,
    RemoveProjectRequest,
    RemoveProjectResponse,
)

SPEC_PATH: Final = Path(__file__).resolve().parent.parent / "openapi.yaml"  # ../openapi.yaml
SERVICE: Final = "/zitadel.management.v1.ManagementService/"

Command = Callable[["ManagementCommands", Caller, Message, str], Message]


@dataclass(frozen=True, slots=True)
class ManagementOperation:
    """One Management API call: its gRPC method path (for its name), the HTTP method of its
    REST path, its messages, the permission and the field it is checked against, its
    protoc-gen-validate rules and its command."""

    method: str
    http_method: str
    request: type[Message]
    response: type[Message]
    permission: str
    check_field: str | None  # the request field the permission is checked against
    command: Command
    fields: tuple[Field, ...] = ()  # string lengths, from the spec
    defined_enums: frozenset[str] = frozenset()  # enum fields with ``defined_only``
    durations: Mapping[str, tuple[int, int, str, str]] = field(default_factory=dict)

    @property
    def method_name(self) -> str:
        return self.method.rpartition("/")[2]

    @property
    def rest_operation_id(self) -> str:
        return f"ManagementService_{self.method_name}"

    def run(self, commands: ManagementCommands, call: Call) -> Success:
        """Authorization, validation, then the command; a failed check raises its MockError."""
        target = call.get(self.check_field) if self.check_field is not None else None
        caller = commands.authorize(call, self.permission, target)
        self.validate(call.request)
        return Success(self.command(commands, caller, call.request, call.namespace))

    def validate(self, request: Message) -> None:
        """protoc-gen-validate's rules in proto field order; the first failure is raised."""
        lengths = {f.proto_name: f for f in self.fields}
        name = self.request.DESCRIPTOR.name
        for descriptor in self.request.DESCRIPTOR.fields:
            rule = lengths.get(descriptor.name)
            if rule is not None:
                rule.check(getattr(request, descriptor.name), name)
            elif descriptor.name in self.defined_enums:
                enum_type = descriptor.enum_type
                assert enum_type is not None
                if getattr(request, descriptor.name) not in enum_type.values_by_number:
                    raise MockError(errors.INVALID_ENUM, message=name, field=_go(descriptor.name))
            elif descriptor.name in self.durations:
                low, high, low_text, high_text = self.durations[descriptor.name]
                value = getattr(request, descriptor.name)
                nanos = value.seconds * 1_000_000_000 + value.nanos
                if request.HasField(descriptor.name) and not low <= nanos <= high:
                    raise MockError(
                        errors.INVALID_DURATION,
                        message=name,
                        field=_go(descriptor.name),
                        min=low_text,
                        max=high_text,
                    )


def _go(proto_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in proto_name.split("_"))


def check_permission(
    commands: ManagementCommands,
    principal: Principal,
    *,
    org_id: str,
    permission: str,
    target: str | None,
    ns: str,
) -> None:
    """Rows 5 to 7 for ``permission`` in ``org_id``: a membership there (else
    MEMBERSHIP_NOT_FOUND), a role that grants it (else NO_PERMISSION) and, for a method with a
    check field, a grant for the whole org or for ``target`` (else NO_PROJECT_PERMISSION)."""
    store = commands.service.store
    roles = GRANTED_BY[permission]
    relevant = [
        m
        for m in principal.memberships
        if m.scope is Scope.INSTANCE
        or (m.scope is Scope.ORG and m.target_id == org_id)
        or (m.scope is Scope.PROJECT and store.project_org(m.target_id, ns) == org_id)
    ]
    if not relevant:
        raise MockError(errors.MEMBERSHIP_NOT_FOUND)
    contexts = {
        m.target_id if m.scope is Scope.PROJECT else ""
        for m in relevant
        for role in m.roles
        if role in roles
    }
    if not contexts:
        raise MockError(errors.NO_PERMISSION)
    if target is not None and "" not in contexts and target not in contexts:
        raise MockError(errors.NO_PROJECT_PERMISSION)


class ManagementCommands:
    """The commands over the service's store, generator and clock, with an id generator."""

    def __init__(self, service: SecretService, ids: IdGenerator | None = None) -> None:
        self.service = service
        self.ids = ids or IdGenerator(system_random_bytes())

    def authorize(self, call: Call, permission: str, target: str | None) -> Caller:
        service, ns = self.service, call.namespace
        principal = service.authenticate(call.authorization, ns)
        org_id = service.acting_org(principal, call.org_header, ns)
        check_permission(
            self, principal, org_id=org_id, permission=permission, target=target, ns=ns
        )
        return Caller(principal, org_id)

    def add_project(self, caller: Caller, request: Message, ns: str) -> Message:
        assert isinstance(request, AddProjectRequest)
        project_id, done = records.add_project(
            self.service.store,
            self.ids.next,
            request.name,
            caller.org_id,
            now=self.service.clock(),
            ns=ns,
        )
        answer = AddProjectResponse(id=project_id)
        _created(answer.details, done)
        return answer

    def add_oidc_app(self, caller: Caller, request: Message, ns: str) -> Message:
        assert isinstance(request, AddOIDCAppRequest)
        store = self.service.store
        if store.project_org(request.project_id, ns) != caller.org_id:
            raise MockError(errors.APP_PROJECT_NOT_FOUND)
        response_types = [_enum_name(request, "response_types", v) for v in request.response_types]
        grant_types = [_enum_name(request, "grant_types", v) for v in request.grant_types]
        if not grants_cover(response_types, grant_types):
            raise MockError(errors.APP_INVALID)
        method = AUTH_METHODS[_enum_name(request, "auth_method_type", request.auth_method_type)]
        secret = self.service.generator.generate() if has_secret(method) else ""
        hashed = SecretHash.of(secret) if secret else None
        new = records.NewApp(request.name, method, hashed.encoded if hashed else None)
        app_id, client_id, done = records.add_oidc_app(
            store,
            self.ids.next,
            request.project_id,
            caller.org_id,
            new,
            now=self.service.clock(),
            ns=ns,
        )
        if hashed is not None:  # committed: the journal knows it as a secret issued here
            self.service.issued.record(secret, hashed)
        answer = AddOIDCAppResponse(app_id=app_id, client_id=client_id, client_secret=secret)
        _created(answer.details, done)
        return answer

    def remove_project(self, caller: Caller, request: Message, ns: str) -> Message:
        assert isinstance(request, RemoveProjectRequest)
        done = records.remove_project(
            self.service.store, request.id, caller.org_id, self.service.clock(), ns
        )
        answer = RemoveProjectResponse()
        details = answer.details
        details.sequence = done.sequence
        _stamp(details.change_date, done.date)
        details.resource_owner = done.resource_owner
        return answer


def _enum_name(request: Message, name: str, value: int) -> str:
    enum_type = request.DESCRIPTOR.fields_by_name[name].enum_type
    assert enum_type is not None
    known = enum_type.values_by_number.get(value)
    return known.name if known is not None else str(value)


def _created(details: Message, done: records.Committed) -> None:
    """ZITADEL's AddToDetailsPb: the sequence, the creation date and the owner."""
    details.sequence = done.sequence  # type: ignore[attr-defined]
    _stamp(details.creation_date, done.date)  # type: ignore[attr-defined]
    details.resource_owner = done.resource_owner  # type: ignore[attr-defined]


def _stamp(stamp: Timestamp, moment: datetime) -> None:
    stamp.seconds = int(moment.timestamp())
    stamp.nanos = moment.microsecond * 1000


def _with_lengths(operation: ManagementOperation, spec_path: Path) -> ManagementOperation:
    fields = fields_from_openapi(
        operation.request, load_spec(spec_path), operation.rest_operation_id
    )
    return replace(operation, fields=fields)


def management_operations(spec_path: Path = SPEC_PATH) -> tuple[ManagementOperation, ...]:
    """The three operations, their string lengths read from the spec at ``spec_path``."""
    return tuple(
        _with_lengths(op, spec_path)
        for op in (
            ManagementOperation(
                method=SERVICE + "AddProject",
                http_method="POST",
                request=AddProjectRequest,
                response=AddProjectResponse,
                permission=PROJECT_CREATE,
                check_field=None,
                command=ManagementCommands.add_project,
                defined_enums=frozenset({"private_labeling_setting"}),
            ),
            ManagementOperation(
                method=SERVICE + "AddOIDCApp",
                http_method="POST",
                request=AddOIDCAppRequest,
                response=AddOIDCAppResponse,
                permission=PROJECT_APP_WRITE,
                check_field="project_id",
                command=ManagementCommands.add_oidc_app,
                defined_enums=frozenset(
                    {"app_type", "auth_method_type", "version", "access_token_type"}
                ),
                durations={"clock_skew": (0, MAX_CLOCK_SKEW_NANOS, "0s", "5s")},
            ),
            ManagementOperation(
                method=SERVICE + "RemoveProject",
                http_method="DELETE",
                request=RemoveProjectRequest,
                response=RemoveProjectResponse,
                permission=PROJECT_DELETE,
                check_field="id",
                command=ManagementCommands.remove_project,
            ),
        )
    )


MANAGEMENT: Final = management_operations()
