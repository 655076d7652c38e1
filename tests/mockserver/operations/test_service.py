"""The v1 operation over the service: ZITADEL's checks in ZITADEL's order, with injected time and
randomness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ACME, GLOBEX, PORTAL, SHOP, STOREFRONT, WEB
from zitadel_mock.domain import errors
from zitadel_mock.domain.client_secrets import SecretGenerator, seeded_random_bytes
from zitadel_mock.domain.clock import SteppingClock
from zitadel_mock.domain.errors import MockError
from zitadel_mock.fixtures.loader import demo_fixtures, parse_fixtures
from zitadel_mock.operations.management_v1 import REGENERATE_OIDC_CLIENT_SECRET
from zitadel_mock.operations.operation import Call, Progress, validate
from zitadel_mock.operations.service import SecretService
from zitadel_mock.state.store import Store
from zitadel_proto.zitadel.management_pb2 import (
    RegenerateOIDCClientSecretRequest,
    RegenerateOIDCClientSecretResponse,
)


def make_service(
    fixtures_text: str | None = None, clock: SteppingClock | None = None
) -> SecretService:
    store = Store()
    store.load(parse_fixtures(fixtures_text) if fixtures_text else demo_fixtures())
    return SecretService(store, SecretGenerator(seeded_random_bytes(0)), clock or SteppingClock())


def regenerate(
    service: SecretService, authorization: str | None, org: str | None, project: str, app: str
) -> RegenerateOIDCClientSecretResponse:
    """The whole v1 call, every check in its order; the response message."""
    request = RegenerateOIDCClientSecretRequest(project_id=project, app_id=app)
    success = REGENERATE_OIDC_CLIENT_SECRET.run(service, Call(request, authorization, org))
    assert isinstance(success.message, RegenerateOIDCClientSecretResponse)
    return success.message


def check_ids(project: str, app: str) -> None:
    """The operation's validation step alone (row 8)."""
    request = RegenerateOIDCClientSecretRequest(project_id=project, app_id=app)
    validate(Progress(REGENERATE_OIDC_CLIENT_SECRET, make_service(), Call(request)))


def fails_with(
    row: errors.Row,
    token: str | None,
    project: str = PORTAL,
    app: str = WEB,
    org: str | None = None,
) -> None:
    with pytest.raises(MockError) as caught:
        regenerate(make_service(), token, org, project, app)
    assert caught.value.row is row


def test_regenerate_returns_a_secret_that_then_authenticates_the_client() -> None:
    service = make_service()
    result = regenerate(service, "Bearer admin-pat", None, PORTAL, WEB)
    assert service.client_secret_matches("319487671630840321@portal", result.client_secret)
    assert not service.client_secret_matches("319487671630840321@portal", "wrong")


def test_the_previous_secret_stops_working_at_once() -> None:
    service = make_service()
    old = regenerate(service, "Bearer admin-pat", None, PORTAL, WEB).client_secret
    new = regenerate(service, "Bearer admin-pat", None, PORTAL, WEB).client_secret
    assert not service.client_secret_matches("319487671630840321@portal", old)
    assert service.client_secret_matches("319487671630840321@portal", new)


def test_the_secret_never_shows_in_a_repr() -> None:
    service = make_service()
    request = RegenerateOIDCClientSecretRequest(project_id=PORTAL, app_id=WEB)
    success = REGENERATE_OIDC_CLIENT_SECRET.run(service, Call(request, "Bearer admin-pat"))
    assert isinstance(success.message, RegenerateOIDCClientSecretResponse)
    assert success.message.client_secret not in repr(success)
    caller = service.authorize("Bearer admin-pat", None, PORTAL)
    rotated = service.rotate(caller, PORTAL, WEB)
    assert rotated.client_secret not in repr(rotated)


def test_seeded_services_give_the_same_secrets_and_times() -> None:
    first = regenerate(make_service(), "Bearer admin-pat", None, PORTAL, WEB)
    second = regenerate(make_service(), "Bearer admin-pat", None, PORTAL, WEB)
    assert (first.client_secret, first.details.change_date) == (
        second.client_secret,
        second.details.change_date,
    )


def test_unknown_client_ids_and_apps_without_secret_do_not_authenticate() -> None:
    service = make_service()
    assert not service.client_secret_matches("nobody", "x")
    assert not service.client_secret_matches("319487671630840322@portal", "")  # spa: none yet


def test_row_1_missing_header() -> None:
    fails_with(errors.AUTH_HEADER_MISSING, None)
    fails_with(errors.AUTH_HEADER_MISSING, "")


def test_row_2_header_must_split_once_on_bearer() -> None:
    fails_with(errors.INVALID_AUTH_HEADER, "Token admin-pat")
    fails_with(errors.INVALID_AUTH_HEADER, "Bearer a Bearer b")


def test_row_3_unknown_token() -> None:
    fails_with(errors.TOKEN_INVALID, "Bearer nope")


def test_row_3_expired_token() -> None:
    text = """
orgs: [{id: "1", name: o}]
projects: [{id: "2", name: p, org: "1"}]
apps: [{id: "3", name: a, project: "2", type: oidc}]
tokens:
  - {token: old, user: "9", org: "1", expiresAt: "2025-01-01T00:00:01Z",
     memberships: [{scope: instance, roles: [IAM_OWNER]}]}
"""
    # Every call reads the clock twice (token check, then change date), 250 ms apart.
    clock = SteppingClock(datetime(2025, 1, 1, tzinfo=UTC), timedelta(milliseconds=250))
    service = make_service(text, clock)
    assert (
        regenerate(service, "Bearer old", None, "2", "3").details.sequence == 1
    )  # checked at 0.25 s
    assert (
        regenerate(service, "Bearer old", None, "2", "3").details.sequence == 2
    )  # checked at 0.75 s
    with pytest.raises(MockError) as caught:
        regenerate(service, "Bearer old", None, "2", "3")  # checked at 1.25 s
    assert caught.value.row is errors.TOKEN_INVALID


def test_row_4_unknown_org() -> None:
    fails_with(errors.ORG_NOT_FOUND, "Bearer admin-pat", org="1")


def test_row_5_no_membership() -> None:
    fails_with(errors.MEMBERSHIP_NOT_FOUND, "Bearer nobody-pat")


def test_row_5_project_membership_does_not_count_in_another_org() -> None:
    fails_with(errors.MEMBERSHIP_NOT_FOUND, "Bearer portal-owner-pat", org=GLOBEX)


def test_row_6_no_role_with_app_write() -> None:
    fails_with(errors.NO_PERMISSION, "Bearer acme-viewer-pat")


def test_row_7_project_grant_on_another_project() -> None:
    fails_with(
        errors.NO_PROJECT_PERMISSION, "Bearer portal-owner-pat", project=SHOP, app=STOREFRONT
    )


def test_instance_membership_acts_in_any_org() -> None:
    result = regenerate(make_service(), "Bearer admin-pat", GLOBEX, SHOP, STOREFRONT)
    assert result.details.resource_owner == GLOBEX


def test_org_membership_grants_every_project_of_the_org() -> None:
    assert (
        regenerate(
            make_service(), "Bearer acme-owner-pat", None, PORTAL, WEB
        ).details.resource_owner
        == ACME
    )


@pytest.mark.parametrize(
    ("project", "app", "field"),
    [
        ("", "1", "ProjectId"),
        ("1" * 201, "1", "ProjectId"),
        ("1", "", "AppId"),
        ("1", "x" * 201, "AppId"),
    ],
)
def test_row_8_ids_must_have_1_to_200_characters(project: str, app: str, field: str) -> None:
    with pytest.raises(MockError) as caught:
        check_ids(project, app)
    assert caught.value.row is errors.INVALID_ID_LENGTH
    assert f".{field}:" in caught.value.message


def test_row_8_counts_runes() -> None:
    check_ids("é" * 200, "🔑" * 200)


def test_row_8_comes_after_authorization() -> None:
    fails_with(errors.AUTH_HEADER_MISSING, None, project="1" * 201)


def test_row_10_and_11_come_from_the_state() -> None:
    fails_with(errors.APP_NOT_FOUND, "Bearer admin-pat", app="1")
    fails_with(errors.APP_NOT_OIDC, "Bearer admin-pat", app="319487671630840323")


def test_a_refused_rotation_changes_nothing() -> None:
    service = make_service()
    before = service.store.fixtures()
    with pytest.raises(MockError):
        regenerate(service, "Bearer admin-pat", None, PORTAL, "319487671630840324")
    assert service.store.fixtures() == before


def test_stepping_clock_moves_forward_by_its_step() -> None:
    clock = SteppingClock(datetime(2025, 1, 1, tzinfo=UTC), timedelta(seconds=2))
    assert clock() == datetime(2025, 1, 1, 0, 0, 2, tzinfo=UTC)
    assert clock() == datetime(2025, 1, 1, 0, 0, 4, tzinfo=UTC)
