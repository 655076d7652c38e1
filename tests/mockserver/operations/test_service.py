"""The service: ZITADEL's checks in ZITADEL's order, with injected time and randomness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ACME, GLOBEX, PORTAL, SHOP, STOREFRONT, WEB
from zitadel_mock.domain import errors
from zitadel_mock.domain.client_secrets import SecretGenerator, seeded_random_bytes
from zitadel_mock.domain.clock import SteppingClock
from zitadel_mock.domain.errors import MockError
from zitadel_mock.fixtures.loader import demo_fixtures, parse_fixtures
from zitadel_mock.operations.service import SecretService, check_ids
from zitadel_mock.state.store import Store


def make_service(
    fixtures_text: str | None = None, clock: SteppingClock | None = None
) -> SecretService:
    store = Store()
    store.load(parse_fixtures(fixtures_text) if fixtures_text else demo_fixtures())
    return SecretService(store, SecretGenerator(seeded_random_bytes(0)), clock or SteppingClock())


def fails_with(
    row: errors.Row,
    token: str | None,
    project: str = PORTAL,
    app: str = WEB,
    org: str | None = None,
) -> None:
    with pytest.raises(MockError) as caught:
        make_service().regenerate(token, org, project, app)
    assert caught.value.row is row


def test_regenerate_returns_a_secret_that_then_authenticates_the_client() -> None:
    service = make_service()
    result = service.regenerate("Bearer admin-pat", None, PORTAL, WEB)
    assert service.client_secret_matches("319487671630840321@portal", result.client_secret)
    assert not service.client_secret_matches("319487671630840321@portal", "wrong")


def test_the_previous_secret_stops_working_at_once() -> None:
    service = make_service()
    old = service.regenerate("Bearer admin-pat", None, PORTAL, WEB).client_secret
    new = service.regenerate("Bearer admin-pat", None, PORTAL, WEB).client_secret
    assert not service.client_secret_matches("319487671630840321@portal", old)
    assert service.client_secret_matches("319487671630840321@portal", new)


def test_the_secret_never_shows_in_a_repr() -> None:
    result = make_service().regenerate("Bearer admin-pat", None, PORTAL, WEB)
    assert result.client_secret not in repr(result)


def test_seeded_services_give_the_same_secrets_and_times() -> None:
    first = make_service().regenerate("Bearer admin-pat", None, PORTAL, WEB)
    second = make_service().regenerate("Bearer admin-pat", None, PORTAL, WEB)
    assert (first.client_secret, first.change_date) == (second.client_secret, second.change_date)


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
    assert service.regenerate("Bearer old", None, "2", "3").sequence == 1  # checked at 0.25 s
    assert service.regenerate("Bearer old", None, "2", "3").sequence == 2  # checked at 0.75 s
    with pytest.raises(MockError) as caught:
        service.regenerate("Bearer old", None, "2", "3")  # checked at 1.25 s
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
    result = make_service().regenerate("Bearer admin-pat", GLOBEX, SHOP, STOREFRONT)
    assert result.resource_owner == GLOBEX


def test_org_membership_grants_every_project_of_the_org() -> None:
    assert (
        make_service().regenerate("Bearer acme-owner-pat", None, PORTAL, WEB).resource_owner == ACME
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
        service.regenerate("Bearer admin-pat", None, PORTAL, "319487671630840324")
    assert service.store.fixtures() == before


def test_stepping_clock_moves_forward_by_its_step() -> None:
    clock = SteppingClock(datetime(2025, 1, 1, tzinfo=UTC), timedelta(seconds=2))
    assert clock() == datetime(2025, 1, 1, 0, 0, 2, tzinfo=UTC)
    assert clock() == datetime(2025, 1, 1, 0, 0, 4, tzinfo=UTC)
