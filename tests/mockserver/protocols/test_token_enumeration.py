"""An unknown client id and a wrong secret answer alike, as far as ZITADEL's own answers allow:
the same status, error and headers (its descriptions differ, so the mock's do), and the same work
(one lookup, one hash), so that client ids cannot be told apart by time."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, start_server
from zitadel_mock.domain.client_secrets import SecretGenerator, SecretHash, system_random_bytes
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.operations.service import SecretService
from zitadel_mock.protocols.token_endpoint import TokenEndpoint, TokenRequest
from zitadel_mock.state.store import Store

WEB_CLIENT = "319487671630840321@portal"
UNKNOWN_CLIENT = "319487671630849999@portal"
FORM = b"grant_type=authorization_code&code=x&redirect_uri=https%3A%2F%2Fa"


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start_server()
    yield server
    server.stop()


def basic(client_id: str, secret: str) -> str:
    return (
        "Basic " + base64.b64encode(f"{client_id.replace('@', '%40')}:{secret}".encode()).decode()
    )


def test_unknown_client_and_wrong_secret_share_status_error_and_headers(live: LiveServer) -> None:
    answers = [
        live.client.post(
            "/oauth/v2/token",
            content=FORM,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": basic(client, "a-wrong-secret"),
            },
        )
        for client in (UNKNOWN_CLIENT, WEB_CLIENT)
    ]
    unknown, wrong = answers
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["error"] == wrong.json()["error"] == "invalid_client"
    assert sorted(unknown.headers.keys()) == sorted(wrong.headers.keys())
    # ZITADEL's own descriptions (internal/api/oidc: clientFromCredentials), kept as it sends them.
    assert unknown.json()["error_description"] == "no active client not found"
    assert wrong.json()["error_description"] == "invalid secret"


def request(client_id: str) -> TokenRequest:
    return TokenRequest(
        method="POST",
        content_type=b"application/x-www-form-urlencoded",
        authorization=basic(client_id, "a-wrong-secret").encode(),
        namespace="",
        query=b"",
        body=FORM,
    )


def test_an_unknown_client_costs_one_hash_as_a_wrong_secret_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store(None)
    store.load(demo_fixtures())
    endpoint = TokenEndpoint(SecretService(store, SecretGenerator(system_random_bytes())))
    calls: list[str] = []
    real = SecretHash.matches

    def counting(self: SecretHash, candidate: str) -> bool:
        calls.append(candidate)
        return real(self, candidate)

    monkeypatch.setattr(SecretHash, "matches", counting)
    counts = []
    for client in (UNKNOWN_CLIENT, WEB_CLIENT):
        calls.clear()
        assert endpoint.answer(request(client)).error == "invalid_client"
        counts.append(len(calls))
    assert counts == [1, 1]
