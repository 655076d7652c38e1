"""Every row of the reference table that gRPC can reach, over grpcio and gRPC-web (both bodies).

Rows 9, 12 and 13 belong to the HTTP gateway and cannot occur over gRPC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import (
    BACKEND,
    GLOBEX,
    PORTAL,
    SHOP,
    SSO,
    STOREFRONT,
    WEB,
    LiveServer,
)
from tests.support.grpc_clients import TRANSPORTS, Caller, caller
from zitadel_proto.client import Outcome


@pytest.fixture(params=TRANSPORTS)
def call(request: pytest.FixtureRequest, server: LiveServer) -> Iterator[Caller]:
    with caller(server, request.param) as call:
        yield call


def assert_status(outcome: Outcome, code: int, message: str, detail_id: str | None) -> None:
    assert (outcome.code, outcome.message) == (code, message)
    if detail_id is None:
        assert outcome.details == ()
    else:
        text = message.removesuffix(f" ({detail_id})")
        assert [(d.id, d.message) for d in outcome.details] == [(detail_id, text)]


def test_success_returns_a_secret_and_the_details_without_creation_date(call: Caller) -> None:
    outcome = call(PORTAL, WEB)
    assert outcome.code == 0
    response = outcome.response
    assert response is not None
    assert re.fullmatch(r"[A-Za-z0-9]{64}", response.client_secret)
    assert response.details.sequence > 0
    assert response.details.resource_owner == "319487622871056385"
    assert response.details.HasField("change_date")
    assert not response.details.HasField("creation_date")


def test_each_success_gives_a_new_secret_and_the_next_sequence(call: Caller) -> None:
    first, second = call(PORTAL, WEB).response, call(PORTAL, WEB).response
    assert first is not None
    assert second is not None
    assert first.client_secret != second.client_secret
    assert second.details.sequence == first.details.sequence + 1
    assert second.details.change_date.ToDatetime() > first.details.change_date.ToDatetime()


def test_row_1_no_authorization_metadata(call: Caller) -> None:
    assert_status(call(PORTAL, WEB, token=None), 16, "auth header missing", None)


@pytest.mark.parametrize(
    "header", ["Basic YWRtaW46YWRtaW4=", "admin-pat", "bearer admin-pat", "Bearer a Bearer b"]
)
def test_row_2_authorization_not_bearer(call: Caller, header: str) -> None:
    outcome = call(PORTAL, WEB, authorization=header)
    assert_status(outcome, 16, "invalid auth header (AUTH-toLo1)", "AUTH-toLo1")


def test_row_3_unknown_token(call: Caller) -> None:
    outcome = call(PORTAL, WEB, token="no-such-token")
    assert_status(outcome, 16, "Errors.Token.Invalid (AUTH-7fs1e)", "AUTH-7fs1e")


def test_row_4_org_metadata_naming_no_org(call: Caller) -> None:
    outcome = call(PORTAL, WEB, org="999999999999999999")
    assert_status(outcome, 7, "Organisation doesn't exist (AUTH-Bs7Ds)", "AUTH-Bs7Ds")


def test_row_5_caller_without_membership(call: Caller) -> None:
    outcome = call(PORTAL, WEB, token="nobody-pat")
    assert_status(outcome, 5, "membership not found (AUTHZ-cdgFk)", "AUTHZ-cdgFk")


def test_row_5_org_owner_acting_in_another_org(call: Caller) -> None:
    outcome = call(SHOP, STOREFRONT, token="acme-owner-pat", org=GLOBEX)
    assert_status(outcome, 5, "membership not found (AUTHZ-cdgFk)", "AUTHZ-cdgFk")


def test_row_6_membership_without_app_write(call: Caller) -> None:
    outcome = call(PORTAL, WEB, token="acme-viewer-pat")
    assert_status(outcome, 7, "No matching permissions found (AUTH-5mWD2)", "AUTH-5mWD2")


def test_row_7_project_owner_of_another_project(call: Caller) -> None:
    outcome = call(SHOP, STOREFRONT, token="portal-owner-pat")
    assert_status(outcome, 7, "No matching permissions found (AUTH-3jknH)", "AUTH-3jknH")


@pytest.mark.parametrize(
    ("project", "app", "field"),
    [
        ("1" * 201, WEB, "ProjectId"),
        (PORTAL, "1" * 201, "AppId"),
        (PORTAL, "", "AppId"),  # only gRPC can send an empty id
    ],
)
def test_row_8_ids_outside_1_to_200_characters(
    call: Caller, project: str, app: str, field: str
) -> None:
    message = (
        f"invalid RegenerateOIDCClientSecretRequest.{field}: "
        "value length must be between 1 and 200 runes, inclusive"
    )
    assert_status(call(project, app), 3, message, None)


def test_row_10_unknown_app(call: Caller) -> None:
    outcome = call(PORTAL, "1")
    assert_status(outcome, 5, "Application doesn't exist (COMMAND-2g66f)", "COMMAND-2g66f")


def test_row_10_project_of_another_org(call: Caller) -> None:
    outcome = call(SHOP, STOREFRONT)
    assert_status(outcome, 5, "Application doesn't exist (COMMAND-2g66f)", "COMMAND-2g66f")


@pytest.mark.parametrize("app", [BACKEND, SSO])
def test_row_11_api_or_saml_app(call: Caller, app: str) -> None:
    outcome = call(PORTAL, app)
    assert_status(outcome, 3, "Application is not type OIDC (COMMAND-Ghrh3)", "COMMAND-Ghrh3")


@pytest.mark.parametrize(
    ("method", "message"),
    [
        (
            "/zitadel.management.v1.ManagementService/ListApps",
            "unknown method ListApps for service zitadel.management.v1.ManagementService",
        ),
        (
            "/zitadel.admin.v1.AdminService/RegenerateOIDCClientSecret",
            "unknown service zitadel.admin.v1.AdminService",
        ),
    ],
)
def test_methods_the_mock_does_not_serve_are_unimplemented(
    call: Caller, method: str, message: str
) -> None:
    assert_status(call(PORTAL, WEB, method=method), 12, message, None)
