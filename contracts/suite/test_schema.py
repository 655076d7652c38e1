"""openapi.yaml's promises, checked with schemathesis cases aimed at the given app (REST only)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from schemathesis import Case, GenerationMode

from zitadel_contract import schema
from zitadel_contract.session import Session


@pytest.fixture
def rest(zitadel_contract: Session) -> Session:
    if zitadel_contract.settings.transport != "rest":
        pytest.skip("openapi.yaml describes the REST surface; schema cases run over rest only")
    return zitadel_contract


def test_coverage_cases_keep_the_schema(rest: Session) -> None:
    """schemathesis' deterministic cases: boundaries, wrong types, other methods, no token."""
    for case in schema.coverage_cases():
        schema.aim(case, rest, add_token=False)
        schema.run_case(case, rest)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_cases_keep_the_schema(rest: Session, mode: GenerationMode) -> None:
    """Hypothesis-generated valid (positive) and invalid (negative) requests."""

    @rest.hypothesis()
    @given(case=schema.operation().as_strategy(generation_mode=mode))
    def check(case: Case[Any]) -> None:
        schema.aim(case, rest, add_token=True)
        schema.run_case(case, rest)

    check()
