"""Every row of ZITADEL's table (rows 1 to 13 of zitadel_mock.domain.errors), reproduced over a real
socket."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import httpx
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
    raw_request,
    rotate_path,
)

DETAIL_TYPE = "type.googleapis.com/zitadel.v1.ErrorDetail"


def assert_status(
    response: httpx.Response, http: int, code: int, message: str, detail_id: str | None
) -> dict[str, Any]:
    assert response.status_code == http, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["message"] == message
    if detail_id is None:
        assert "details" not in body
    else:
        text = message.removesuffix(f" ({detail_id})")
        assert body["details"] == [{"@type": DETAIL_TYPE, "id": detail_id, "message": text}]
    return body


def test_success_returns_a_64_character_alphanumeric_secret_and_the_details(
    server: LiveServer,
) -> None:
    response = server.rotate()
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"clientSecret", "details"}
    assert re.fullmatch(r"[A-Za-z0-9]{64}", body["clientSecret"])
    details = body["details"]
    assert set(details) == {"sequence", "changeDate", "resourceOwner"}  # no creationDate
    assert re.fullmatch(r"[1-9][0-9]*", details["sequence"])
    # protojson: 0, 3, 6 or 9 fraction digits, the fewest that hold the instant.
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z"
    assert re.fullmatch(stamp, details["changeDate"])
    assert details["resourceOwner"] == "319487622871056385"


def test_each_success_gives_a_new_secret_and_the_next_sequence(server: LiveServer) -> None:
    first, second = server.rotate().json(), server.rotate().json()
    assert first["clientSecret"] != second["clientSecret"]
    assert int(second["details"]["sequence"]) == int(first["details"]["sequence"]) + 1
    assert instant(second["details"]["changeDate"]) > instant(first["details"]["changeDate"])


def instant(text: str) -> datetime:
    """A protojson timestamp as a time (its text does not sort: "…00Z" comes after "…00.5Z")."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_row_1_no_authorization_header(server: LiveServer) -> None:
    response = server.rotate(token=None)
    assert_status(response, 401, 16, "auth header missing", None)
    assert response.headers["www-authenticate"] == "auth header missing"


def test_row_1_an_empty_authorization_header_counts_as_missing(server: LiveServer) -> None:
    response = server.rotate(token=None, headers={"Authorization": ""})
    assert_status(response, 401, 16, "auth header missing", None)


@pytest.mark.parametrize(
    "header", ["Basic YWRtaW46YWRtaW4=", "admin-pat", "bearer admin-pat", "Bearer a Bearer b"]
)
def test_row_2_authorization_not_of_the_form_bearer_token(server: LiveServer, header: str) -> None:
    response = server.rotate(token=None, headers={"Authorization": header})
    assert_status(response, 401, 16, "invalid auth header (AUTH-toLo1)", "AUTH-toLo1")
    assert response.headers["www-authenticate"] == "invalid auth header (AUTH-toLo1)"


def test_row_3_unknown_token(server: LiveServer) -> None:
    response = server.rotate(token="no-such-token")
    assert_status(response, 401, 16, "Errors.Token.Invalid (AUTH-7fs1e)", "AUTH-7fs1e")
    assert response.headers["www-authenticate"] == "Errors.Token.Invalid (AUTH-7fs1e)"


def test_row_3_bearer_prefix_with_an_empty_token(server: LiveServer) -> None:
    request = (
        b"POST " + rotate_path(PORTAL, WEB).encode() + b" HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer \r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    head, _, body = raw_request(server.port, request).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401")
    assert json.loads(body)["message"] == "Errors.Token.Invalid (AUTH-7fs1e)"


def test_row_4_org_header_naming_no_org(server: LiveServer) -> None:
    response = server.rotate(headers={"x-zitadel-orgid": "999999999999999999"})
    assert_status(response, 403, 7, "Organisation doesn't exist (AUTH-Bs7Ds)", "AUTH-Bs7Ds")


def test_row_5_caller_without_any_membership(server: LiveServer) -> None:
    response = server.rotate(token="nobody-pat")
    assert_status(response, 404, 5, "membership not found (AUTHZ-cdgFk)", "AUTHZ-cdgFk")


def test_row_5_org_owner_acting_in_another_org(server: LiveServer) -> None:
    response = server.rotate(
        SHOP, STOREFRONT, token="acme-owner-pat", headers={"x-zitadel-orgid": GLOBEX}
    )
    assert_status(response, 404, 5, "membership not found (AUTHZ-cdgFk)", "AUTHZ-cdgFk")


def test_row_6_membership_without_app_write(server: LiveServer) -> None:
    response = server.rotate(token="acme-viewer-pat")
    assert_status(response, 403, 7, "No matching permissions found (AUTH-5mWD2)", "AUTH-5mWD2")


def test_row_7_project_owner_of_another_project(server: LiveServer) -> None:
    response = server.rotate(SHOP, STOREFRONT, token="portal-owner-pat")
    assert_status(response, 403, 7, "No matching permissions found (AUTH-3jknH)", "AUTH-3jknH")


@pytest.mark.parametrize(("which", "field"), [("project", "ProjectId"), ("app", "AppId")])
def test_row_8_ids_longer_than_200_characters(server: LiveServer, which: str, field: str) -> None:
    long_id = "1" * 201
    project, app = (long_id, WEB) if which == "project" else (PORTAL, long_id)
    message = (
        f"invalid RegenerateOIDCClientSecretRequest.{field}: "
        "value length must be between 1 and 200 runes, inclusive"
    )
    assert_status(server.rotate(project, app), 400, 3, message, None)


def test_row_8_counts_characters_not_bytes(server: LiveServer) -> None:
    response = server.rotate(PORTAL, "é" * 200)
    assert_status(response, 404, 5, "Application doesn't exist (COMMAND-2g66f)", "COMMAND-2g66f")


def test_row_9_body_that_is_not_json(server: LiveServer) -> None:
    response = server.rotate(content=b"{not json", headers={"Content-Type": "application/json"})
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == 3
    assert "not valid JSON" in body["message"]
    assert "details" not in body


def test_row_10_unknown_app(server: LiveServer) -> None:
    response = server.rotate(PORTAL, "1")
    assert_status(response, 404, 5, "Application doesn't exist (COMMAND-2g66f)", "COMMAND-2g66f")


def test_row_10_unknown_project(server: LiveServer) -> None:
    response = server.rotate("1", WEB)
    assert_status(response, 404, 5, "Application doesn't exist (COMMAND-2g66f)", "COMMAND-2g66f")


def test_row_10_app_of_another_project(server: LiveServer) -> None:
    response = server.rotate(PORTAL, STOREFRONT)
    assert_status(response, 404, 5, "Application doesn't exist (COMMAND-2g66f)", "COMMAND-2g66f")


def test_row_10_project_owned_by_another_org_than_the_one_acted_in(server: LiveServer) -> None:
    response = server.rotate(SHOP, STOREFRONT)  # admin acts in its own org, acme
    assert_status(response, 404, 5, "Application doesn't exist (COMMAND-2g66f)", "COMMAND-2g66f")


@pytest.mark.parametrize("app", [BACKEND, SSO])
def test_row_11_api_and_saml_apps_are_not_oidc(server: LiveServer, app: str) -> None:
    response = server.rotate(PORTAL, app)
    assert_status(response, 400, 3, "Application is not type OIDC (COMMAND-Ghrh3)", "COMMAND-Ghrh3")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_row_12_wrong_method(server: LiveServer, method: str) -> None:
    response = server.client.request(method, rotate_path(PORTAL, WEB))
    assert_status(response, 405, 12, "Method Not Allowed", None)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/management/v1/project",  # POST /management/v1/projects is AddProject
        "/management/v1/projects/1/apps/2/oidc_config",
        "/management/v1/projects//apps/2/oidc_config/_generate_client_secret",
    ],
)
def test_row_13_unknown_path(server: LiveServer, path: str) -> None:
    response = server.client.post(path, json={}, headers={"Authorization": "Bearer admin-pat"})
    assert_status(response, 404, 5, "Not Found", None)
