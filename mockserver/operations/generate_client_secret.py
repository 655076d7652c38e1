"""v2 GenerateClientSecret and v2beta RegenerateClientSecret, as ZITADEL v4 performs them.

Each call is an :class:`~zitadel_mock.operations.operation.Operation` (:data:`V2_OPERATION`,
:data:`V2BETA_OPERATION`): its messages, the fields its validation checks (in order), and its
steps in ZITADEL's order over the shared steps of
:class:`~zitadel_mock.operations.service.SecretService`:

- rows 3 to 7: token, then the org of ``x-zitadel-orgid`` (existence only);
- row 9: protoc-gen-validate on the request fields, first failure only;
- row 10: the app, looked up in any org (v2: unknown or SAML is ``COMMAND-Kd92s``; v2beta:
  ``COMMAND-2g66f``, then ``COMMAND-Ghrh3`` / ``COMMAND-aeH4`` for the wrong ``app_type``);
- rows 11 to 13: ``project.app.write`` in the app's own org for its project;
- the rotation: a new secret for the app, whatever its type and auth method.

Between validation and the app lookup a step looks at the call's deadline, as connect-go's
handler sees its context after the interceptors. A :class:`SecretOperation` adds what the
Connect codecs and the control plane need around the operation (its path, connect-go's name of
the request type, v2's own rows for forced outcomes, the ids for the journal). Codecs decode a
wire's request into the operation's proto message and call :func:`run`; they know none of these
checks.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from google.protobuf.message import Message

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError, Row
from zitadel_mock.domain.model import AppType
from zitadel_mock.domain.timestamps import timestamp_fields
from zitadel_mock.operations.operation import Call, Field, Operation, Progress, Step
from zitadel_mock.operations.service import Caller, Regenerated, SecretService
from zitadel_proto.methods import (
    V2_GENERATE_CLIENT_SECRET,
    V2_METHOD,
    V2_SERVICE,
    V2BETA_METHOD,
    V2BETA_REGENERATE_CLIENT_SECRET,
    V2BETA_SERVICE,
)
from zitadel_proto.zitadel.app_v2beta_pb2 import (
    RegenerateClientSecretRequest,
    RegenerateClientSecretResponse,
)
from zitadel_proto.zitadel.application_v2_pb2 import (
    GenerateClientSecretRequest,
    GenerateClientSecretResponse,
)

MAX_ID_LENGTH: Final = 200  # protoc-gen-validate's max_len on both ids, in runes


class ApiVersion(enum.StrEnum):
    V2 = "v2"
    V2BETA = "v2beta"


class SecretRequest(NamedTuple):  # a tuple, not a dataclass: made twice for every call
    """The fields of either request message, by meaning rather than by number."""

    project_id: str
    application_id: str
    app_type: str | None = None  # v2beta's oneof member: "is_oidc", "is_api" or None


def _v2_request(message: Message) -> SecretRequest:
    assert isinstance(message, GenerateClientSecretRequest)
    return SecretRequest(message.project_id, message.application_id)


def _v2beta_request(message: Message) -> SecretRequest:
    assert isinstance(message, RegenerateClientSecretRequest)
    return SecretRequest(message.project_id, message.application_id, message.WhichOneof("app_type"))


def _v2_lookup(found: tuple[AppType, str] | None, _request: SecretRequest) -> str:
    """ChangeApplicationSecret: unknown, removed or SAML apps do not exist for it."""
    if found is None or found[0] is AppType.SAML:
        raise MockError(errors.V2_APP_NOT_FOUND)
    return found[1]


def _v2beta_lookup(found: tuple[AppType, str] | None, request: SecretRequest) -> str:
    """ChangeOIDCApplicationSecret / ChangeAPIApplicationSecret, chosen by the oneof."""
    if found is None:
        raise MockError(errors.APP_NOT_FOUND)
    if request.app_type == "is_api" and found[0] is not AppType.API:
        raise MockError(errors.APP_NOT_API)
    if request.app_type != "is_api" and found[0] is not AppType.OIDC:
        raise MockError(errors.APP_NOT_OIDC)
    return found[1]


# -- the steps (each a function of one Progress) ------------------------------------------------


def authenticate_in_org(progress: Progress) -> None:
    """Rows 3 to 7: the token, then the org of ``x-zitadel-orgid`` (existence only)."""
    call = progress.call
    principal = progress.service.authenticate_in_org(
        call.authorization, call.org_header, call.namespace
    )
    progress.caller = Caller(principal, call.org_header or principal.org_id)


def lengths(row: Row) -> Step:
    """Row 9: protoc-gen-validate on the operation's fields, in their order, first failure only,
    worded as ``row``."""

    def validate_lengths(progress: Progress) -> None:
        request = progress.call.request
        for rule in progress.operation.fields:
            if not rule.min_runes <= len(getattr(request, rule.proto_name)) <= rule.max_runes:
                raise MockError(row, field=rule.go_name)

    return validate_lengths


def app_type_required(progress: Progress) -> None:
    """v2beta's row 9, after the lengths: the ``app_type`` oneof must be set."""
    if progress.call.request.WhichOneof("app_type") is None:
        raise MockError(errors.V2BETA_APP_TYPE_REQUIRED)


def deadline(progress: Progress) -> None:
    """connect-go's handler starts with its context: a passed deadline stops the call here."""
    expired = progress.call.expired
    if expired is not None and expired():
        raise MockError(errors.DEADLINE_EXCEEDED)


def command(
    fields_of: Callable[[Message], SecretRequest],
    lookup: Callable[[tuple[AppType, str] | None, SecretRequest], str],
) -> Step:
    """Rows 10 to 13 and the rotation: ``lookup`` finds the app (row 10), then the permission in
    the app's own org (rows 11 to 13), inside the transaction."""

    def rotate(progress: Progress) -> None:
        assert progress.caller is not None, "the command runs after authentication"
        request = fields_of(progress.call.request)
        principal, ns, service = (
            progress.caller.principal,
            progress.call.namespace,
            progress.service,
        )

        def check(found: tuple[AppType, str] | None) -> None:
            app_org = lookup(found, request)
            service.check_app_permission(principal, app_org, request.project_id, ns)

        progress.rotated = service.rotate_app(request.project_id, request.application_id, check, ns)

    return rotate


def response_of(response_type: type[Message], rotated: Regenerated) -> Message:
    """``clientSecret`` and ``creationDate``, nothing else."""
    message = response_type(client_secret=rotated.client_secret)
    assert isinstance(message, GenerateClientSecretResponse | RegenerateClientSecretResponse)
    created = message.creation_date  # set in place: cheaper than building and copying it
    created.seconds, created.nanos = timestamp_fields(rotated.change_date)
    return message


def success(progress: Progress) -> Message:
    assert progress.rotated is not None, "the success follows the command"
    return response_of(progress.operation.response, progress.rotated)


def _ids(request: type[Message], *names: str) -> tuple[Field, ...]:
    """protoc-gen-validate's ``min_len: 1, max_len: 200`` on each id, in the message's order
    (the v2 protos state it; the Connect spec leaves lengths to validation)."""
    by_name = request.DESCRIPTOR.fields_by_name
    return tuple(Field(name, by_name[name].json_name, 1, MAX_ID_LENGTH) for name in names)


V2_OPERATION: Final = Operation(
    method=V2_GENERATE_CLIENT_SECRET,
    request=GenerateClientSecretRequest,
    response=GenerateClientSecretResponse,
    fields=_ids(GenerateClientSecretRequest, "application_id", "project_id"),
    steps=(
        authenticate_in_org,
        lengths(errors.V2_INVALID_ID_LENGTH),
        deadline,
        command(_v2_request, _v2_lookup),
    ),
    success=success,
)
V2BETA_OPERATION: Final = Operation(
    method=V2BETA_REGENERATE_CLIENT_SECRET,
    request=RegenerateClientSecretRequest,
    response=RegenerateClientSecretResponse,
    fields=_ids(RegenerateClientSecretRequest, "project_id", "application_id"),
    steps=(
        authenticate_in_org,
        lengths(errors.V2BETA_INVALID_ID_LENGTH),
        app_type_required,
        deadline,
        command(_v2beta_request, _v2beta_lookup),
    ),
    success=success,
)


# -- around the operation: what codecs and the control plane need ---------------------------


@dataclass(frozen=True, slots=True)
class SecretOperation:
    """One API version's call as the v2 codecs see it: the :class:`Operation` and its wire names."""

    api: ApiVersion
    service: str
    method: str
    path: str
    operation: Operation
    go_request_type: str  # as connect-go's decode errors name it (``%T``)
    fields_of: Callable[[Message], SecretRequest]  # the ids, for the control plane's journal
    # Forced outcomes name v1's rows (Prefer: code=404); this call answers its own instead.
    forced: Mapping[Row, Row] = field(default_factory=dict)

    @property
    def request_type(self) -> type[Message]:
        return self.operation.request

    @property
    def response_type(self) -> type[Message]:
        return self.operation.response

    def response(self, result: Regenerated) -> Message:
        return response_of(self.operation.response, result)

    def own_row(self, error: MockError) -> MockError:
        """A forced error as this call words it (``error`` itself when it is already ours)."""
        row = self.forced.get(error.row)
        if row is None:
            return error
        if "{field}" in row.text:
            return MockError(row, field=self.operation.fields[0].go_name)
        return MockError(row)


V2: Final = SecretOperation(
    api=ApiVersion.V2,
    service=V2_SERVICE,
    method=V2_METHOD,
    path=V2_GENERATE_CLIENT_SECRET,
    operation=V2_OPERATION,
    go_request_type="*application.GenerateClientSecretRequest",
    fields_of=_v2_request,
    forced={
        errors.APP_NOT_FOUND: errors.V2_APP_NOT_FOUND,
        errors.APP_NOT_OIDC: errors.V2_INVALID_ID_LENGTH,
        errors.INVALID_ID_LENGTH: errors.V2_INVALID_ID_LENGTH,
        errors.NO_PERMISSION: errors.V2_NO_PERMISSION,
        errors.NO_PROJECT_PERMISSION: errors.V2_NO_RESOURCE_PERMISSION,
    },
)
V2BETA: Final = SecretOperation(
    api=ApiVersion.V2BETA,
    service=V2BETA_SERVICE,
    method=V2BETA_METHOD,
    path=V2BETA_REGENERATE_CLIENT_SECRET,
    operation=V2BETA_OPERATION,
    go_request_type="*app.RegenerateClientSecretRequest",
    fields_of=_v2beta_request,
    forced={
        errors.INVALID_ID_LENGTH: errors.V2BETA_INVALID_ID_LENGTH,
        errors.NO_PERMISSION: errors.V2_NO_PERMISSION,
        errors.NO_PROJECT_PERMISSION: errors.V2_NO_RESOURCE_PERMISSION,
    },
)
OPERATIONS: Final[tuple[SecretOperation, ...]] = (V2, V2BETA)
BY_PATH: Final[dict[str, SecretOperation]] = {op.path: op for op in OPERATIONS}


def run(
    service: SecretService,
    operation: SecretOperation,
    message: Message,
    *,
    authorization: str | None,
    org_header: str | None,
    ns: str = "",
    expired: Callable[[], bool] = lambda: False,
) -> Regenerated:
    """The operation's steps in ZITADEL's order; raises the MockError of the first that fails.

    ``expired`` tells whether the call's deadline has passed (the step :func:`deadline`).
    """
    call = Call(message, authorization, org_header, ns, expired)
    rotated = operation.operation.perform(service, call).rotated
    assert rotated is not None, "the last step is the command"
    return rotated
