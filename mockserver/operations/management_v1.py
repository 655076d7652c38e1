"""v1 ``ManagementService.RegenerateOIDCClientSecret``, as data (:mod:`.operation`).

ZITADEL's order for v1: the authorization interceptor with the permission checked against the
``project_id`` field (rows 1 to 7), the validation interceptor (row 8), the command (rows 10 and
11). The length rules of both ids are read from ``openapi.yaml``. The success is
``RegenerateOIDCClientSecretResponse`` without a creation date, as ZITADEL's ``ChangeToDetailsPb``
leaves it out.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Final

from google.protobuf.message import Message

from zitadel_mock.domain.timestamps import timestamp_fields
from zitadel_mock.operations.operation import (
    Operation,
    Progress,
    fields_from_openapi,
    load_spec,
    validate,
)
from zitadel_mock.operations.service import Regenerated
from zitadel_proto.wire import METHOD_PATH
from zitadel_proto.zitadel.management_pb2 import (
    RegenerateOIDCClientSecretRequest,
    RegenerateOIDCClientSecretResponse,
)

SPEC_PATH: Final = Path(__file__).resolve().parent.parent / "openapi.yaml"  # ../openapi.yaml
PERMISSION_FIELD: Final = "project_id"


def authorize(progress: Progress) -> None:
    """Rows 1 to 7, the permission checked on the request's ``project_id``."""
    call = progress.call
    progress.caller = progress.service.authorize(
        call.authorization, call.org_header, call.get(PERMISSION_FIELD), call.namespace
    )


def rotate_oidc_secret(progress: Progress) -> None:
    """Rows 10 and 11, and the new secret."""
    assert progress.caller is not None, "the command runs after authorization"
    call = progress.call
    request: RegenerateOIDCClientSecretRequest = call.request  # type: ignore[assignment]
    progress.rotated = progress.service.rotate(
        progress.caller, request.project_id, request.app_id, call.namespace
    )


def response(progress: Progress) -> Message:
    assert progress.rotated is not None, "the success follows the command"
    return response_of(progress.rotated)


def response_of(rotated: Regenerated) -> RegenerateOIDCClientSecretResponse:
    """The response message of a committed rotation."""
    message = RegenerateOIDCClientSecretResponse(client_secret=rotated.client_secret)
    details = message.details  # set in place: cheaper than building and copying submessages
    details.sequence = rotated.sequence
    details.change_date.seconds, details.change_date.nanos = timestamp_fields(rotated.change_date)
    details.resource_owner = rotated.resource_owner
    return message


def regenerate_oidc_client_secret(spec_path: Path = SPEC_PATH) -> Operation:
    """The operation, its field rules read from the spec at ``spec_path``."""
    operation = Operation(
        method=METHOD_PATH,
        request=RegenerateOIDCClientSecretRequest,
        response=RegenerateOIDCClientSecretResponse,
        fields=(),
        steps=(authorize, validate, rotate_oidc_secret),
        success=response,
    )
    spec = load_spec(spec_path)
    fields = fields_from_openapi(operation.request, spec, operation.rest_operation_id)
    return replace(operation, fields=fields)


REGENERATE_OIDC_CLIENT_SECRET: Final = regenerate_oidc_client_secret()
