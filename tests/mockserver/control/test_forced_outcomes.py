"""Forced outcomes over a real socket: Prefer per request, and the queue for the next calls."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import PORTAL, SPA, WEB, LiveServer, rotate_path
from tests.support.control_helpers import admin, fresh_ns, journal, rotate, sequence, state
from tests.support.specs import response_validator
from zitadel_mock.control.outcomes import DEFAULT_ROWS
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError, status_body


@pytest.mark.parametrize(("status", "row"), DEFAULT_ROWS.items(), ids=str)
def test_prefer_code_answers_zitadels_row_for_that_status(
    server: LiveServer, status: int, row: errors.Row
) -> None:
    response = rotate(server, fresh_ns(), headers={"Prefer": f"code={status}"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == status_body(MockError(row))
    response_validator(status).validate(response.json())


def test_a_forced_401_carries_www_authenticate_like_a_real_one(server: LiveServer) -> None:
    response = rotate(server, fresh_ns(), headers={"Prefer": "code=401"})
    assert response.headers["www-authenticate"] == "Errors.Token.Invalid (AUTH-7fs1e)"


def test_a_forced_405_carries_allow(server: LiveServer) -> None:
    response = rotate(server, fresh_ns(), headers={"Prefer": "code=405"})
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        ("AUTH-Bs7Ds", 403, "Organisation doesn't exist (AUTH-Bs7Ds)"),
        ("membership_not_found", 404, "membership not found (AUTHZ-cdgFk)"),
        ("auth_header_missing", 401, "auth header missing"),
        (
            "invalid_id_length",
            400,
            "invalid RegenerateOIDCClientSecretRequest.ProjectId: "
            "value length must be between 1 and 200 runes, inclusive",
        ),
    ],
)
def test_prefer_error_picks_any_row_of_the_table(
    server: LiveServer, error: str, status: int, message: str
) -> None:
    response = rotate(server, fresh_ns(), headers={"Prefer": f"error={error}"})
    assert (response.status_code, response.json()["message"]) == (status, message)


def test_a_forced_code_rotates_nothing(server: LiveServer) -> None:
    ns = fresh_ns()
    before = state(server, ns)
    assert rotate(server, ns, headers={"Prefer": "code=404"}).status_code == 404
    assert state(server, ns) == before


def test_a_forced_code_needs_no_valid_token(server: LiveServer) -> None:
    response = rotate(server, fresh_ns(), token=None, headers={"Prefer": "code=403"})
    assert response.json()["message"] == "No matching permissions found (AUTH-5mWD2)"


def test_a_delay_holds_the_real_answer_back(server: LiveServer) -> None:
    ns = fresh_ns()
    started = time.monotonic()
    response = rotate(server, ns, headers={"Prefer": "delay=300"})
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert response.json()["details"]["sequence"] == "7"


def test_a_delay_range_is_drawn_within_its_bounds(server: LiveServer) -> None:
    ns = fresh_ns()
    for _ in range(5):
        rotate(server, ns, headers={"Prefer": "code=404, delay=10-60"})
    delays = [e["forced"]["delayMs"] for e in journal(server, ns)]
    assert len(delays) == 5
    assert all(10 <= d <= 60 for d in delays)


@pytest.mark.parametrize(
    ("prefer", "named"),
    [
        ("fault=boom", "unknown fault 'boom' (known: close, lost, empty, truncate, stall)"),
        ("code=418", "code=418 is not a status this call answers"),
        ("colour=red", "unknown preference 'colour'"),
        ("delay=1-", "delay=1- is not milliseconds"),
    ],
)
def test_a_malformed_prefer_is_refused_and_nothing_happens(
    server: LiveServer, prefer: str, named: str
) -> None:
    ns = fresh_ns()
    response = rotate(server, ns, headers={"Prefer": prefer})
    assert (response.status_code, response.json()["code"]) == (400, 3)
    assert response.json()["message"].startswith(f"invalid Prefer header: {named}")
    assert sequence(server, ns) == 6


def test_prefer_is_ignored_outside_the_call(server: LiveServer) -> None:
    response = server.client.get(rotate_path(PORTAL, WEB), headers={"Prefer": "code=404"})
    assert (response.status_code, response.json()["code"]) == (405, 12)


def queue(server: LiveServer, ns: str, **outcome: Any) -> dict[str, Any]:
    response = admin(server, "POST", "/outcomes", ns, json=outcome)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_queued_outcomes_answer_the_next_calls_to_their_app_then_run_out(
    server: LiveServer,
) -> None:
    ns = fresh_ns()
    queue(server, ns, app=WEB, times=2, code=503)
    assert rotate(server, ns, app=SPA).status_code == 200  # another app: not for it
    answers = [rotate(server, ns) for _ in range(3)]
    assert [r.status_code for r in answers] == [503, 503, 200]
    assert answers[0].json() == {"code": 14, "message": "the service is currently unavailable"}


def test_queued_outcomes_are_used_in_order(server: LiveServer) -> None:
    ns = fresh_ns()
    queue(server, ns, code=404)
    queue(server, ns, error="AUTH-Bs7Ds")
    queue(server, ns, fault="empty")
    answers = [rotate(server, ns) for _ in range(3)]
    assert [(r.status_code, r.content[:9]) for r in answers] == [
        (404, b'{"code":5'),
        (403, b'{"code":7'),
        (200, b""),
    ]


def test_the_queue_is_visible_in_the_state_and_counts_down(server: LiveServer) -> None:
    ns = fresh_ns()
    entry = queue(server, ns, app=WEB, times=3, delay="5-10")
    rotate(server, ns)
    assert state(server, ns)["outcomes"] == [
        {"id": entry["id"], "app": WEB, "remaining": 2, "prefer": "delay=5-10"}
    ]


def test_reset_clears_the_queue(server: LiveServer) -> None:
    ns = fresh_ns()
    queue(server, ns, times=5, code=404)
    assert admin(server, "POST", "/reset", ns).status_code == 200
    assert state(server, ns)["outcomes"] == []
    assert rotate(server, ns).status_code == 200


def test_a_prefer_header_takes_precedence_over_the_queue(server: LiveServer) -> None:
    ns = fresh_ns()
    queue(server, ns, code=404)
    assert rotate(server, ns, headers={"Prefer": "code=403"}).status_code == 403
    assert rotate(server, ns).status_code == 404


@pytest.mark.parametrize(
    ("outcome", "status", "named"),
    [
        ({"fault": "boom"}, 400, "'boom' is not one of"),
        ({"code": 418}, 400, "invalid outcome: code=418 is not a status this call answers"),
        ({"times": 2}, 400, "invalid outcome: give at least one of code, error, delay, fault"),
        ({"app": "nope", "code": 404}, 404, "app 'nope' does not exist"),
    ],
)
def test_a_bad_queued_outcome_is_refused_naming_the_problem(
    server: LiveServer, outcome: dict[str, Any], status: int, named: str
) -> None:
    ns = fresh_ns()
    response = admin(server, "POST", "/outcomes", ns, json=outcome)
    assert response.status_code == status
    assert named in response.json()["message"]
    assert state(server, ns)["outcomes"] == []


def test_a_forced_answer_reaches_a_browser_with_cors_headers(server: LiveServer) -> None:
    response = rotate(
        server, fresh_ns(), headers={"Prefer": "code=401", "Origin": "http://localhost:3000"}
    )
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "www-authenticate" in response.headers["access-control-expose-headers"]
