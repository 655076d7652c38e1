"""v2beta RegenerateClientSecret over Connect JSON: the rows where it differs from v2.

ZITADEL-v2.md section 4, last paragraph: validation checks ``ProjectId``, ``ApplicationId``, then
the required oneof; the app lookup is v1's (``COMMAND-2g66f``), then the app type the oneof
names (``COMMAND-Ghrh3``, ``COMMAND-aeH4``); permission rows as v2.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import BACKEND, PORTAL, SHOP, SPA, SSO, STOREFRONT, WEB, LiveServer
from tests.conftest import start_server as start

V2BETA = "/zitadel.app.v2beta.AppService/RegenerateClientSecret"


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start()
    yield server
    server.stop()


def regenerate(live: LiveServer, body: dict[str, Any], token: str = "admin-pat") -> httpx.Response:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return live.client.post(V2BETA, json=body, headers=headers)


def oidc(app: str = WEB, project: str = PORTAL, **extra: Any) -> dict[str, Any]:
    return {"projectId": project, "applicationId": app, "isOidc": True, **extra}


def api(app: str = BACKEND, project: str = PORTAL) -> dict[str, Any]:
    return {"projectId": project, "applicationId": app, "isApi": True}


def error_of(response: httpx.Response) -> tuple[int, str, str, list[str]]:
    body = response.json()
    ids = [d["debug"]["id"] for d in body.get("details", [])]
    return response.status_code, body["code"], body["message"], ids


@pytest.mark.parametrize(
    "body",
    [oidc(), api(), oidc(app=SPA), {"projectId": PORTAL, "applicationId": WEB, "isOidc": False}],
    ids=["oidc", "api", "oidc-auth-none", "is-oidc-false-still-selects-oidc"],
)
def test_success_is_client_secret_and_creation_date(live: LiveServer, body: dict[str, Any]) -> None:
    response = regenerate(live, body)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"clientSecret", "creationDate"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"applicationId": WEB, "isOidc": True},
            "invalid RegenerateClientSecretRequest.ProjectId: "
            "value length must be between 1 and 200 runes, inclusive",
        ),
        (
            {"isOidc": True},
            "invalid RegenerateClientSecretRequest.ProjectId: "
            "value length must be between 1 and 200 runes, inclusive",
        ),
        (
            {"projectId": PORTAL, "isOidc": True},
            "invalid RegenerateClientSecretRequest.ApplicationId: "
            "value length must be between 1 and 200 runes, inclusive",
        ),
        (
            {"projectId": PORTAL, "applicationId": WEB},
            "invalid RegenerateClientSecretRequest.AppType: value is required",
        ),
        (
            {"projectId": PORTAL, "applicationId": WEB, "isApi": None},
            "invalid RegenerateClientSecretRequest.AppType: value is required",
        ),
    ],
    ids=["no-project", "neither-project-first", "no-app", "no-app-type", "null-member-unset"],
)
def test_row_9_project_then_application_then_the_oneof(
    live: LiveServer, body: dict[str, Any], message: str
) -> None:
    assert error_of(regenerate(live, body)) == (400, "invalid_argument", message, [])


def test_both_oneof_members_fail_decoding(live: LiveServer) -> None:
    status, code, message, ids = error_of(regenerate(live, {**oidc(), "isApi": True}))
    assert (status, code, ids) == (400, "invalid_argument", [])
    assert message.startswith(
        "unmarshal message: unmarshal into *app.RegenerateClientSecretRequest: proto: "
    )
    assert "oneof zitadel.app.v2beta.RegenerateClientSecretRequest.app_type is already set" in (
        message
    )


@pytest.mark.parametrize(
    "body",
    [oidc(app="1"), api(app="1"), oidc(project=SHOP)],
    ids=["unknown-oidc", "unknown-api", "other-project"],
)
def test_row_10_unknown_apps_are_v1s_not_found(live: LiveServer, body: dict[str, Any]) -> None:
    assert error_of(regenerate(live, body)) == (
        404,
        "not_found",
        "Application doesn't exist (COMMAND-2g66f)",
        ["COMMAND-2g66f"],
    )


@pytest.mark.parametrize("app", [BACKEND, SSO], ids=["api-app", "saml-app"])
def test_row_10_is_oidc_on_another_type_is_not_oidc(live: LiveServer, app: str) -> None:
    assert error_of(regenerate(live, oidc(app=app))) == (
        400,
        "invalid_argument",
        "Application is not type OIDC (COMMAND-Ghrh3)",
        ["COMMAND-Ghrh3"],
    )


@pytest.mark.parametrize("app", [WEB, SSO], ids=["oidc-app", "saml-app"])
def test_row_10_is_api_on_another_type_is_not_api(live: LiveServer, app: str) -> None:
    assert error_of(regenerate(live, api(app=app))) == (
        400,
        "invalid_argument",
        "Application is not type API (COMMAND-aeH4)",
        ["COMMAND-aeH4"],
    )


def test_the_app_type_is_checked_before_permission(live: LiveServer) -> None:
    assert error_of(regenerate(live, api(app=WEB), token="nobody-pat"))[3] == ["COMMAND-aeH4"]


@pytest.mark.parametrize(
    ("token", "body", "expected"),
    [
        ("nobody-pat", oidc(), (404, "not_found", "membership not found (AUTHZ-cdgFk)")),
        (
            "acme-owner-pat",
            oidc(app=STOREFRONT, project=SHOP),
            (404, "not_found", "membership not found (AUTHZ-cdgFk)"),
        ),
        (
            "acme-viewer-pat",
            oidc(),
            (403, "permission_denied", "No matching permissions found (AUTH-AWfge)"),
        ),
        (
            "intranet-owner-pat",
            api(),
            (403, "permission_denied", "No matching permissions found (AUTH-Swrgg2)"),
        ),
    ],
    ids=["row-11-no-membership", "row-11-other-org", "row-12-no-write", "row-13-other-project"],
)
def test_rows_11_to_13_as_v2(
    live: LiveServer, token: str, body: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    assert error_of(regenerate(live, body, token))[:3] == expected


def test_a_forced_404_on_v2beta_is_its_own_not_found(live: LiveServer) -> None:
    headers = {"Authorization": "Bearer admin-pat", "Prefer": "code=404"}
    response = live.client.post(V2BETA, json=oidc(), headers=headers)
    assert error_of(response)[3] == ["COMMAND-2g66f"]
