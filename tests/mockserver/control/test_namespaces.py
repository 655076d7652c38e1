"""Namespaces over a real socket: isolated copies of the start fixtures, even under load."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import LiveServer, start_server
from tests.support.control_helpers import admin, fresh_ns, rotate, sequence


def test_a_new_namespace_starts_from_the_start_fixtures(server: LiveServer) -> None:
    rotate(server, fresh_ns())
    assert rotate(server, fresh_ns()).json()["details"]["sequence"] == "7"


def test_rotations_in_one_namespace_are_not_seen_in_another(server: LiveServer) -> None:
    one, two = fresh_ns(), fresh_ns()
    for _ in range(3):
        rotate(server, one)
    assert (sequence(server, one), sequence(server, two)) == (9, 6)


def test_namespaces_stay_isolated_under_concurrent_requests(server: LiveServer) -> None:
    names = [fresh_ns() for _ in range(6)]
    calls = 15
    default_before = sequence(server, "")
    jobs = [name for name in names for _ in range(calls)]
    with (
        httpx.Client(base_url=server.url, timeout=30) as client,
        ThreadPoolExecutor(max_workers=24) as pool,
    ):
        responses = list(pool.map(lambda name: (name, rotate(server, name, client=client)), jobs))
    seen: dict[str, list[int]] = {name: [] for name in names}
    for name, response in responses:
        assert response.status_code == 200, response.text
        seen[name].append(int(response.json()["details"]["sequence"]))
    for name in names:
        assert sorted(seen[name]) == list(range(7, 7 + calls))  # no gap, no repeat, no leak
        assert sequence(server, name) == 6 + calls
    assert sequence(server, "") == default_before


@pytest.mark.parametrize("name", ["a b", "x" * 65, "ünï", "@baseline", "a/b"])
def test_a_bad_namespace_name_is_refused_naming_the_problem(server: LiveServer, name: str) -> None:
    response = server.client.post(
        "/management/v1/projects/1/apps/2/oidc_config/_generate_client_secret",
        headers={b"X-Mock-Namespace": name.encode()},  # as UTF-8 bytes, the way browsers send
    )
    assert (response.status_code, response.json()["code"]) == (400, 3)
    assert response.json()["message"].startswith("invalid X-Mock-Namespace: ")
    assert "is not 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'" in response.json()["message"]


def test_two_different_namespace_headers_are_refused(server: LiveServer) -> None:
    first, second = fresh_ns(), fresh_ns()
    response = server.client.post(
        "/management/v1/projects/1/apps/2/oidc_config/_generate_client_secret",
        headers=[("X-Mock-Namespace", first), ("X-Mock-Namespace", second)],
    )
    assert (response.status_code, response.json()["code"]) == (400, 3)
    assert (
        response.json()["message"] == "invalid X-Mock-Namespace: given more than once, differently"
    )


def test_a_repeated_identical_namespace_header_is_that_namespace(server: LiveServer) -> None:
    name = fresh_ns()
    response = server.client.post(
        "/management/v1/projects/319487650192752641/apps/319487671630840321/oidc_config/_generate_client_secret",
        headers=[
            ("X-Mock-Namespace", name),
            ("X-Mock-Namespace", name),
            ("Authorization", "Bearer admin-pat"),
        ],
        json={},
    )
    assert response.status_code == 200
    assert sequence(server, name) == 7


def test_the_admin_api_refuses_a_bad_namespace_too(server: LiveServer) -> None:
    response = admin(server, "GET", "/state", "no spaces")
    assert (response.status_code, response.json()["code"]) == (400, 3)


def test_namespaces_are_listed_with_their_last_use(server: LiveServer) -> None:
    name = fresh_ns()
    rotate(server, name)
    listed = admin(server, "GET", "/namespaces").json()
    assert listed["namespaces"][0] == {"name": "", "lastUsed": None, "expiresAt": None}
    (mine,) = [n for n in listed["namespaces"] if n["name"] == name]
    assert mine["lastUsed"] < mine["expiresAt"]
    assert listed["ttlSeconds"] == 3600


def test_one_namespace_can_be_reset_without_touching_the_others(server: LiveServer) -> None:
    one, two = fresh_ns(), fresh_ns()
    rotate(server, one)
    rotate(server, two)
    assert admin(server, "POST", "/reset", one).json() == {"reset": [one]}
    assert (sequence(server, one), sequence(server, two)) == (6, 7)


@pytest.fixture(scope="module")
def short_lived() -> Iterator[LiveServer]:
    live = start_server("--namespace-ttl", "1")
    yield live
    live.stop()


def test_an_idle_namespace_expires_and_comes_back_fresh(short_lived: LiveServer) -> None:
    name = fresh_ns()
    rotate(short_lived, name)
    deadline = time.monotonic() + 10
    while any(
        n["name"] == name for n in admin(short_lived, "GET", "/namespaces").json()["namespaces"]
    ):
        assert time.monotonic() < deadline, "the namespace never expired"
        time.sleep(0.3)
    assert rotate(short_lived, name).json()["details"]["sequence"] == "7"


def test_a_namespace_in_use_does_not_expire(short_lived: LiveServer) -> None:
    name = fresh_ns()
    for _ in range(8):
        rotate(short_lived, name)
        time.sleep(0.25)
    assert sequence(short_lived, name) == 14
