"""The fast lane answers exactly as the connexion lane does (a differential test), and only
for what it takes; the comparison itself is shown to catch a lane that differs."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import PORTAL, WEB, fuzz_examples, rotate_path
from tests.support.lanes import Lanes, Request, requests, write_fixtures
from zitadel_mock.app import Settings, build_app
from zitadel_mock.operations.service import Regenerated
from zitadel_mock.protocols import rest_operation
from zitadel_mock.protocols.gateway import Rendered, render_success
from zitadel_mock.protocols.rest_operation import CompiledOperation, SpecNotSupportedError

EXAMPLES = fuzz_examples(400)
ROTATE = rotate_path(PORTAL, WEB)
JSON = (b"content-type", b"application/json")
ADMIN = (b"authorization", b"Bearer admin-pat")


@pytest.fixture
def lanes(tmp_path: Path) -> Iterator[Lanes]:
    pair = Lanes(write_fixtures(tmp_path))
    yield pair
    pair.close()


def same_answers(lanes: Lanes, request: Request) -> int:
    """Both lanes answer alike, and used time and randomness alike (no hidden extra step)."""
    slow, fast = lanes.both(request)
    assert (fast.status, fast.body, fast.headers) == (slow.status, slow.body, slow.headers)
    assert lanes.in_step(), "same answers, but one lane read the clock or drew a secret more"
    return slow.status


def compare_generated(lanes: Lanes, examples: int) -> Counter[int]:
    """Send ``examples`` generated requests to both lanes; the statuses seen, counted."""
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=requests())
    def both_lanes_agree(request: Request) -> None:
        statuses[same_answers(lanes, request)] += 1

    both_lanes_agree()
    return statuses


@pytest.mark.fuzz
def test_both_lanes_give_the_same_status_headers_and_bytes_for_generated_requests(
    lanes: Lanes,
) -> None:
    statuses = compare_generated(lanes, EXAMPLES)
    # Not vacuous: the fast lane itself answered many of them, and with every kind of answer.
    assert lanes.taken >= EXAMPLES // 4, lanes.taken
    assert {200, 400, 401, 403, 404, 405} <= statuses.keys(), statuses


def test_the_fast_lane_answers_a_rotation_itself(lanes: Lanes) -> None:
    same_answers(lanes, Request("POST", ROTATE, (JSON, ADMIN), b"{}"))
    assert lanes.taken == 1


@pytest.mark.parametrize(
    ("method", "target"),
    [("GET", ROTATE), ("PUT", ROTATE), ("POST", ROTATE + "/"), ("POST", "/management/v1/x")],
)
def test_other_methods_and_paths_are_left_to_connexion(
    lanes: Lanes, method: str, target: str
) -> None:
    same_answers(lanes, Request(method, target, (JSON, ADMIN), b"{}"))
    assert lanes.taken == 0


def test_the_comparison_catches_a_lane_that_renders_a_success_differently(
    lanes: Lanes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def without_pragma(result: Regenerated) -> Rendered:
        answer = render_success(result)
        kept = tuple((k, v) for k, v in answer.headers if k != "Pragma")
        return Rendered(answer.status, kept, answer.document, answer.body)

    monkeypatch.setattr(rest_operation, "render_success", without_pragma)
    with pytest.raises(AssertionError):
        compare_generated(lanes, 60)


def test_the_comparison_catches_a_lane_that_skips_the_id_length_check(lanes: Lanes) -> None:
    assert lanes.fast.fast_lane is not None
    operation = lanes.fast.fast_lane.operation
    operation.parameters = tuple(p for p in operation.parameters if p.location != "path")
    with pytest.raises(AssertionError):
        same_answers(lanes, Request("POST", rotate_path(PORTAL, "9" * 201), (ADMIN,), b""))


def test_an_answer_that_breaks_the_spec_is_the_same_500_in_both_lanes(
    lanes: Lanes, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    for app in (lanes.slow, lanes.fast):
        rotate = app.service.rotate

        def nameless_owner(*args: Any, rotate: Callable[..., Regenerated] = rotate) -> Regenerated:
            result = rotate(*args)  # an empty resourceOwner breaks the spec's minLength
            return Regenerated(result.client_secret, result.sequence, result.change_date, "")

        monkeypatch.setattr(app.service, "rotate", nameless_owner)
    with caplog.at_level(logging.ERROR):
        slow, fast = lanes.both(Request("POST", ROTATE, (JSON, ADMIN), b"{}"))
    assert (fast.status, fast.body, fast.headers) == (slow.status, slow.body, slow.headers)
    assert slow.status == 500
    assert b"did not match openapi.yaml" in slow.body
    assert b"clientSecret" not in slow.body
    failures = [r for r in caplog.records if "failed validation" in r.getMessage()]
    assert {r.name for r in failures} == {
        "zitadel_mock.protocols.gateway",
        "zitadel_mock.protocols.rest_operation",
    }


def test_the_switch_leaves_the_fast_lane_out() -> None:
    assert build_app(Settings(fast_lane=False)).fast_lane is None
    assert build_app(Settings()).fast_lane is not None


def test_the_switch_reaches_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in Settings(fast_lane=False).to_env().items():
        monkeypatch.setenv(key, value)
    assert Settings.from_env().fast_lane is False


def test_a_spec_keyword_the_lane_would_check_differently_stops_the_start(tmp_path: Path) -> None:
    spec = (Path(__file__).resolve().parents[3] / "openapi.yaml").read_text()
    changed = tmp_path / "openapi.yaml"
    changed.write_text(
        spec.replace("minLength: 1\n", "minLength: 1\n            nullable: true\n", 1)
    )
    with pytest.raises(SpecNotSupportedError, match="nullable"):
        CompiledOperation(changed)
