"""Bad input over a real socket: always google.rpc.Status with the right status, never a 500."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PORTAL, WEB, LiveServer, fuzz_examples, raw_request, rotate_path


def status_of(response: httpx.Response) -> tuple[int, int]:
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    assert set(body) <= {"code", "message", "details"}
    assert isinstance(body["message"], str)
    assert body["message"]
    return response.status_code, body["code"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{", "not valid JSON"),
        (b"\x0c", "not valid JSON"),  # not JSON white space, though Python's strip() says so
        (b'{"a": 1,}', "not valid JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b'{"a": "\xc3\x28"}', "not valid UTF-8"),
        (b"[]", "not an array"),
        (b'"text"', "not a string"),
        (b"42", "not a number"),
        (b"null", "not null"),
        (b"true", "not a boolean"),
        (b'{"a": NaN}', "NaN is not allowed"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"projectId": 5}', "'projectId' must be a string"),
        (b'{"app_id": {}}', "'app_id' must be a string"),
        (b'{"appId": "1", "app_id": "1"}', "sets the field app_id twice"),
    ],
)
def test_malformed_bodies_are_invalid_argument(
    server: LiveServer, body: bytes, fragment: str
) -> None:
    response = server.rotate(content=body, headers={"Content-Type": "application/json"})
    assert status_of(response) == (400, 3)
    assert fragment in response.json()["message"]


def test_body_over_one_mebibyte_is_refused(server: LiveServer) -> None:
    body = json.dumps({"pad": "x" * (1024 * 1024)}).encode()
    response = server.rotate(content=body, headers={"Content-Type": "application/json"})
    assert status_of(response) == (400, 3)
    assert "larger than 1048576 bytes" in response.json()["message"]


def test_body_of_exactly_one_mebibyte_is_accepted(server: LiveServer) -> None:
    pad = 1024 * 1024 - len(b'{"pad":""}')
    body = b'{"pad":"' + b"x" * pad + b'"}'
    assert len(body) == 1024 * 1024
    response = server.rotate(content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_any_non_grpc_content_type_is_decoded_as_json_like_the_gateway(
    server: LiveServer, content_type: str
) -> None:
    response = server.rotate(content=b"{}", headers={"Content-Type": content_type})
    assert response.status_code == 200


def test_non_json_body_with_a_foreign_content_type_is_invalid_argument(server: LiveServer) -> None:
    response = server.rotate(
        content=b"a=1&b=2", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status_of(response) == (400, 3)


@pytest.mark.parametrize("app_id", ["%F0%9F%94%91", "a%2Fb", "a%20b", "%00", "%2E%2E", "a%3Bb"])
def test_odd_ids_are_unknown_apps(server: LiveServer, app_id: str) -> None:
    path = f"/management/v1/projects/{PORTAL}/apps/{app_id}/oidc_config/_generate_client_secret"
    response = server.client.post(path, json={}, headers={"Authorization": "Bearer admin-pat"})
    assert status_of(response) == (404, 5)
    assert response.json()["message"] == "Application doesn't exist (COMMAND-2g66f)"


def test_malformed_authorization_header_bytes_are_invalid_auth(server: LiveServer) -> None:
    path = rotate_path(PORTAL, WEB).encode()
    request = (
        b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n"
        b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
    )
    head, _, body = raw_request(server.port, request).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401")
    assert json.loads(body)["code"] == 16


@pytest.mark.fuzz
@settings(
    max_examples=fuzz_examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.binary(max_size=300),
    authorization=st.one_of(
        st.none(),
        # httpx refuses to send a value with white space at either end; raw sockets test those.
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).filter(
            lambda value: value == value.strip()
        ),
    ),
    org=st.one_of(
        st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30)
    ),
)
def test_random_input_never_gets_a_server_error(
    server: LiveServer, body: bytes, authorization: str | None, org: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    if org is not None:
        headers["x-zitadel-orgid"] = org
    response = server.client.post(rotate_path(PORTAL, WEB), content=body, headers=headers)
    assert response.status_code < 500
    if response.status_code != 200:
        status_of(response)
