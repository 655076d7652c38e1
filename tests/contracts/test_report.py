"""Failures as a developer acts on them: root causes, the most basic first, in every report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import broken_servers as broken
from zitadel_contract import report


@dataclass(frozen=True)
class Seen:
    check: str
    message: str = "it broke"
    reproduce: str = ""
    test: str = "t"


def test_a_body_of_the_wrong_shape_comes_before_what_depends_on_it() -> None:
    found = report.causes([Seen("rotation_succeeds"), Seen("success_body_is_protojson")])
    assert [c.check for c in found] == ["success_body_is_protojson"]
    assert found[0].implies == (("rotation_succeeds", 1),)


def test_consequences_follow_their_cause_through_another_consequence() -> None:
    seen = [Seen("extra_body_fields_ignored"), Seen("rotation_succeeds")] * 2
    found = report.causes([*seen, Seen("success_is_response_message")])
    assert [c.check for c in found] == ["success_is_response_message"]
    assert dict(found[0].implies) == {"rotation_succeeds": 2, "extra_body_fields_ignored": 2}


def test_a_broken_check_that_depends_on_nothing_broken_is_a_cause_of_its_own() -> None:
    found = report.causes([Seen("secret_is_new"), Seen("bad_token_gives_unauthenticated")])
    assert [c.check for c in found] == ["bad_token_gives_unauthenticated", "secret_is_new"]
    assert all(not c.implies for c in found)


def test_each_cause_keeps_the_first_reproduce_line_any_finding_has() -> None:
    found = report.causes([Seen("secret_is_new"), Seen("secret_is_new", reproduce="curl x")])
    assert (found[0].cases, found[0].reproduce) == (2, "curl x")


def test_the_variables_a_reproduce_line_reads_are_named_with_how_to_set_them() -> None:
    names = report.variables_used(['curl -H "Authorization: Bearer $ZITADEL_CONTRACT_TOKEN"'])
    assert names == ["ZITADEL_CONTRACT_TOKEN"]
    assert report.export_lines(names, suite_mock=False)[0].startswith(
        "export ZITADEL_CONTRACT_TOKEN=..."
    )


@pytest.fixture(scope="module")
def always_a_secret(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """verify against a server that answers 200 {"clientSecret": "x"} to everything."""
    folder = tmp_path_factory.mktemp("report")
    junit, json_report = folder / "contract.xml", folder / "contract.json"
    with broken.serve(lambda app, _t, _v: broken.AlwaysASecret(app)) as deployment:
        result = deployment.verify(
            *("--examples", "3", "--seed", "5", "--junit", str(junit)),
            env={"ZITADEL_CONTRACT_JSON_REPORT": str(json_report)},
        )
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout, junit, json_report


def test_the_summary_names_the_shape_first_and_says_how_to_set_the_token(
    always_a_secret: tuple[str, Path, Path],
) -> None:
    output = always_a_secret[0]
    first = output.index("1. [success_body_is_protojson]")
    assert "likely consequences, fix this first: " in output[first:]
    assert "rotation_succeeds" in output[first:].splitlines()[3]
    assert "export ZITADEL_CONTRACT_TOKEN=..." in output


def test_the_summary_counts_tests_and_cases_and_shows_progress(
    always_a_secret: tuple[str, Path, Path],
) -> None:
    output = always_a_secret[0]
    assert "tests: 0 passed, 16 failed, 0 skipped, 0 deselected; cases run: " in output
    assert "zitadel contract: 16/16 tests done, " in output
    assert " cases/s" in output


def test_the_json_report_lists_the_causes_most_basic_first(
    always_a_secret: tuple[str, Path, Path],
) -> None:
    document = json.loads(always_a_secret[2].read_text())
    assert (document["exit_code"], document["counts"]["failed"]) == (1, 16)
    first = document["causes"][0]
    assert first["check"] == "success_body_is_protojson"
    assert "rotation_succeeds" in {item["check"] for item in first["implies"]}
    assert "ZITADEL_CONTRACT_TOKEN" in document["variables"]


def test_the_junit_report_carries_the_same_causes_in_the_same_order(
    always_a_secret: tuple[str, Path, Path],
) -> None:
    properties = {
        p.get("name"): p.get("value") for p in ET.parse(always_a_secret[1]).iter("property")
    }
    document = json.loads(always_a_secret[2].read_text())
    for number, cause in enumerate(document["causes"], 1):
        assert (properties[f"zitadel_contract_cause_{number}"] or "").startswith(cause["check"])
    assert properties["zitadel_contract_exit_code"] == "1"
