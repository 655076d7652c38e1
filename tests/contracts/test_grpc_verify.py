"""`zitadel-mock verify --transport grpc|grpc-web` and the plugin's variable, end to end: the
behavioural checks run, and the REST-only ones are skipped and say so. (That no secret shows
over grpc either: test_contract_verify.py.)"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import ACME, PORTAL, WEB, start_server
from tests.contracts.test_verify import CONSOLE_SCRIPT, VERIFY, run

BEHAVIOURAL = {
    "test_rotations_keep_their_promises_whatever_extra_body_fields_say",
    "test_previous_secret_stops_working_and_new_one_works",
    "test_unknown_project_or_app_gives_not_found",
    "test_missing_malformed_or_unknown_token_gives_unauthenticated",
    "test_token_without_permission_gives_permission_denied",
    "test_unknown_org_gives_permission_denied",
    "test_id_over_200_characters_gives_invalid_argument",
}
REST_ONLY = {
    "test_body_that_is_not_a_json_object_gives_invalid_argument",
    *(
        f"test_another_http_method_gives_method_not_allowed[{m}]"
        for m in ["GET", "PUT", "PATCH", "DELETE"]
    ),
    "test_unknown_path_gives_not_found",
    "test_coverage_cases_keep_the_schema",
    "test_generated_cases_keep_the_schema[positive]",
    "test_generated_cases_keep_the_schema[negative]",
}


def outcomes(junit: Path) -> tuple[set[str], set[str], set[str]]:
    """The names of the passed, skipped and failed tests of a JUnit report."""
    passed, skipped, failed = set(), set(), set()
    for case in ET.parse(junit).iter("testcase"):
        name = case.get("name", "")
        if case.find("skipped") is not None:
            skipped.add(name)
        elif case.find("failure") is not None or case.find("error") is not None:
            failed.add(name)
        else:
            passed.add(name)
    return passed, skipped, failed


def transport_property(junit: Path) -> str | None:
    for prop in ET.parse(junit).iter("property"):
        if prop.get("name") == "zitadel_contract_transport":
            return prop.get("value")
    return None


def test_verify_over_grpc_runs_the_behavioural_checks_and_skips_the_rest_only_ones(
    tmp_path: Path,
) -> None:
    live = start_server()
    junit = tmp_path / "contract.xml"
    target = {  # this time from the environment, as a CI job would set it
        "ZITADEL_CONTRACT_TOKEN": "admin-pat",
        "ZITADEL_CONTRACT_ORG_ID": ACME,
        "ZITADEL_CONTRACT_PROJECT_ID": PORTAL,
        "ZITADEL_CONTRACT_APP_ID": WEB,
        "ZITADEL_CONTRACT_CLIENT_ID": f"{WEB}@portal",
        "ZITADEL_CONTRACT_NO_PERMISSION_TOKEN": "acme-viewer-pat",
    }
    command = [str(CONSOLE_SCRIPT), "verify", live.url, "--transport", "grpc"]
    try:
        result = run([*command, "--examples", "5", "--seed", "7", "--junit", str(junit)], target)
    finally:
        live.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert outcomes(junit) == (BEHAVIOURAL, REST_ONLY, set())
    assert transport_property(junit) == "grpc"
    assert f"on {live.url} over grpc" in result.stdout
    assert "admin-pat" not in junit.read_text() + result.stdout + result.stderr


def test_the_plugin_takes_grpc_web_from_its_variable_and_checks_a_mock_of_its_own(
    tmp_path: Path,
) -> None:
    junit = tmp_path / "contract.xml"
    result = run(
        [sys.executable, "-m", "pytest", "--pyargs", "zitadel_contract.suite", "-q"],
        env={
            "ZITADEL_CONTRACT_TRANSPORT": "grpc-web",
            "ZITADEL_CONTRACT_EXAMPLES": "3",
            "ZITADEL_CONTRACT_SEED": "8",
            "ZITADEL_CONTRACT_JUNIT": str(junit),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "over grpc-web" in result.stdout
    assert transport_property(junit) == "grpc-web"
    assert outcomes(junit)[0] == BEHAVIOURAL


def test_verify_refuses_a_transport_it_does_not_know() -> None:
    result = run([*VERIFY, "--transport", "carrier-pigeon", "--examples", "1"])
    assert result.returncode == 2  # a usage error, before anything is sent
    assert "unknown transport 'carrier-pigeon'" in result.stdout
    assert "grpc-web" in result.stdout  # the known ones are listed
