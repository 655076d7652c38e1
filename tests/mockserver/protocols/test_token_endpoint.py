"""POST /oauth/v2/token on a real socket: client authentication as ZITADEL does it, nothing more."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import (
    ACME,
    GLOBEX,
    PORTAL,
    SHOP,
    STOREFRONT,
    WEB,
    LiveServer,
    fuzz_examples,
    start_server,
)

WEB_CLIENT = "319487671630840321@portal"
SPA_CLIENT = "319487671630840322@portal"  # auth method NONE
BACKEND_CLIENT = "319487671630840323@portal"  # an API app
STOREFRONT_CLIENT = "319487671630840325@shop"  # auth method POST
CODE_FORM = {"grant_type": "authorization_code", "code": "made-up", "redirect_uri": "https://a"}


@pytest.fixture(scope="module")
def token_server() -> Iterator[LiveServer]:
    live = start_server()
    yield live
    live.stop()


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{client_id.replace('@', '%40')}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def ask(server: LiveServer, form: dict[str, str], **kwargs: object) -> tuple[int, str, str]:
    response = server.client.post("/oauth/v2/token", data=form, **kwargs)  # type: ignore[arg-type]
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    return response.status_code, body["error"], body["error_description"]


def fresh_secret(server: LiveServer, project: str = PORTAL, app: str = WEB, org: str = ACME) -> str:
    response = server.rotate(project=project, app=app, headers={"x-zitadel-orgid": org})
    assert response.status_code == 200
    secret: str = response.json()["clientSecret"]
    return secret


def test_right_secret_by_basic_gets_past_client_authentication(token_server: LiveServer) -> None:
    secret = fresh_secret(token_server)
    answer = ask(token_server, CODE_FORM, headers=basic(WEB_CLIENT, secret))
    assert answer == (400, "invalid_request", "Errors.User.Code.Invalid")


def test_right_secret_by_post_gets_past_client_authentication(token_server: LiveServer) -> None:
    secret = fresh_secret(token_server)
    form = {**CODE_FORM, "client_id": WEB_CLIENT, "client_secret": secret}
    assert ask(token_server, form)[:2] == (400, "invalid_request")


def test_wrong_secret_is_invalid_client_with_401(token_server: LiveServer) -> None:
    answer = ask(token_server, CODE_FORM, headers=basic(WEB_CLIENT, "wrong"))
    assert answer == (401, "invalid_client", "invalid secret")


def test_previous_secret_is_refused_after_a_rotation(token_server: LiveServer) -> None:
    previous = fresh_secret(token_server)
    fresh_secret(token_server)
    assert ask(token_server, CODE_FORM, headers=basic(WEB_CLIENT, previous))[:2] == (
        401,
        "invalid_client",
    )


def test_empty_secret_is_invalid_client(token_server: LiveServer) -> None:
    form = {**CODE_FORM, "client_id": WEB_CLIENT, "client_secret": ""}
    assert ask(token_server, form) == (401, "invalid_client", "empty client secret")


def test_unknown_client_is_invalid_client(token_server: LiveServer) -> None:
    answer = ask(token_server, CODE_FORM, headers=basic("nobody@nowhere", "x"))
    assert answer == (401, "invalid_client", "no active client not found")


def test_an_api_app_is_no_oidc_client(token_server: LiveServer) -> None:
    assert ask(token_server, CODE_FORM, headers=basic(BACKEND_CLIENT, "x"))[1] == "invalid_client"


def test_a_public_client_is_not_asked_for_a_secret(token_server: LiveServer) -> None:
    form = {**CODE_FORM, "client_id": SPA_CLIENT}
    assert ask(token_server, form)[:2] == (400, "invalid_request")


def test_a_post_client_may_also_use_basic_as_in_zitadel(token_server: LiveServer) -> None:
    secret = fresh_secret(token_server, SHOP, STOREFRONT, GLOBEX)
    assert ask(token_server, CODE_FORM, headers=basic(STOREFRONT_CLIENT, secret))[0] == 400


def test_both_methods_at_once_are_refused(token_server: LiveServer) -> None:
    form = {**CODE_FORM, "client_id": WEB_CLIENT, "client_secret": "x"}
    answer = ask(token_server, form, headers=basic(WEB_CLIENT, "x"))
    assert answer == (
        400,
        "invalid_request",
        "client authentication must not use more than one method",
    )


def test_malformed_basic_header_counts_as_no_credentials(token_server: LiveServer) -> None:
    answer = ask(token_server, CODE_FORM, headers={"Authorization": "Basic !!!not-base64"})
    assert answer == (400, "invalid_request", "client_id or client_assertion must be provided")


def test_bad_escape_in_basic_credentials_is_invalid_client(token_server: LiveServer) -> None:
    header = "Basic " + base64.b64encode(b"web%zz:secret").decode()
    answer = ask(token_server, CODE_FORM, headers={"Authorization": header})
    assert answer == (401, "invalid_client", "invalid basic auth header")


def test_missing_grant_type_is_invalid_request(token_server: LiveServer) -> None:
    assert ask(token_server, {"code": "x"}) == (400, "invalid_request", "grant_type missing")


def test_other_grant_types_are_unsupported(token_server: LiveServer) -> None:
    answer = ask(token_server, {"grant_type": "password"})
    assert answer == (400, "unsupported_grant_type", "password not supported")


def test_code_is_required_after_authentication(token_server: LiveServer) -> None:
    secret = fresh_secret(token_server)
    form = {"grant_type": "authorization_code", "redirect_uri": "https://a"}
    assert ask(token_server, form, headers=basic(WEB_CLIENT, secret))[2] == "code missing"


def test_a_body_that_is_not_a_form_is_not_read(token_server: LiveServer) -> None:
    response = token_server.client.post(
        "/oauth/v2/token", json={"grant_type": "authorization_code"}
    )
    assert (response.status_code, response.json()["error_description"]) == (
        400,
        "grant_type missing",
    )


def test_get_is_method_not_allowed(token_server: LiveServer) -> None:
    response = token_server.client.get("/oauth/v2/token")
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


@pytest.mark.fuzz
@settings(
    max_examples=fuzz_examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.binary(max_size=200),
    authorization=st.one_of(st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=126))),
)
def test_any_request_gets_an_oauth_error_never_a_crash(
    token_server: LiveServer, body: bytes, authorization: str | None
) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = httpx.post(f"{token_server.url}/oauth/v2/token", content=body, headers=headers)
    assert response.status_code in (400, 401)
    assert response.json()["error"] in {
        "invalid_request",
        "invalid_client",
        "unsupported_grant_type",
    }
