"""The REST operation: it answers ``POST`` on the operation's path and leaves everything else to
connexion; every answer it gives conforms to openapi.yaml, or becomes a logged 500."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from starlette.types import Receive, Scope, Send

from tests.conftest import PORTAL, WEB, fuzz_examples, rotate_path
from tests.support.rest_requests import Answer, Request, build_mock, call, requests, write_fixtures
from tests.support.specs import response_validator
from zitadel_mock.app import MockApp
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.operations.operation import SpecNotSupportedError
from zitadel_mock.operations.registry import SERVED
from zitadel_mock.operations.service import Regenerated
from zitadel_mock.protocols import rest_operation
from zitadel_mock.protocols.gateway import Rendered, render_error
from zitadel_mock.protocols.rest_operation import OperationSpec, RestOperation

EXAMPLES = fuzz_examples(400)
ROTATE = rotate_path(PORTAL, WEB)
JSON = (b"content-type", b"application/json")
ADMIN = (b"authorization", b"Bearer admin-pat")
OPERATION = SERVED[0]


class Loop:
    """One event loop for a test's in-process calls."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def send(self, app: Any, request: Request) -> Answer:
        answer: Answer = self.loop.run_until_complete(call(app, request))
        return answer

    def close(self) -> None:
        self.loop.close()


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


@pytest.fixture
def mock(tmp_path: Path) -> MockApp:
    return build_mock(write_fixtures(tmp_path))


class Behind:
    """What the REST operation hands on: counts the requests that reach it, answers 418."""

    def __init__(self) -> None:
        self.reached = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.reached += 1
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def conforming_status(answer: Answer) -> int:
    """The answer's status, after checking it against openapi.yaml on its own: never a 500, a
    JSON body that matches the schema of its status."""
    assert answer.status != 500, answer
    if answer.status == 307:  # starlette's redirect of a trailing slash, before any route
        return answer.status
    assert (b"content-type", b"application/json") in answer.headers, answer
    response_validator(answer.status).validate(json.loads(answer.body))
    return answer.status


def answer_generated(app: Any, loop: Loop, examples: int) -> Counter[int]:
    """Send ``examples`` generated requests; the statuses seen, counted."""
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=requests())
    def every_answer_conforms(request: Request) -> None:
        statuses[conforming_status(loop.send(app, request))] += 1

    every_answer_conforms()
    return statuses


def test_the_rest_operation_answers_a_rotation_itself(mock: MockApp, loop: Loop) -> None:
    behind = Behind()
    app = RestOperation(behind, mock.service, OPERATION)
    answer = loop.send(app, Request("POST", ROTATE, (JSON, ADMIN), b"{}"))
    assert (answer.status, behind.reached) == (200, 0)
    assert (b"cache-control", b"no-store") in answer.headers


@pytest.mark.parametrize(
    ("method", "target"),
    [("GET", ROTATE), ("PUT", ROTATE), ("POST", ROTATE + "/"), ("POST", "/management/v1/x")],
)
def test_other_methods_and_paths_are_left_to_connexion(
    mock: MockApp, loop: Loop, method: str, target: str
) -> None:
    behind = Behind()
    app = RestOperation(behind, mock.service, OPERATION)
    assert loop.send(app, Request(method, target, (JSON, ADMIN), b"{}")).status == 418
    assert behind.reached == 1


@pytest.mark.fuzz
def test_generated_requests_get_answers_that_conform_to_the_spec(mock: MockApp, loop: Loop) -> None:
    statuses = answer_generated(mock, loop, EXAMPLES)
    # Not vacuous: every kind of answer came back.
    assert {200, 400, 401, 403, 404, 405} <= statuses.keys(), statuses


def test_a_request_connexion_would_route_to_the_operation_is_caught_as_a_500(
    tmp_path: Path, loop: Loop, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A REST operation whose path takes only all-digit ids leaves the others to connexion,
    # whose operation handler is never meant to run: the generated requests find it.
    whole = rest_operation.path_pattern

    def digits_only(template: str) -> re.Pattern[str]:
        return re.compile(whole(template).pattern.replace("[^/\n]+", "[0-9]+"))

    monkeypatch.setattr(rest_operation, "path_pattern", digits_only)
    narrowed = build_mock(write_fixtures(tmp_path))
    with caplog.at_level(logging.ERROR), pytest.raises(AssertionError):
        answer_generated(narrowed, loop, 200)
    assert any("connexion's handler" in r.getMessage() for r in caplog.records)


def test_an_answer_that_breaks_the_spec_becomes_a_500_and_a_log_line(
    mock: MockApp, loop: Loop, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    rotate = mock.service.rotate

    def nameless_owner(*args: Any, rotate: Callable[..., Regenerated] = rotate) -> Regenerated:
        result = rotate(*args)  # an empty resourceOwner is left out: the spec requires it
        return Regenerated(result.client_secret, result.sequence, result.change_date, "")

    monkeypatch.setattr(mock.service, "rotate", nameless_owner)
    with caplog.at_level(logging.ERROR):
        answer = loop.send(mock, Request("POST", ROTATE, (JSON, ADMIN), b"{}"))
    assert answer.status == 500
    assert b"did not match openapi.yaml" in answer.body
    assert b"clientSecret" not in answer.body
    failures = [r for r in caplog.records if "failed validation" in r.getMessage()]
    assert [r.name for r in failures] == ["zitadel_mock.protocols.rest_operation"]


def test_without_the_check_the_same_answer_would_go_out(
    mock: MockApp, loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check above is what stops it: with conforms() switched off the bad answer is sent.
    rotate = mock.service.rotate

    def nameless_owner(*args: Any, rotate: Callable[..., Regenerated] = rotate) -> Regenerated:
        result = rotate(*args)
        return Regenerated(result.client_secret, result.sequence, result.change_date, "")

    monkeypatch.setattr(mock.service, "rotate", nameless_owner)
    monkeypatch.setattr(rest_operation.OperationSpec, "conforms", lambda _self, _answer: None)
    answer = loop.send(mock, Request("POST", ROTATE, (JSON, ADMIN), b"{}"))
    assert answer.status == 200
    assert b'"clientSecret"' in answer.body
    assert b"resourceOwner" not in answer.body  # protojson leaves the empty string out


def test_a_spec_keyword_the_operation_would_check_differently_stops_the_start(
    tmp_path: Path,
) -> None:
    spec = (Path(__file__).resolve().parents[3] / "openapi.yaml").read_text()
    changed = tmp_path / "openapi.yaml"
    timestamp = "    Timestamp:\n      type: string\n"
    assert timestamp in spec
    changed.write_text(spec.replace(timestamp, timestamp + "      nullable: true\n"))
    with pytest.raises(SpecNotSupportedError, match="nullable"):
        OperationSpec(OPERATION, changed)


def test_an_answer_without_a_required_header_fails_every_time_it_is_checked() -> None:
    spec = OperationSpec(OPERATION)
    error = MockError(errors.AUTH_HEADER_MISSING)
    good = render_error(error)
    bad = Rendered(good.status, (), good.document, good.body)  # no WWW-Authenticate
    for _ in range(2):  # the second check reads the kept verdict
        assert spec.conforms(good) is None
        assert spec.conforms(bad) == "required headers missing: ['www-authenticate']"
