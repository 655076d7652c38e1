"""The request journal over a real socket: what was sent, exactly, and never a secret or token."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import PORTAL, SPA, WEB, LiveServer, rotate_path, start_server
from tests.support.control_helpers import admin, fresh_ns, journal, rotate
from zitadel_mock.domain.client_secrets import token_digest


def test_an_entry_holds_what_was_sent_and_what_came_back(server: LiveServer) -> None:
    ns = fresh_ns()
    server.client.post(
        rotate_path(PORTAL, "42") + "?trace=yes",
        content=b"{}",
        headers={
            "X-Mock-Namespace": ns,
            "Authorization": "Bearer admin-pat",
            "x-zitadel-orgid": "319487622871056385",
            "Content-Type": "application/json",
            "X-Request-Id": "r-1",
        },
    )
    (entry,) = journal(server, ns)
    assert {k: entry[k] for k in entry if k not in ("id", "time", "durationMs", "headers")} == {
        "namespace": ns,
        "transport": "rest",
        "api": "v1",
        "method": "POST",
        "path": rotate_path(PORTAL, "42") + "?trace=yes",
        "projectId": PORTAL,
        "appId": "42",
        "status": 404,
        "grpcCode": 5,
        "message": "Application doesn't exist (COMMAND-2g66f)",
        "outcome": "error",
        "forced": None,
    }
    assert entry["headers"] == {
        "host": f"127.0.0.1:{server.port}",
        "accept": "*/*",
        "accept-encoding": "gzip, deflate",
        "connection": "keep-alive",
        "user-agent": f"python-httpx/{httpx.__version__}",
        "content-length": "2",
        "x-mock-namespace": ns,
        "authorization": f"Bearer <sha256:{token_digest('admin-pat')[:12]}>",
        "x-zitadel-orgid": "319487622871056385",
        "content-type": "application/json",
        "x-request-id": "r-1",
    }
    assert entry["durationMs"] > 0


def test_a_success_is_recorded_without_its_body(server: LiveServer) -> None:
    ns = fresh_ns()
    secret = rotate(server, ns).json()["clientSecret"]
    (entry,) = journal(server, ns)
    assert (entry["status"], entry["outcome"], entry["grpcCode"], entry["message"]) == (
        200,
        "success",
        None,
        None,
    )
    assert secret not in json.dumps(entry)


def test_no_secret_and_no_token_ever_reaches_the_journal_or_the_state(server: LiveServer) -> None:
    ns = fresh_ns()
    token = f"pat-{secrets.token_hex(16)}"
    initial = f"initial-{secrets.token_hex(16)}"
    created = admin(
        server,
        "POST",
        "/tokens",
        ns,
        json={
            "token": token,
            "name": "ci",
            "user": "9",
            "org": "319487622871056385",
            "memberships": [{"scope": "instance", "roles": ["IAM_OWNER"]}],
        },
    )
    assert created.status_code == 201, created.text
    changed = admin(server, "PATCH", f"/apps/{WEB}", ns, json={"secret": initial})
    assert changed.status_code == 200, changed.text
    sent = [token, initial]
    for app in (WEB, SPA):
        response = rotate(server, ns, app=app, token=token)
        sent.append(response.json()["clientSecret"])
    with pytest.raises(httpx.RemoteProtocolError):
        rotate(server, ns, headers={"Prefer": "fault=truncate"}, token=token)
    server.client.post(
        rotate_path(PORTAL, WEB) + f"?access_token={token}",
        headers={
            "X-Mock-Namespace": ns,
            "Authorization": f"Basic {token}",
            "Cookie": f"session={token}",
        },
    )
    recorded = json.dumps(journal(server, ns)) + json.dumps(
        admin(server, "GET", "/state", ns).json()
    )
    assert len(journal(server, ns)) == 4
    for value in sent:
        assert value not in recorded
    assert f"Bearer <sha256:{token_digest(token)[:12]}>" in recorded
    assert "Basic <redacted>" in recorded
    assert "access_token=<redacted>" in recorded


def test_the_journal_filters_by_app_and_status(server: LiveServer) -> None:
    ns = fresh_ns()
    rotate(server, ns)
    rotate(server, ns, app=SPA)
    rotate(server, ns, headers={"Prefer": "code=404"})
    assert [e["status"] for e in journal(server, ns, app=WEB)] == [200, 404]
    assert [e["appId"] for e in journal(server, ns, status=200)] == [WEB, SPA]
    assert [e["appId"] for e in journal(server, ns, limit=1)] == [WEB]


def test_forced_outcomes_name_their_source(server: LiveServer) -> None:
    ns = fresh_ns()
    admin(server, "POST", "/outcomes", ns, json={"code": 503})
    rotate(server, ns)
    rotate(server, ns, headers={"Prefer": "error=AUTH-Bs7Ds"})
    queued, preferred = journal(server, ns)
    assert (queued["outcome"], queued["forced"]["source"], queued["grpcCode"]) == (
        "forced",
        "queue",
        14,
    )
    assert preferred["forced"] == {
        "source": "prefer",
        "prefer": "error=org_not_found",
        "delayMs": 0,
    }


def test_each_namespace_has_its_own_journal(server: LiveServer) -> None:
    one, two = fresh_ns(), fresh_ns()
    rotate(server, one)
    assert journal(server, two) == []


def test_the_journal_can_be_cleared(server: LiveServer) -> None:
    ns = fresh_ns()
    rotate(server, ns)
    assert admin(server, "DELETE", "/journal", ns).status_code == 204
    assert journal(server, ns) == []


def test_admin_calls_are_not_journaled(server: LiveServer) -> None:
    ns = fresh_ns()
    admin(server, "GET", "/state", ns)
    assert journal(server, ns) == []


@pytest.fixture(scope="module")
def small_journal() -> Iterator[LiveServer]:
    live = start_server("--journal-size", "3")
    yield live
    live.stop()


def test_the_journal_keeps_only_the_newest_entries(small_journal: LiveServer) -> None:
    ns = fresh_ns()
    for n in range(5):
        rotate(small_journal, ns, headers={"X-Call": str(n)})
    assert [e["headers"]["x-call"] for e in journal(small_journal, ns)] == ["2", "3", "4"]
