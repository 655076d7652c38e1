"""CORS for browser apps: preflights answered, credentials allowed, origins configurable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import PORTAL, WEB, LiveServer, rotate_path, start_server

PATH = rotate_path(PORTAL, WEB)


def preflight(server: LiveServer, origin: str) -> dict[str, str]:
    response = server.client.options(
        PATH,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-zitadel-orgid",
        },
    )
    assert response.status_code == 204
    return dict(response.headers)


def test_preflight_allows_the_origin_with_credentials(server: LiveServer) -> None:
    headers = preflight(server, "http://localhost:3000")
    assert headers["access-control-allow-origin"] == "http://localhost:3000"
    assert headers["access-control-allow-credentials"] == "true"
    assert "POST" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-headers"] == "authorization, content-type, x-zitadel-orgid"


def test_responses_to_browsers_expose_the_grpc_and_auth_headers(server: LiveServer) -> None:
    response = server.rotate(token=None, headers={"Origin": "http://localhost:3000"})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    exposed = response.headers["access-control-expose-headers"]
    assert "www-authenticate" in exposed
    assert "grpc-status" in exposed


def test_requests_without_origin_get_no_cors_headers(server: LiveServer) -> None:
    assert "access-control-allow-origin" not in server.rotate().headers


def test_options_without_preflight_headers_is_a_wrong_method(server: LiveServer) -> None:
    response = server.client.options(PATH)
    assert (response.status_code, response.json()["code"]) == (405, 12)


@pytest.fixture
def restricted() -> Iterator[LiveServer]:
    live = start_server("--cors-origin", "http://app.test")
    yield live
    live.stop()


def test_configured_origins_are_allowed(restricted: LiveServer) -> None:
    assert (
        preflight(restricted, "http://app.test")["access-control-allow-origin"] == "http://app.test"
    )


def test_other_origins_get_no_cors_headers(restricted: LiveServer) -> None:
    response = restricted.rotate(headers={"Origin": "http://evil.test"})
    assert "access-control-allow-origin" not in response.headers


def test_a_preflight_from_another_origin_is_answered_without_cors_headers(
    restricted: LiveServer,
) -> None:
    # As rs/cors (ZITADEL's CORS handler) answers it: 204, no Access-Control-Allow-* at all, so
    # the browser reports a CORS refusal rather than a 405 from the API.
    response = restricted.client.options(
        PATH, headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 204
    assert not [name for name in response.headers if name.startswith("access-control-")]
