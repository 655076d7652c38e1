"""gRPC-web from a browser: preflights answered, the grpc headers exposed."""

from __future__ import annotations

from tests.conftest import LiveServer
from zitadel_proto.client import parse_grpc_web, request_bytes
from zitadel_proto.wire import METHOD_PATH, encode_frame

ORIGIN = "http://localhost:4200"
REQUESTED = "authorization,content-type,x-grpc-web,x-user-agent,x-zitadel-orgid"


def test_a_grpc_web_preflight_allows_what_grpc_web_clients_send(server: LiveServer) -> None:
    response = server.client.options(
        METHOD_PATH,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": REQUESTED,
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-headers"] == REQUESTED
    assert "POST" in response.headers["access-control-allow-methods"]


def test_grpc_web_answers_expose_the_grpc_headers_to_the_browser(server: LiveServer) -> None:
    response = server.client.post(
        METHOD_PATH,
        content=encode_frame(request_bytes("1", "1")),
        headers={"Origin": ORIGIN, "Content-Type": "application/grpc-web+proto"},
    )
    assert parse_grpc_web(response).code == 16
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"grpc-status", "grpc-message", "grpc-status-details-bin"} <= exposed
