"""Every row of ZITADEL-v2.md section 4 (v2 GenerateClientSecret), over Connect JSON on a socket.

The mock runs as its own process with the demo fixtures; each test sends what the row's case
sends and compares status, Connect code, message, the ErrorDetail (its unpadded base64 and its
``debug``) and the headers that row carries. Rows 2, 6 and 8 (a blocked instance; impersonation,
MFA and origin refusals; quotas) have no state in the mock and are reached as forced outcomes.
Row 1 (a Host that names no instance) is not reproduced: the mock is one instance for any Host.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import (
    ACME,
    BACKEND,
    GLOBEX,
    PORTAL,
    SHOP,
    SPA,
    SSO,
    STOREFRONT,
    WEB,
    LiveServer,
    raw_request,
    rotate_path,
    start_server,
)

V2 = "/zitadel.application.v2.ApplicationService/GenerateClientSecret"
WEB_CLIENT = "319487671630840321@portal"
SECRET = re.compile(r"[A-Za-z0-9]{64}")
XID = re.compile(r"[0-9a-v]{20}")


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start_server()
    yield server
    server.stop()


def generate(
    live: LiveServer,
    body: object | None = None,
    token: str | None = "admin-pat",
    *,
    app: str = WEB,
    project: str = PORTAL,
    **headers: str,
) -> httpx.Response:
    sent = {
        "Content-Type": "application/json",
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    payload = {"applicationId": app, "projectId": project} if body is None else body
    return live.client.post(V2, json=payload, headers=sent)


def expect_error(
    response: httpx.Response, status: int, code: str, message: str, detail: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert (body["code"], body["message"]) == (code, message)
    if detail is None:
        assert "details" not in body
        return body
    (entry,) = body["details"]
    assert entry["type"] == "zitadel.v1.ErrorDetail"
    text = message.removesuffix(f" ({detail})")
    assert entry["debug"] == {"id": detail, "message": text}
    assert "=" not in entry["value"]
    raw = base64.b64decode(entry["value"] + "=" * (-len(entry["value"]) % 4))
    assert (
        raw == bytes([10, len(detail)]) + detail.encode() + bytes([18, len(text)]) + text.encode()
    )
    return body


# -- success ---------------------------------------------------------------------------------


def test_success_is_client_secret_and_creation_date_only(live: LiveServer) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    response = generate(live)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"clientSecret", "creationDate"}
    assert SECRET.fullmatch(body["clientSecret"])
    created = datetime.fromisoformat(body["creationDate"].replace("Z", "+00:00"))
    assert before <= created <= datetime.now(UTC) + timedelta(seconds=5)
    assert re.fullmatch(r"[0-9T:-]{19}(\.\d{3}|\.\d{6})?Z", body["creationDate"])


def test_success_carries_zitadels_headers(live: LiveServer) -> None:
    headers = generate(live).headers
    assert headers["content-type"] == "application/json"
    assert headers["accept-encoding"] == "gzip"
    assert (headers["cache-control"], headers["pragma"]) == ("no-store", "no-cache")
    assert "expires" in headers
    assert XID.fullmatch(headers["x-request-id"])
    assert headers["x-robots-tag"] == "none"
    assert headers["vary"] == "Origin"
    assert "www-authenticate" not in headers


def test_success_body_is_compact_json(live: LiveServer) -> None:
    raw = generate(live).content
    assert raw.startswith(b'{"clientSecret":"')
    assert b'","creationDate":"' in raw


def test_new_secret_is_accepted_and_old_one_refused_at_the_token_endpoint(live: LiveServer) -> None:
    old = generate(live).json()["clientSecret"]
    new = generate(live).json()["clientSecret"]
    form = {"grant_type": "authorization_code", "code": "made-up", "redirect_uri": "https://a"}
    accepted = live.client.post("/oauth/v2/token", data=form, auth=(WEB_CLIENT, new))
    refused = live.client.post("/oauth/v2/token", data=form, auth=(WEB_CLIENT, old))
    assert accepted.json()["error_description"] == "Errors.User.Code.Invalid"
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")


def test_v1_sequence_continues_across_v2_rotations(live: LiveServer) -> None:
    def v1_sequence() -> int:
        response = live.rotate(headers={"x-zitadel-orgid": ACME})
        assert response.status_code == 200
        return int(response.json()["details"]["sequence"])

    first = v1_sequence()
    assert generate(live).status_code == 200
    assert generate(live).status_code == 200
    assert v1_sequence() == first + 3


@pytest.mark.parametrize("app", [BACKEND, SPA], ids=["api-app", "auth-method-none"])
def test_api_apps_and_none_auth_apps_get_a_secret(live: LiveServer, app: str) -> None:
    response = generate(live, app=app)
    assert response.status_code == 200
    assert SECRET.fullmatch(response.json()["clientSecret"])


def test_proto_field_names_and_unknown_fields_are_accepted(live: LiveServer) -> None:
    body = {"application_id": WEB, "project_id": PORTAL, "unknownField": {"x": [1, 2]}}
    assert generate(live, body).status_code == 200


def test_the_org_header_is_checked_for_existence_only(live: LiveServer) -> None:
    assert generate(live, x_zitadel_orgid=GLOBEX).status_code == 200  # not the app's org


def test_an_app_of_another_org_is_found_without_the_org_header(live: LiveServer) -> None:
    response = generate(live, app=STOREFRONT, project=SHOP)
    assert response.status_code == 200


# -- rows 2 to 13 ----------------------------------------------------------------------------


def test_row_2_instance_blocked_is_forcible(live: LiveServer) -> None:
    response = generate(live, prefer="error=LIMITS-molsj")
    expect_error(
        response,
        429,
        "resource_exhausted",
        "Errors.Limits.Instance.Blocked (LIMITS-molsj)",
        "LIMITS-molsj",
    )


def test_row_3_missing_authorization_is_a_plain_unauthenticated(live: LiveServer) -> None:
    response = generate(live, token=None)
    body = expect_error(response, 401, "unauthenticated", "auth header missing")
    assert response.content == b'{"code":"unauthenticated","message":"auth header missing"}'
    assert body


def test_row_4_a_header_without_bearer_is_an_invalid_auth_header(live: LiveServer) -> None:
    response = generate(live, token=None, authorization="Basic YTpi")
    expect_error(response, 401, "unauthenticated", "invalid auth header (AUTH-toLo1)", "AUTH-toLo1")


def test_row_5_an_unknown_token_answers_the_raw_key_as_in_section_9(live: LiveServer) -> None:
    response = generate(live, token="junk")
    assert response.content == (
        b'{"code":"unauthenticated","message":"Errors.Token.Invalid (AUTH-7fs1e)","details":'
        b'[{"type":"zitadel.v1.ErrorDetail","value":"CgpBVVRILTdmczFlEhRFcnJvcnMuVG9rZW4uSW52YWxpZA"'
        b',"debug":{"id":"AUTH-7fs1e","message":"Errors.Token.Invalid"}}]}'
    )
    assert response.status_code == 401
    assert XID.fullmatch(response.headers["x-request-id"])
    assert "www-authenticate" not in response.headers


def test_row_5_bearer_and_nothing_is_an_invalid_token(live: LiveServer) -> None:
    body = b'{"applicationId":"1","projectId":"2"}'
    answer = raw_request(
        live.port,
        b"POST " + V2.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nAuthorization: Bearer \r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
    )
    assert answer.startswith(b"HTTP/1.1 401 ")
    assert b'"message":"Errors.Token.Invalid (AUTH-7fs1e)"' in answer


@pytest.mark.parametrize(
    ("zitadel_id", "text"),
    [
        ("APP-wai8O", "Errors.TokenExchange.Token.NotForAPI"),
        ("AUTHZ-Kl3p0", "mfa required"),
        ("AUTH-DZG21", "Errors.OriginNotAllowed"),
    ],
)
def test_row_6_refused_tokens_are_forcible(live: LiveServer, zitadel_id: str, text: str) -> None:
    response = generate(live, prefer=f"error={zitadel_id}")
    expect_error(response, 403, "permission_denied", f"{text} ({zitadel_id})", zitadel_id)


def test_row_7_an_unknown_org_header_is_refused(live: LiveServer) -> None:
    response = generate(live, x_zitadel_orgid="999999999999999999")
    expect_error(
        response,
        403,
        "permission_denied",
        "Organisation doesn't exist (AUTH-Bs7Ds)",
        "AUTH-Bs7Ds",
    )


def test_row_8_quota_exhausted_is_forcible(live: LiveServer) -> None:
    response = generate(live, prefer="error=QUOTA-vjAy8")
    expect_error(
        response,
        429,
        "resource_exhausted",
        "Errors.Quota.Access.Exhausted (QUOTA-vjAy8)",
        "QUOTA-vjAy8",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"projectId": PORTAL}, "ApplicationId"),
        ({"applicationId": WEB}, "ProjectId"),
        ({}, "ApplicationId"),
        ({"applicationId": "x" * 201, "projectId": PORTAL}, "ApplicationId"),
        ({"applicationId": WEB, "projectId": "é" * 201}, "ProjectId"),
    ],
    ids=["no-app", "no-project", "neither-app-first", "app-too-long", "project-201-runes"],
)
def test_row_9_ids_are_validated_application_id_first(
    live: LiveServer, body: dict[str, str], field: str
) -> None:
    response = generate(live, body)
    expect_error(
        response,
        400,
        "invalid_argument",
        f"invalid GenerateClientSecretRequest.{field}: "
        "value length must be between 1 and 200 runes, inclusive",
    )


def test_row_9_comes_after_authentication(live: LiveServer) -> None:
    response = generate(live, {"projectId": PORTAL}, token=None)
    assert response.status_code == 401


def test_a_200_rune_id_passes_validation(live: LiveServer) -> None:
    response = generate(live, {"applicationId": "é" * 200, "projectId": PORTAL})
    assert response.json()["message"] == "Application doesn't exist (COMMAND-Kd92s)"


@pytest.mark.parametrize(
    ("app", "project"),
    [("1", PORTAL), (SSO, PORTAL), (WEB, SHOP), (WEB, "2")],
    ids=["unknown-app", "saml-app", "other-project", "unknown-project"],
)
def test_row_10_unknown_or_saml_apps_do_not_exist(live: LiveServer, app: str, project: str) -> None:
    response = generate(live, app=app, project=project)
    expect_error(
        response, 404, "not_found", "Application doesn't exist (COMMAND-Kd92s)", "COMMAND-Kd92s"
    )


def test_row_10_body_is_the_reference_body_byte_for_byte(live: LiveServer) -> None:
    assert generate(live, app="1").content == (
        b'{"code":"not_found","message":"Application doesn\'t exist (COMMAND-Kd92s)","details":'
        b'[{"type":"zitadel.v1.ErrorDetail","value":"Cg1DT01NQU5ELUtkOTJzEhlBcHBsaWNhdGlvbiBkb2'
        b'Vzbid0IGV4aXN0","debug":{"id":"COMMAND-Kd92s","message":"Application doesn\'t exist"}}]}'
    )


def test_row_10_existence_is_checked_before_permission(live: LiveServer) -> None:
    response = generate(live, token="nobody-pat", app="1")
    assert response.json()["message"] == "Application doesn't exist (COMMAND-Kd92s)"


def test_row_11_a_caller_without_membership_in_the_apps_org_is_not_found(
    live: LiveServer,
) -> None:
    response = generate(live, token="nobody-pat")
    expect_error(response, 404, "not_found", "membership not found (AUTHZ-cdgFk)", "AUTHZ-cdgFk")


def test_row_11_owners_of_the_callers_org_are_not_members_of_another_org(
    live: LiveServer,
) -> None:
    response = generate(live, token="acme-owner-pat", app=STOREFRONT, project=SHOP)
    expect_error(response, 404, "not_found", "membership not found (AUTHZ-cdgFk)", "AUTHZ-cdgFk")


def test_row_12_memberships_without_write_permission_are_refused(live: LiveServer) -> None:
    response = generate(live, token="acme-viewer-pat")
    expect_error(
        response,
        403,
        "permission_denied",
        "No matching permissions found (AUTH-AWfge)",
        "AUTH-AWfge",
    )


def test_row_13_project_grants_for_other_projects_are_refused(live: LiveServer) -> None:
    response = generate(live, token="intranet-owner-pat")
    expect_error(
        response,
        403,
        "permission_denied",
        "No matching permissions found (AUTH-Swrgg2)",
        "AUTH-Swrgg2",
    )


def test_project_owners_rotate_their_projects_apps(live: LiveServer) -> None:
    assert generate(live, token="portal-owner-pat").status_code == 200


def test_v1_stays_as_it_was_for_the_same_callers(live: LiveServer) -> None:
    """v1 keeps its own ids for the same cases (COMMAND-2g66f, AUTH-5mWD2)."""
    sso = live.rotate(project=PORTAL, app=SSO, headers={"x-zitadel-orgid": ACME})
    viewer = live.client.post(
        rotate_path(PORTAL, WEB), json={}, headers={"Authorization": "Bearer acme-viewer-pat"}
    )
    assert sso.json()["message"] == "Application is not type OIDC (COMMAND-Ghrh3)"
    assert viewer.json()["message"] == "No matching permissions found (AUTH-5mWD2)"


# -- T rows: connect-go's own answers --------------------------------------------------------


def test_t1_an_unknown_method_under_the_prefix_is_go_s_plain_404(live: LiveServer) -> None:
    response = live.client.post(
        "/zitadel.application.v2.ApplicationService/ListApplications", json={}
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == b"404 page not found\n"


def test_t2_other_methods_get_405_with_allow_post(live: LiveServer) -> None:
    response = live.client.get(V2)
    assert (response.status_code, response.headers["allow"], response.content) == (
        405,
        "POST",
        b"",
    )


def test_t3_an_unsupported_content_type_gets_415_with_accept_post(live: LiveServer) -> None:
    response = live.client.post(V2, content=b"{}", headers={"Content-Type": "text/plain"})
    assert (response.status_code, response.content) == (415, b"")
    assert response.headers["accept-post"] == (
        "application/grpc, application/grpc+json, application/grpc+json; charset=utf-8, "
        "application/grpc+proto, application/grpc-web, application/grpc-web+json, "
        "application/grpc-web+json; charset=utf-8, application/grpc-web+proto, "
        "application/json, application/json; charset=utf-8, application/proto"
    )


def test_t7_an_empty_body_is_refused_before_authentication(live: LiveServer) -> None:
    response = live.client.post(V2, content=b"", headers={"Content-Type": "application/json"})
    expect_error(
        response,
        400,
        "invalid_argument",
        "unmarshal message: zero-length payload is not a valid JSON object",
    )
    assert "x-request-id" not in response.headers
