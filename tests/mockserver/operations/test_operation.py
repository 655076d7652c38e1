"""An operation is data: its field rules come from the spec, its check order is its steps."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import PORTAL, WEB
from zitadel_mock.domain import errors
from zitadel_mock.domain.client_secrets import SecretGenerator, seeded_random_bytes
from zitadel_mock.domain.clock import SteppingClock
from zitadel_mock.domain.errors import MockError
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.operations import management_v1
from zitadel_mock.operations.management_v1 import (
    REGENERATE_OIDC_CLIENT_SECRET,
    regenerate_oidc_client_secret,
)
from zitadel_mock.operations.operation import (
    Call,
    Field,
    Operation,
    SpecNotSupportedError,
    validate,
)
from zitadel_mock.operations.service import SecretService
from zitadel_mock.state.store import Store
from zitadel_proto.zitadel.management_pb2 import RegenerateOIDCClientSecretRequest

SPEC = Path(__file__).resolve().parents[3] / "openapi.yaml"


def service() -> SecretService:
    store = Store()
    store.load(demo_fixtures())
    return SecretService(store, SecretGenerator(seeded_random_bytes(0)), SteppingClock())


def refusal(operation: Operation, call: Call) -> errors.Row:
    with pytest.raises(MockError) as caught:
        operation.run(service(), call)
    return caught.value.row


def changed_spec(tmp_path: Path, old: str, new: str) -> Path:
    text = SPEC.read_text()
    assert old in text
    path = tmp_path / "openapi.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_the_id_rules_are_read_from_the_spec() -> None:
    assert REGENERATE_OIDC_CLIENT_SECRET.fields == (
        Field("project_id", "projectId", 1, 200),
        Field("app_id", "appId", 1, 200),
    )


def test_a_changed_rule_in_the_spec_changes_what_the_operation_refuses(tmp_path: Path) -> None:
    # The first maxLength of the spec is the projectId path parameter's.
    spec = changed_spec(tmp_path, "maxLength: 200", "maxLength: 5")
    operation = regenerate_oidc_client_secret(spec)
    request = RegenerateOIDCClientSecretRequest(project_id="123456", app_id=WEB)
    with pytest.raises(MockError) as caught:
        operation.run(service(), Call(request, "Bearer admin-pat"))
    assert caught.value.message == (
        "invalid RegenerateOIDCClientSecretRequest.ProjectId:"
        " value length must be between 1 and 5 runes, inclusive"
    )


def test_a_field_schema_the_mock_would_not_check_stops_the_start(tmp_path: Path) -> None:
    limit = "            maxLength: 200\n"
    spec = changed_spec(tmp_path, limit, limit + "            pattern: '^[0-9]+$'\n")
    with pytest.raises(SpecNotSupportedError, match="pattern"):
        regenerate_oidc_client_secret(spec)


def test_v1_authorizes_before_it_validates() -> None:
    request = RegenerateOIDCClientSecretRequest(project_id="1" * 201, app_id=WEB)
    assert refusal(REGENERATE_OIDC_CLIENT_SECRET, Call(request)) is errors.AUTH_HEADER_MISSING


def test_another_check_order_is_another_tuple_of_steps() -> None:
    validating_first = replace(
        REGENERATE_OIDC_CLIENT_SECRET,
        steps=(validate, management_v1.authorize, management_v1.rotate_oidc_secret),
    )
    request = RegenerateOIDCClientSecretRequest(project_id="1" * 201, app_id=WEB)
    assert refusal(validating_first, Call(request)) is errors.INVALID_ID_LENGTH


def test_validation_names_the_first_failing_field_in_proto_order() -> None:
    request = RegenerateOIDCClientSecretRequest(project_id="", app_id="")
    with pytest.raises(MockError) as caught:
        REGENERATE_OIDC_CLIENT_SECRET.run(service(), Call(request, "Bearer admin-pat"))
    assert ".ProjectId:" in caught.value.message


def test_the_names_protocols_find_it_by_follow_zitadels_generators() -> None:
    operation = REGENERATE_OIDC_CLIENT_SECRET
    assert operation.method == "/zitadel.management.v1.ManagementService/RegenerateOIDCClientSecret"
    assert operation.rest_operation_id == "ManagementService_RegenerateOIDCClientSecret"
    assert Field("application_id", "applicationId", 1, 200).go_name == "ApplicationId"


def test_a_call_keeps_its_authorization_out_of_the_repr() -> None:
    request = RegenerateOIDCClientSecretRequest(project_id=PORTAL, app_id=WEB)
    assert "admin-pat" not in repr(Call(request, "Bearer admin-pat"))
