"""GET /__mock/journal/stream over a real socket: server-sent events read with httpx."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import PORTAL, SPA, WEB, LiveServer, start_server
from tests.support.control_helpers import admin, fresh_ns, journal, rotate

STREAM = "/__mock/journal/stream"


def events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, entry) per event, as an EventSource would see them; comments and retry skipped."""
    event_id, data = "", list[str]()
    for line in response.iter_lines():
        if line == "":
            if data:
                yield event_id, json.loads("\n".join(data))
            data = []
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def open_stream(server: LiveServer, ns: str, **params: Any) -> Any:
    headers = {"Last-Event-ID": params.pop("last_id")} if "last_id" in params else {}
    return server.client.stream("GET", STREAM, params={"namespace": ns, **params}, headers=headers)


def test_the_stream_is_an_event_stream_that_starts_with_a_retry(server: LiveServer) -> None:
    with open_stream(server, fresh_ns()) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert next(response.iter_lines()) == "retry: 1000"


def test_an_entry_appears_on_the_stream_after_a_rest_call(server: LiveServer) -> None:
    ns = fresh_ns()
    with open_stream(server, ns) as response:
        stream = events(response)
        assert rotate(server, ns).status_code == 200
        event_id, entry = next(stream)
    (recorded,) = journal(server, ns)
    assert entry == recorded  # the same JSON as GET /journal, redaction included
    assert event_id == str(recorded["id"])
    assert "admin-pat" not in json.dumps(entry)


def test_a_fresh_stream_starts_with_the_newest_entries(server: LiveServer) -> None:
    ns = fresh_ns()
    for app in (WEB, SPA, WEB):
        rotate(server, ns, app=app)
    with open_stream(server, ns, limit=2) as response:
        stream = events(response)
        first, second = next(stream), next(stream)
    assert [first[1]["id"], second[1]["id"]] == [e["id"] for e in journal(server, ns)[-2:]]


def test_a_reconnect_with_last_event_id_resumes_after_it(server: LiveServer) -> None:
    ns = fresh_ns()
    for _ in range(3):
        rotate(server, ns)
    ids = [e["id"] for e in journal(server, ns)]
    with open_stream(server, ns, last_id=str(ids[0])) as response:
        stream = events(response)
        resumed = [next(stream)[1]["id"], next(stream)[1]["id"]]
        rotate(server, ns)
        after = next(stream)[1]["id"]
    assert resumed == ids[1:]
    assert after == journal(server, ns)[-1]["id"]


def test_the_stream_keeps_to_its_filters(server: LiveServer) -> None:
    ns = fresh_ns()
    with open_stream(server, ns, status=404) as response:
        stream = events(response)
        rotate(server, ns)  # 200: not on this stream
        rotate(server, ns, project=PORTAL, app="42")  # 404
        _, entry = next(stream)
    assert entry["status"] == 404
    assert entry["id"] == journal(server, ns)[-1]["id"]


def test_other_requests_are_served_while_streams_are_open(server: LiveServer) -> None:
    ns = fresh_ns()
    with open_stream(server, ns) as one, open_stream(server, ns) as two:
        assert one.status_code == two.status_code == 200
        probe = httpx.get(f"{server.url}/__mock/state", headers={"X-Mock-Namespace": ns})
        assert probe.status_code == 200
        assert rotate(server, ns).status_code == 200


def test_a_bad_filter_is_refused_before_the_stream_starts(server: LiveServer) -> None:
    response = admin(server, "GET", "/journal/stream", params={"status": "abc"})
    assert response.status_code == 400
    assert "status" in response.json()["message"]


def test_under_an_admin_token_the_stream_needs_it_in_the_header() -> None:
    live = start_server("--admin-token", "stream-test-token")
    try:
        refused = live.client.get(STREAM, params={"token": "stream-test-token"})
        assert refused.status_code == 401  # not taken from the URL
        headers = {"X-Mock-Admin-Token": "stream-test-token"}
        with live.client.stream("GET", STREAM, headers=headers) as response:
            assert response.status_code == 200
    finally:
        live.stop()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_open_stream_does_not_hold_up_a_stop(workers: str) -> None:
    live = start_server("--workers", workers)
    try:
        with live.client.stream("GET", STREAM) as response:
            lines = response.iter_lines()
            assert next(lines) == "retry: 1000"
            live.process.send_signal(signal.SIGTERM)
            assert live.process.wait(20) == 0
            assert list(lines) in ([], [""])  # the stream ended
    finally:
        live.stop()
