"""The Prefer grammar: what each value forces, and a refusal naming the problem for the rest."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from tests.support.specs import response_validator
from zitadel_mock.control.outcomes import (
    DEFAULT_ROWS,
    FORCIBLE,
    Fault,
    Outcome,
    OutcomeError,
    outcome_of,
    parse_prefer,
)
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import HTTP_STATUS, Code, MockError, status_body


def prefer(value: str) -> Outcome:
    outcome = parse_prefer([value])
    assert outcome is not None
    return outcome


def refusal(value: str) -> str:
    with pytest.raises(MockError) as caught:
        parse_prefer([value])
    assert caught.value.row is errors.BAD_PREFER
    assert (caught.value.http_status, int(caught.value.code)) == (400, 3)
    return caught.value.message


@pytest.mark.parametrize(
    ("value", "row"),
    [
        ("code=400", errors.APP_NOT_OIDC),
        ("code=401", errors.TOKEN_INVALID),
        ("code=403", errors.NO_PERMISSION),
        ("code=404", errors.APP_NOT_FOUND),
        ("code=405", errors.METHOD_NOT_ALLOWED),
        ("code=503", errors.UNAVAILABLE),
        ("error=AUTH-Bs7Ds", errors.ORG_NOT_FOUND),
        ("error=auth-bs7ds", errors.ORG_NOT_FOUND),
        ("error=membership_not_found", errors.MEMBERSHIP_NOT_FOUND),
        ("error=AUTH-3jknH, code=403", errors.NO_PROJECT_PERMISSION),
        ('error="COMMAND-Ghrh3"', errors.APP_NOT_OIDC),
    ],
)
def test_code_and_error_pick_a_row(value: str, row: errors.Row) -> None:
    assert prefer(value).row is row


def test_prisms_two_preferences_together() -> None:
    outcome = prefer("code=403, delay=1500")
    assert (outcome.row, outcome.delay, outcome.fault) == (errors.NO_PERMISSION, (1500, 1500), None)


def test_several_prefer_headers_are_read_together() -> None:
    outcome = parse_prefer(["code=404", "delay=10"])
    assert outcome is not None
    assert (outcome.row, outcome.delay) == (errors.APP_NOT_FOUND, (10, 10))


@pytest.mark.parametrize("fault", list(Fault))
def test_each_fault_is_a_preference(fault: Fault) -> None:
    assert prefer(f"fault={fault}").fault is fault


def test_a_delay_range_draws_within_its_bounds() -> None:
    outcome = prefer("delay=100-500")
    draws = {outcome.draw_delay_ms(random.Random(seed)) for seed in range(50)}
    assert min(draws) >= 100
    assert max(draws) <= 500
    assert len(draws) > 1


@pytest.mark.parametrize("value", ["", "  ", "return=minimal", "respond-async, wait=10"])
def test_no_preference_of_the_mock_forces_nothing(value: str) -> None:
    assert parse_prefer([value]) is None


def test_code_200_answers_as_usual() -> None:
    outcome = prefer("code=200")
    assert (outcome.row, outcome.fault, outcome.forced_error()) == (None, None, None)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("cod=404", "unknown preference 'cod'"),
        ("example=ok", "unknown preference 'example'"),
        ("code=418", "code=418 is not a status this call answers"),
        ("code=abc", "code=abc is not a number (an HTTP status, as in code=404)"),
        ("code", "code needs a value"),
        ("error=NOPE-1", "error=NOPE-1 names no row"),
        ("error=bad_prefer", "error=bad_prefer names no row"),
        ("error=AUTH-Bs7Ds, code=404", "error=AUTH-Bs7Ds answers 403, not code=404"),
        ("fault=boom", "unknown fault 'boom'"),
        ("fault=close, code=404", "fault=close cannot be combined with code or error"),
        ("delay=fast", "delay=fast is not milliseconds"),
        ("delay=-5", "delay=-5 is not milliseconds"),
        ("delay=500-100", "the range must run from low to high"),
        ("delay=60001", "delay=60001 is longer than 60000 ms"),
        ("code=404, code=403", "code is given twice"),
        ("code=404," + "x" * 1000, "longer than 1000 characters"),
    ],
)
def test_a_malformed_prefer_is_refused_naming_the_problem(value: str, named: str) -> None:
    message = refusal(value)
    assert message.startswith("invalid Prefer header: ")
    assert named in message


def test_the_spec_of_an_outcome_reads_back_as_the_same_outcome() -> None:
    for value in (
        "code=404, delay=100-500",
        "fault=stall, delay=7",
        "error=AUTH-toLo1",
        "code=200",
    ):
        outcome = prefer(value)
        assert prefer(outcome.spec) == outcome


@pytest.mark.parametrize(("status", "row"), DEFAULT_ROWS.items(), ids=str)
def test_a_forced_code_answers_its_status_with_the_code_grpc_gateway_maps_to_it(
    status: int, row: errors.Row
) -> None:
    assert row.status == status
    if status != 405:
        assert HTTP_STATUS[row.code] == status


def test_codes_beyond_zitadels_table_answer_the_matching_grpc_status() -> None:
    error = prefer("code=503").forced_error()
    assert error is not None
    assert status_body(error) == {
        "code": Code.UNAVAILABLE,
        "message": "the service is currently unavailable",
    }


@pytest.mark.parametrize("row", FORCIBLE, ids=lambda row: row.name)
def test_every_forcible_row_renders_a_body_the_spec_accepts(row: errors.Row) -> None:
    error = prefer(f"error={row.name}").forced_error()
    assert error is not None
    assert "{" not in error.message  # templates are filled
    response_validator(row.status).validate(status_body(error))


def test_admin_outcomes_use_the_same_words_without_the_header() -> None:
    assert outcome_of({"code": "404", "delay": "5"}) == prefer("code=404, delay=5")
    with pytest.raises(OutcomeError, match="give at least one of code, error, delay, fault"):
        outcome_of({})
    with pytest.raises(OutcomeError, match="unknown field 'colour'"):
        outcome_of({"colour": "red"})


def test_the_frontend_guides_table_of_forced_codes_says_what_the_mock_answers() -> None:
    guide = (Path(__file__).resolve().parents[3] / "docs" / "frontend.md").read_text()
    rows = re.findall(r"^\| `code=(\d+)` \| (\d+), code (\d+)[^,]*, `([^`]+)`", guide, re.M)
    assert len(rows) == len(DEFAULT_ROWS)
    for code, http, grpc, message in rows:
        error = prefer(f"code={code}").forced_error()
        assert error is not None
        assert (http, int(grpc), message) == (code, int(error.code), error.message)
