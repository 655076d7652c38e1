"""v2 and v2beta as operations, without any wire: ZITADEL's check order and the rotation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import BACKEND, PORTAL, SSO, WEB
from zitadel_mock.domain import errors
from zitadel_mock.domain.client_secrets import SecretGenerator, seeded_random_bytes
from zitadel_mock.domain.clock import SteppingClock
from zitadel_mock.domain.errors import MockError
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.operations.generate_client_secret import V2, V2BETA, run
from zitadel_mock.operations.operation import Call
from zitadel_mock.operations.service import SecretService
from zitadel_mock.state.store import Store
from zitadel_proto.zitadel.app_v2beta_pb2 import RegenerateClientSecretRequest
from zitadel_proto.zitadel.application_v2_pb2 import (
    GenerateClientSecretRequest,
    GenerateClientSecretResponse,
)


def service() -> SecretService:
    store = Store()
    store.load(demo_fixtures())
    return SecretService(store, SecretGenerator(seeded_random_bytes(0)), SteppingClock())


def v2(app: str = WEB, project: str = PORTAL) -> GenerateClientSecretRequest:
    return GenerateClientSecretRequest(application_id=app, project_id=project)


def row_of(
    svc: SecretService,
    message: GenerateClientSecretRequest | RegenerateClientSecretRequest,
    token: str | None = "admin-pat",
    expired: Callable[[], bool] = lambda: False,
) -> errors.Row:
    operation = V2 if isinstance(message, GenerateClientSecretRequest) else V2BETA
    authorization = f"Bearer {token}" if token else None
    with pytest.raises(MockError) as caught:
        run(svc, operation, message, authorization=authorization, org_header=None, expired=expired)
    return caught.value.row


def test_authentication_comes_before_validation() -> None:
    assert row_of(service(), v2(app=""), token=None) is errors.AUTH_HEADER_MISSING


def test_validation_comes_before_the_lookup() -> None:
    assert row_of(service(), v2(app="", project="nope")) is errors.V2_INVALID_ID_LENGTH


def test_the_lookup_comes_before_permission() -> None:
    assert row_of(service(), v2(app=SSO), token="nobody-pat") is errors.V2_APP_NOT_FOUND


def test_an_expired_deadline_stops_after_validation() -> None:
    assert row_of(service(), v2(app=""), expired=lambda: True) is errors.V2_INVALID_ID_LENGTH
    assert row_of(service(), v2(), expired=lambda: True) is errors.DEADLINE_EXCEEDED


def test_v2beta_checks_the_oneof_after_both_ids() -> None:
    message = RegenerateClientSecretRequest(project_id=PORTAL, application_id=WEB)
    assert row_of(service(), message) is errors.V2BETA_APP_TYPE_REQUIRED


def test_v2_rotates_an_api_app_and_bumps_the_projects_sequence() -> None:
    svc = service()
    first = run(svc, V2, v2(BACKEND), authorization="Bearer admin-pat", org_header=None)
    second = run(svc, V2, v2(WEB), authorization="Bearer admin-pat", org_header=None)
    assert second.sequence == first.sequence + 1
    assert first.resource_owner == "319487622871056385"


def test_a_refused_call_draws_no_randomness() -> None:
    """With a seed, the secrets that follow do not depend on refused calls in between."""
    plain, refused = service(), service()
    row_of(refused, v2(app=SSO))
    row_of(refused, v2(), token="acme-viewer-pat")
    a = run(plain, V2, v2(), authorization="Bearer admin-pat", org_header=None)
    b = run(refused, V2, v2(), authorization="Bearer admin-pat", org_header=None)
    assert a.client_secret == b.client_secret


def test_a_refused_call_writes_nothing() -> None:
    svc = service()
    before = svc.store.fixtures().projects
    row_of(svc, v2(), token="intranet-owner-pat")
    assert svc.store.fixtures().projects == before


def test_v2_is_an_operation_whose_success_is_secret_and_creation_date_only() -> None:
    success = V2.operation.run(service(), Call(v2(), "Bearer admin-pat"))
    assert isinstance(success.message, GenerateClientSecretResponse)
    assert [f.name for f, _ in success.message.ListFields()] == ["client_secret", "creation_date"]


def test_v2beta_checks_its_oneof_after_the_lengths_as_a_step_of_its_operation() -> None:
    request = RegenerateClientSecretRequest(project_id="", application_id=WEB)
    with pytest.raises(MockError) as caught:
        V2BETA.operation.run(service(), Call(request, "Bearer admin-pat"))
    assert caught.value.row is errors.V2BETA_INVALID_ID_LENGTH
    request = RegenerateClientSecretRequest(project_id=PORTAL, application_id=WEB)
    with pytest.raises(MockError) as caught:
        V2BETA.operation.run(service(), Call(request, "Bearer admin-pat"))
    assert caught.value.row is errors.V2BETA_APP_TYPE_REQUIRED
