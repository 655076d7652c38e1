"""The gate of ``/__mock`` over a real socket: no cross-site driving, no DNS rebinding, the
optional admin token, and the warning when the port is open beyond loopback without one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, start_server
from tests.support.control_helpers import fresh_ns, rotate, sequence
from tests.support.h2client import Answer, H2Client

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def guarded() -> Iterator[LiveServer]:
    live = start_server("--cors-origin", "http://localhost:3000")
    yield live
    live.stop()


def test_a_cross_site_reset_with_a_simple_body_is_refused_and_resets_nothing(
    guarded: LiveServer,
) -> None:
    ns = fresh_ns()
    rotate(guarded, ns)
    response = guarded.client.post(
        "/__mock/reset",
        headers={"Content-Type": "text/plain", "Origin": EVIL, "X-Mock-Namespace": ns},
        content=b"x",
    )
    assert response.status_code == 403
    assert "cross-site" in response.json()["message"]
    assert sequence(guarded, ns) == 7


def test_a_cross_site_reset_without_a_body_is_refused(guarded: LiveServer) -> None:
    ns = fresh_ns()
    rotate(guarded, ns)
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        response = guarded.client.post("/__mock/reset", headers={**headers, "X-Mock-Namespace": ns})
        assert response.status_code == 403, headers
    assert sequence(guarded, ns) == 7


def test_a_form_body_without_origin_is_refused_unless_vouched_for(guarded: LiveServer) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    refused = guarded.client.post("/__mock/reset", headers=form, content=b"a=b")
    assert refused.status_code == 403
    assert "X-Mock-Admin" in refused.json()["message"]
    vouched = guarded.client.post(
        "/__mock/reset", headers={**form, "X-Mock-Admin": "1", "X-Mock-Namespace": fresh_ns()}
    )
    assert vouched.status_code == 200


def test_the_page_own_origin_and_a_named_origin_are_served(guarded: LiveServer) -> None:
    for origin in (guarded.url, "http://localhost:3000"):
        response = guarded.client.post(
            "/__mock/reset", headers={"Origin": origin, "X-Mock-Namespace": fresh_ns()}
        )
        assert response.status_code == 200, origin


def test_curl_without_any_browser_header_is_served(guarded: LiveServer) -> None:
    response = guarded.client.post("/__mock/reset", headers={"X-Mock-Namespace": fresh_ns()})
    assert response.status_code == 200


def test_a_foreign_host_is_refused_dns_rebinding(guarded: LiveServer) -> None:
    response = guarded.client.get("/__mock/state", headers={"Host": "evil.example"})
    assert response.status_code == 421
    for host in ("localhost", f"127.0.0.1:{guarded.port}", "app.localhost:1", "[::1]:80"):
        assert guarded.client.get("/__mock/state", headers={"Host": host}).status_code == 200


def test_the_rest_surface_keeps_its_host_and_cors(guarded: LiveServer) -> None:
    response = guarded.rotate(headers={"Host": "evil.example", "Origin": "http://localhost:3000"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_an_arbitrary_origin_is_not_reflected_on_the_control_plane() -> None:
    live = start_server()  # CORS for any origin: ZITADEL's REST surface reflects every origin
    try:
        rest = live.rotate(headers={"Origin": EVIL})
        assert rest.headers["access-control-allow-origin"] == EVIL
        admin = live.client.get("/__mock/state", headers={"Origin": EVIL})
        assert admin.status_code == 200
        assert "access-control-allow-origin" not in admin.headers
        preflight = live.client.options(
            "/__mock/reset",
            headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers
    finally:
        live.stop()


def test_the_admin_token_guards_the_api_but_not_the_page_files() -> None:
    live = start_server(env={"ZITADEL_MOCK_ADMIN_TOKEN": "t0ken-for-tests"})
    try:
        assert live.client.get("/__mock/state").status_code == 401
        wrong = {"X-Mock-Admin-Token": "t0ken-for-test"}
        assert live.client.get("/__mock/state", headers=wrong).status_code == 401
        assert live.client.post("/__mock/reset", headers=wrong).status_code == 401
        right = {"X-Mock-Admin-Token": "t0ken-for-tests"}
        assert live.client.get("/__mock/state", headers=right).status_code == 200
        assert live.client.get("/__mock/").status_code == 200
        assert live.client.get("/__mock/page/page.js").status_code == 200
        assert live.rotate().status_code == 200  # the API under test needs no admin token
    finally:
        live.stop()


def test_the_admin_token_flag_works_too() -> None:
    live = start_server("--admin-token", "flag-token")
    try:
        assert live.client.get("/__mock/state").status_code == 401
        ok = live.client.get("/__mock/state", headers={"X-Mock-Admin-Token": "flag-token"})
        assert ok.status_code == 200
    finally:
        live.stop()


def test_binding_beyond_loopback_without_a_token_warns_loudly() -> None:
    live = start_server("--host", "0.0.0.0", "--log-level", "info")
    try:
        assert live.client.get("/__mock/state").status_code == 200
        assert "WARNING: listening on 0.0.0.0, beyond loopback, with no --admin-token" in (
            live.stderr()
        )
    finally:
        live.stop()


def test_binding_beyond_loopback_with_a_token_does_not_warn() -> None:
    live = start_server("--host", "0.0.0.0", "--admin-token", "x", "--log-level", "info")
    try:
        assert live.client.get("/__mock/").status_code == 200
        assert "WARNING" not in live.stderr()
    finally:
        live.stop()


def test_a_foreign_authority_over_http2_is_refused_too(guarded: LiveServer) -> None:
    client = H2Client(guarded.port)
    try:
        ours = client.wait(client.start("/__mock/state", {}, method="GET", end_stream=True))
        assert (b":status", b"200") in ours.headers
        stream = client.conn.get_next_available_stream_id()
        block = [
            (b":method", b"GET"),
            (b":path", b"/__mock/state"),
            (b":scheme", b"http"),
            (b":authority", b"evil.example"),
        ]
        client.conn.send_headers(stream, block, end_stream=True)
        client.answers[stream] = Answer()
        client.flush()
        assert (b":status", b"421") in client.wait(stream).headers
    finally:
        client.close()


def test_the_admin_token_and_host_check_reach_every_worker() -> None:
    live = start_server("--workers", "2", "--admin-token", "worker-token")
    try:
        token = {"X-Mock-Admin-Token": "worker-token"}
        assert {live.client.get("/__mock/state").status_code for _ in range(8)} == {401}
        assert {live.client.get("/__mock/state", headers=token).status_code for _ in range(8)} == {
            200
        }
        foreign = {**token, "Host": "evil.example"}
        assert {
            live.client.get("/__mock/state", headers=foreign).status_code for _ in range(8)
        } == {421}
    finally:
        live.stop()
