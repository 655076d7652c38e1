"""ZITADEL's check order over REST: gateway first, then authorization, validation, command."""

from __future__ import annotations

from tests.conftest import (
    ACME,
    BACKEND,
    GLOBEX,
    PORTAL,
    SHOP,
    SPA,
    STOREFRONT,
    WEB,
    LiveServer,
    rotate_path,
)


def test_invalid_json_is_refused_before_authentication(server: LiveServer) -> None:
    response = server.rotate(token=None, content=b"[", headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["code"]) == (400, 3)


def test_wrong_method_is_refused_before_authentication(server: LiveServer) -> None:
    response = server.client.get(rotate_path(PORTAL, WEB))
    assert (response.status_code, response.json()["code"]) == (405, 12)


def test_unknown_path_is_refused_before_authentication(server: LiveServer) -> None:
    response = server.client.post("/management/v1/nothing", json={})
    assert (response.status_code, response.json()["code"]) == (404, 5)


def test_authentication_comes_before_the_id_length_check(server: LiveServer) -> None:
    response = server.rotate("1" * 201, WEB, token=None)
    assert response.json()["message"] == "auth header missing"


def test_permission_comes_before_the_id_length_check(server: LiveServer) -> None:
    response = server.rotate("1" * 201, WEB, token="acme-viewer-pat")
    assert response.json()["message"] == "No matching permissions found (AUTH-5mWD2)"


def test_project_scoped_grant_is_checked_before_the_id_length(server: LiveServer) -> None:
    response = server.rotate("1" * 201, WEB, token="portal-owner-pat")
    assert response.json()["message"] == "No matching permissions found (AUTH-3jknH)"


def test_token_is_checked_before_the_org_header(server: LiveServer) -> None:
    response = server.rotate(token="no-such-token", headers={"x-zitadel-orgid": "1"})
    assert response.json()["message"] == "Errors.Token.Invalid (AUTH-7fs1e)"


def test_org_header_is_checked_before_memberships(server: LiveServer) -> None:
    response = server.rotate(token="nobody-pat", headers={"x-zitadel-orgid": "1"})
    assert response.json()["message"] == "Organisation doesn't exist (AUTH-Bs7Ds)"


def test_id_length_comes_before_the_app_lookup(server: LiveServer) -> None:
    response = server.rotate("1", "2" * 201)
    assert response.json()["code"] == 3


def test_app_lookup_comes_before_the_type_check(server: LiveServer) -> None:
    response = server.rotate(SHOP, BACKEND, headers={"x-zitadel-orgid": GLOBEX})
    assert response.json()["message"] == "Application doesn't exist (COMMAND-2g66f)"


def test_org_header_selects_the_org_acted_in_and_the_resource_owner(server: LiveServer) -> None:
    response = server.rotate(SHOP, STOREFRONT, headers={"x-zitadel-orgid": GLOBEX})
    assert response.status_code == 200
    assert response.json()["details"]["resourceOwner"] == GLOBEX


def test_org_header_naming_the_callers_own_org_changes_nothing(server: LiveServer) -> None:
    response = server.rotate(token="acme-owner-pat", headers={"x-zitadel-orgid": ACME})
    assert response.json()["details"]["resourceOwner"] == ACME


def test_project_owner_rotates_apps_of_its_project(server: LiveServer) -> None:
    assert server.rotate(PORTAL, WEB, token="portal-owner-pat").status_code == 200


def test_org_owner_rotates_apps_of_its_org(server: LiveServer) -> None:
    assert server.rotate(PORTAL, WEB, token="acme-owner-pat").status_code == 200


def test_app_with_auth_method_none_still_gets_a_secret(server: LiveServer) -> None:
    assert server.rotate(PORTAL, SPA).status_code == 200


def test_unknown_body_fields_are_ignored(server: LiveServer) -> None:
    response = server.rotate(json={"foo": [1, {"bar": None}], "projectId": "other", "appId": "x"})
    assert response.status_code == 200


def test_empty_body_is_taken_as_an_empty_object(server: LiveServer) -> None:
    assert server.rotate(content=b"").status_code == 200
