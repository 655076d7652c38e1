"""The control plane's bounds: namespaces (least recently used idle ones make room, a reset of
all frees them) and queued outcomes (capped per app and in all, with a clear refusal)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import WEB, LiveServer, start_server
from tests.support.control_helpers import admin, fresh_ns, rotate
from zitadel_mock.control.journal import MAX_KEPT_HEADERS, MAX_KEPT_VALUE, OMITTED
from zitadel_mock.control.plane import ControlPlane, ControlSettings
from zitadel_mock.domain import errors
from zitadel_mock.domain.client_secrets import SecretGenerator, system_random_bytes
from zitadel_mock.domain.errors import MockError
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.operations.service import SecretService
from zitadel_mock.state.control_store import EVICT_IDLE, MAX_QUEUED_PER_APP
from zitadel_mock.state.store import Store


class HandClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def plane(clock: HandClock, max_namespaces: int) -> ControlPlane:
    store = Store(None)
    store.load(demo_fixtures())
    service = SecretService(store, SecretGenerator(system_random_bytes()))
    settings = ControlSettings(max_namespaces=max_namespaces)
    return ControlPlane(service, demo_fixtures(), "digest", settings=settings, clock=clock)


def test_a_full_mock_lets_the_least_recently_used_idle_namespace_make_room() -> None:
    clock = HandClock()
    control = plane(clock, max_namespaces=3)
    for name in ("a", "b", "c"):
        control.namespace(name)
        clock.now += timedelta(seconds=1)
    with pytest.raises(MockError) as caught:  # all used within EVICT_IDLE: refused
        control.namespace("d")
    assert caught.value.row is errors.TOO_MANY_NAMESPACES
    assert "DELETE /__mock/namespaces/NAME" in caught.value.message
    clock.now += timedelta(seconds=EVICT_IDLE - 1.5)  # "a" idle long enough, "b" not yet
    assert control.namespace("d") == "d"
    assert sorted(u.name for u in control.namespaces()) == ["b", "c", "d"]


def test_a_reset_of_all_frees_every_namespace() -> None:
    clock = HandClock()
    control = plane(clock, max_namespaces=2)
    control.namespace("a")
    control.namespace("b")
    assert set(control.reset(None)) == {"", "a", "b"}
    assert control.namespaces() == []
    assert control.namespace("c") == "c"


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start_server()
    yield server
    server.stop()


def test_a_flood_of_namespaces_is_freed_by_reset_and_others_are_served(live: LiveServer) -> None:
    names = [fresh_ns() for _ in range(1000)]
    with (
        httpx.Client(base_url=live.url, timeout=30) as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        codes = list(
            pool.map(
                lambda n: client.get("/__mock/state", headers={"X-Mock-Namespace": n}).status_code,
                names,
            )
        )
    assert set(codes) <= {200, 429}
    refused = admin(live, "GET", "/state", fresh_ns())
    assert refused.status_code == 429
    assert "used in the last" in refused.json()["message"]
    assert rotate(live, "").status_code == 200  # the default namespace is always served
    admin(live, "DELETE", f"/namespaces/{names[0]}")
    assert admin(live, "GET", "/state", fresh_ns()).status_code == 200  # deleting frees one
    assert admin(live, "POST", "/reset", params={"all": "true"}).status_code == 200
    assert len(admin(live, "GET", "/namespaces").json()["namespaces"]) == 1  # the default
    assert rotate(live, fresh_ns()).status_code == 200


def test_queued_outcomes_are_capped_per_app_with_a_clear_refusal(live: LiveServer) -> None:
    ns = fresh_ns()
    for _ in range(MAX_QUEUED_PER_APP):
        queued = admin(live, "POST", "/outcomes", ns, json={"app": WEB, "code": 404})
        assert queued.status_code == 201
    refused = admin(live, "POST", "/outcomes", ns, json={"app": WEB, "code": 404})
    assert (refused.status_code, refused.json()["code"]) == (400, 3)
    assert f"holds {MAX_QUEUED_PER_APP} outcomes for app '{WEB}'" in refused.json()["message"]
    other = admin(live, "POST", "/outcomes", ns, json={"code": 404})  # any app: its own count
    assert other.status_code == 201
    assert rotate(live, fresh_ns()).status_code == 200  # another namespace, no queue in the way
    assert admin(live, "DELETE", "/outcomes", ns).status_code == 204
    assert admin(live, "POST", "/outcomes", ns, json={"app": WEB, "code": 404}).status_code == 201


def test_a_journal_entry_is_bounded_in_bytes_whatever_the_headers(live: LiveServer) -> None:
    ns = fresh_ns()
    many = {f"x-h{i}": "v" for i in range(MAX_KEPT_HEADERS + 20)}
    headers = {**many, "x-long": "a" * 2000, "x-huge": "b" * 60000}
    for _ in range(5):
        assert rotate(live, ns, headers=headers).status_code == 200
    entries = admin(live, "GET", "/journal", ns).json()["entries"]
    assert len(entries) == 5
    for entry in entries:
        kept = entry["headers"]
        assert len(kept) <= MAX_KEPT_HEADERS + 1
        assert kept[OMITTED].endswith("more headers")
        assert len(json.dumps(entry)) < (MAX_KEPT_HEADERS + 1) * (MAX_KEPT_VALUE + 100)
    other = fresh_ns()
    assert rotate(live, other, headers={"x-long": "a" * 2000}).status_code == 200
    [entry] = admin(live, "GET", "/journal", other).json()["entries"]
    assert entry["headers"]["x-long"] == "a" * MAX_KEPT_VALUE + "… (+1488 characters)"
