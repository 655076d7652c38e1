"""The schema's promises, checked with schemathesis cases aimed at the given app: openapi.yaml
over ``rest`` (v1), openapi-connect.yaml over ``connect`` (v2, v2beta)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from schemathesis import Case, GenerationMode

from zitadel_contract import schema
from zitadel_contract.session import Session


@pytest.fixture
def rest(zitadel_contract: Session) -> Session:
    settings = zitadel_contract.settings
    if settings.transport not in ("rest", "connect"):
        pytest.skip(
            "openapi.yaml describes the REST surface, openapi-connect.yaml the Connect JSON "
            "surface; schema cases run over rest (v1) or connect (v2, v2beta) only"
        )
    return zitadel_contract


def test_coverage_cases_keep_the_schema(rest: Session) -> None:
    """schemathesis' deterministic cases: boundaries, wrong types, other methods, no token."""
    for case in schema.coverage_cases(rest.settings.api):
        schema.aim(case, rest, add_token=False)
        schema.run_case(case, rest)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_cases_keep_the_schema(rest: Session, mode: GenerationMode) -> None:
    """Hypothesis-generated valid (positive) and invalid (negative) requests."""

    @rest.hypothesis()
    @given(case=schema.operation(rest.settings.api).as_strategy(generation_mode=mode))
    def check(case: Case[Any]) -> None:
        schema.aim(case, rest, add_token=True)
        schema.run_case(case, rest)

    check()
