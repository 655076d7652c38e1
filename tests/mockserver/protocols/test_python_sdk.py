"""The official Python SDK (PyPI ``zitadel-client`` 4.x) against the mock, on a real socket.

The SDK has no v1 method: ``applications.generate_client_secret`` posts Connect JSON to the v2
path and ``beta_apps.regenerate_client_secret`` to the v2beta one. Each test uses the SDK as its
users do and checks the outcome at the token endpoint or in the SDK's own ``ApiError``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from authlib.deprecate import AuthlibDeprecationWarning  # type: ignore[import-untyped]

with warnings.catch_warnings():
    # The SDK imports authlib.jose, which warns on import and forces its warnings to "always".
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from zitadel_client.exceptions import ApiError
    from zitadel_client.models.application_service_generate_client_secret_request import (
        ApplicationServiceGenerateClientSecretRequest,
    )
    from zitadel_client.models.beta_app_service_regenerate_client_secret_request import (
        BetaAppServiceRegenerateClientSecretRequest,
    )
    from zitadel_client.zitadel import Zitadel

from tests.conftest import ACME, BACKEND, PORTAL, WEB, LiveServer, start_server
from zitadel_proto.methods import V2_GENERATE_CLIENT_SECRET
from zitadel_proto.zitadel.application_v2_pb2 import (
    GenerateClientSecretRequest,
    GenerateClientSecretResponse,
)

WEB_CLIENT = "319487671630840321@portal"
CODE_FORM = {"grant_type": "authorization_code", "code": "made-up", "redirect_uri": "https://a"}


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start_server()
    yield server
    server.stop()


def v2_request(**fields: Any) -> ApplicationServiceGenerateClientSecretRequest:
    """The request as users build it (snake_case names; mypy's pydantic view knows aliases)."""
    return ApplicationServiceGenerateClientSecretRequest(**fields)


def v2beta_request(**fields: Any) -> BetaAppServiceRegenerateClientSecretRequest:
    return BetaAppServiceRegenerateClientSecretRequest(**fields)


def sdk(live: LiveServer, token: str = "admin-pat") -> Zitadel:
    return Zitadel.with_access_token(live.url, token)


def rotate(live: LiveServer, app: str = WEB, token: str = "admin-pat") -> str:
    request = v2_request(application_id=app, project_id=PORTAL)
    response = sdk(live, token).applications.generate_client_secret(request)
    secret = response.client_secret
    assert isinstance(secret, str)
    return secret


def token_endpoint_accepts(live: LiveServer, secret: str) -> bool:
    answer = httpx.post(f"{live.url}/oauth/v2/token", data=CODE_FORM, auth=(WEB_CLIENT, secret))
    if answer.status_code == 401:
        return False
    assert answer.json()["error_description"] == "Errors.User.Code.Invalid"  # past client auth
    return True


def test_the_sdk_rotates_the_demo_app_and_the_token_endpoint_sees_it(live: LiveServer) -> None:
    old = rotate(live)
    new = rotate(live)
    assert len(new) == 64
    assert new != old
    assert token_endpoint_accepts(live, new)
    assert not token_endpoint_accepts(live, old)


def test_the_sdk_reads_the_creation_date(live: LiveServer) -> None:
    request = v2_request(application_id=WEB, project_id=PORTAL)
    response = sdk(live).applications.generate_client_secret(request)
    assert response.creation_date is not None
    assert response.creation_date.tzinfo is not None


def test_an_unknown_app_is_an_api_error_404_with_zitadels_body(live: LiveServer) -> None:
    request = v2_request(application_id="1", project_id=PORTAL)
    with pytest.raises(ApiError) as caught:
        sdk(live).applications.generate_client_secret(request)
    assert caught.value.code == 404
    body = caught.value.response_body
    assert isinstance(body, dict)
    assert body["message"] == "Application doesn't exist (COMMAND-Kd92s)"


def test_an_unknown_token_is_an_api_error_401(live: LiveServer) -> None:
    request = v2_request(application_id=WEB, project_id=PORTAL)
    with pytest.raises(ApiError) as caught:
        sdk(live, "no-such-token").applications.generate_client_secret(request)
    assert caught.value.code == 401


def test_the_beta_call_rotates_an_api_app(live: LiveServer) -> None:
    request = v2beta_request(project_id=PORTAL, application_id=BACKEND, is_api=True)
    response = sdk(live).beta_apps.regenerate_client_secret(request)
    assert isinstance(response.client_secret, str)
    assert len(response.client_secret) == 64


def test_the_beta_call_with_both_members_is_a_decode_error(live: LiveServer) -> None:
    request = v2beta_request(project_id=PORTAL, application_id=WEB, is_api=True, is_oidc=False)
    with pytest.raises(ApiError) as caught:
        sdk(live).beta_apps.regenerate_client_secret(request)
    assert caught.value.code == 400
    body = caught.value.response_body
    assert isinstance(body, dict)
    assert body["message"].startswith(
        "unmarshal message: unmarshal into *app.RegenerateClientSecretRequest: proto: "
    )


def test_sdk_and_grpcio_rotations_continue_v1s_sequence(live: LiveServer) -> None:
    def v1_sequence() -> int:
        response = live.rotate(headers={"x-zitadel-orgid": ACME})
        assert response.status_code == 200
        return int(response.json()["details"]["sequence"])

    first = v1_sequence()
    rotate(live)
    with grpc.insecure_channel(f"127.0.0.1:{live.port}") as channel:
        method = channel.unary_unary(
            V2_GENERATE_CLIENT_SECRET,
            request_serializer=lambda raw: raw,
            response_deserializer=GenerateClientSecretResponse.FromString,
        )
        request = GenerateClientSecretRequest(application_id=WEB, project_id=PORTAL)
        answer = method(
            request.SerializeToString(),
            metadata=(("authorization", "Bearer admin-pat"),),
            timeout=10,
        )
    assert len(answer.client_secret) == 64
    assert v1_sequence() == first + 3
