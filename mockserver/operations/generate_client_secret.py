"""v2 GenerateClientSecret and v2beta RegenerateClientSecret, as ZITADEL v4 performs them.

Each :class:`SecretOperation` is data: its path, its request and response messages, the fields
its validation checks (in order), and how its command looks the app up (row 10). One function,
:func:`run`, walks the checks in ZITADEL's order over the shared steps of
:class:`~zitadel_mock.operations.service.SecretService`:

- rows 3 to 7: token, then the org of ``x-zitadel-orgid`` (existence only);
- row 9: protoc-gen-validate on the request fields, first failure only;
- row 10: the app, looked up in any org (v2: unknown or SAML is ``COMMAND-Kd92s``; v2beta:
  ``COMMAND-2g66f``, then ``COMMAND-Ghrh3`` / ``COMMAND-aeH4`` for the wrong ``app_type``);
- rows 11 to 13: ``project.app.write`` in the app's own org for its project;
- the rotation: a new secret for the app, whatever its type and auth method.

Codecs decode a wire's request into the operation's proto message and call :func:`run`; they
know none of these checks.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError, Row
from zitadel_mock.domain.model import AppType
from zitadel_mock.operations.service import Regenerated, SecretService
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


@dataclass(frozen=True, slots=True)
class SecretRequest:
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


@dataclass(frozen=True, slots=True)
class SecretOperation:
    """One API version's call: what codecs need to decode it and what :func:`run` checks."""

    api: ApiVersion
    service: str
    method: str
    path: str
    request_type: type[Message]
    response_type: type[Message]
    go_request_type: str  # as connect-go's decode errors name it (``%T``)
    validated: tuple[tuple[str, str], ...]  # (request attribute, Go field name), in order
    length_row: Row
    oneof_row: Row | None
    fields_of: Callable[[Message], SecretRequest]
    lookup: Callable[[tuple[AppType, str] | None, SecretRequest], str]
    # Forced outcomes name v1's rows (Prefer: code=404); this call answers its own instead.
    forced: Mapping[Row, Row] = field(default_factory=dict)

    def response(self, result: Regenerated) -> Message:
        created = Timestamp()
        created.FromDatetime(result.change_date)
        return self.response_type(client_secret=result.client_secret, creation_date=created)

    def own_row(self, error: MockError) -> MockError:
        """A forced error as this call words it (``error`` itself when it is already ours)."""
        row = self.forced.get(error.row)
        if row is None:
            return error
        return (
            MockError(row, field=self.validated[0][1]) if "{field}" in row.text else MockError(row)
        )


V2: Final = SecretOperation(
    api=ApiVersion.V2,
    service=V2_SERVICE,
    method=V2_METHOD,
    path=V2_GENERATE_CLIENT_SECRET,
    request_type=GenerateClientSecretRequest,
    response_type=GenerateClientSecretResponse,
    go_request_type="*application.GenerateClientSecretRequest",
    validated=(("application_id", "ApplicationId"), ("project_id", "ProjectId")),
    length_row=errors.V2_INVALID_ID_LENGTH,
    oneof_row=None,
    fields_of=_v2_request,
    lookup=_v2_lookup,
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
    request_type=RegenerateClientSecretRequest,
    response_type=RegenerateClientSecretResponse,
    go_request_type="*app.RegenerateClientSecretRequest",
    validated=(("project_id", "ProjectId"), ("application_id", "ApplicationId")),
    length_row=errors.V2BETA_INVALID_ID_LENGTH,
    oneof_row=errors.V2BETA_APP_TYPE_REQUIRED,
    fields_of=_v2beta_request,
    lookup=_v2beta_lookup,
    forced={
        errors.INVALID_ID_LENGTH: errors.V2BETA_INVALID_ID_LENGTH,
        errors.NO_PERMISSION: errors.V2_NO_PERMISSION,
        errors.NO_PROJECT_PERMISSION: errors.V2_NO_RESOURCE_PERMISSION,
    },
)
OPERATIONS: Final[tuple[SecretOperation, ...]] = (V2, V2BETA)
BY_PATH: Final[dict[str, SecretOperation]] = {op.path: op for op in OPERATIONS}


def validate(operation: SecretOperation, request: SecretRequest) -> None:
    """Row 9: protoc-gen-validate, field by field in the message's order, then the oneof."""
    for attribute, go_field in operation.validated:
        if not 1 <= len(getattr(request, attribute)) <= MAX_ID_LENGTH:
            raise MockError(operation.length_row, field=go_field)
    if operation.oneof_row is not None and request.app_type is None:
        raise MockError(operation.oneof_row)


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
    """The whole call in ZITADEL's order; raises the MockError of the first check that fails.

    ``expired`` tells whether the call's deadline has passed: connect-go looks at it after the
    interceptors (rows 1 to 9) and before the handler, whose command holds rows 10 to 13.
    """
    principal = service.authenticate_in_org(authorization, org_header, ns)
    request = operation.fields_of(message)
    validate(operation, request)
    if expired():
        raise MockError(errors.DEADLINE_EXCEEDED)

    def check(found: tuple[AppType, str] | None) -> None:
        app_org = operation.lookup(found, request)  # row 10
        service.check_app_permission(principal, app_org, request.project_id, ns)  # rows 11-13

    return service.rotate_app(request.project_id, request.application_id, check, ns)
