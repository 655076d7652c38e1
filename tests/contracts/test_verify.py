"""`zitadel-mock verify` and the pytest plugin, end to end, as CI and operators run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.types import ASGIApp

from tests.conftest import ACME, PORTAL, ROOT, WEB, start_server
from tests.support import broken_grpc as grpc_broken
from tests.support import broken_servers as broken

VERIFY = [sys.executable, "-m", "zitadel_mock", "verify"]
CONSOLE_SCRIPT = Path(sys.executable).with_name("zitadel-mock")


def run(
    command: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_verify_passes_against_a_separately_started_mock_and_writes_junit(tmp_path: Path) -> None:
    live = start_server()
    junit = tmp_path / "contract.xml"
    try:
        result = run(
            [
                str(CONSOLE_SCRIPT),
                "verify",
                live.url,
                "--token",
                "admin-pat",
                "--org-id",
                ACME,
                "--project-id",
                PORTAL,
                "--app-id",
                WEB,
                "--client-id",
                f"{WEB}@portal",
                "--no-permission-token",
                "acme-viewer-pat",
                "--examples",
                "5",
                "--seed",
                "7",
                "--junit",
                str(junit),
            ]
        )
    finally:
        live.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("0", "0", "0")
    assert "admin-pat" not in junit.read_text() + result.stdout + result.stderr
    announced = f"will rotate the client secret of app {WEB} (project {PORTAL}, org {ACME})"
    assert f"{announced} at {live.url}" in result.stdout


def test_verify_without_a_target_starts_and_checks_a_mock_of_its_own(tmp_path: Path) -> None:
    result = run([*VERIFY, "--examples", "3", "--seed", "11"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "on a mock started by the suite at http://127.0.0.1:" in result.stdout


def test_verify_leaves_nothing_behind_in_the_working_directory(tmp_path: Path) -> None:
    run([*VERIFY, "--examples", "2", "--seed", "12", "-k", "unknown_org"], cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_plugin_runs_the_suite_inside_a_projects_own_pytest_settings() -> None:
    """Here: this repository's strict settings (warnings are errors, strict markers)."""
    result = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "zitadel_contract.suite",
            "-q",
            "--zitadel-examples",
            "2",
            "--zitadel-seed",
            "3",
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the contract holds" in result.stdout


def test_verify_refuses_a_remote_target_without_the_acknowledgement() -> None:
    result = run(
        [*VERIFY, "https://zitadel.example.invalid", "--project-id", "1", "--app-id", "2"],
        env={"ZITADEL_CONTRACT_TOKEN": "t0ken-value"},
    )
    assert result.returncode == 2
    assert "--i-know-this-rotates-the-secret" in result.stderr


def test_the_plugin_refuses_a_remote_target_before_any_call() -> None:
    result = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "zitadel_contract.suite",
            "-q",
            "--zitadel-url",
            "https://zitadel.example.invalid",
            "--zitadel-token",
            "t0ken",
            "--zitadel-project-id",
            "1",
            "--zitadel-app-id",
            "2",
        ]
    )
    assert result.returncode == 2  # the contract's code for a refusal, as from verify
    assert "refusing to verify https://zitadel.example.invalid" in result.stdout


def spied_rest(app: ASGIApp) -> tuple[ASGIApp, set[str]]:
    """Successes that break the schema: schemathesis' failures quote the response bodies."""
    spy = broken.Spy(broken.SequenceAsNumber(app))
    return spy, spy.secrets


def spied_grpc(app: ASGIApp) -> tuple[ASGIApp, set[str]]:
    """gRPC successes of the wrong shape or cut short: failures are about secrets."""
    spy = grpc_broken.Spy(app)
    return grpc_broken.MangledSuccesses(spy), spy.secrets


@pytest.mark.parametrize(
    ("transport", "spied", "evidence"),
    [
        ("rest", spied_rest, '"clientSecret": "<redacted'),  # bodies quoted, and redacted
        ("grpc", spied_grpc, "[secret_has_configured_shape]"),
    ],
)
def test_no_secret_the_run_received_appears_in_the_junit_or_the_output(
    tmp_path: Path,
    transport: str,
    spied: Callable[[ASGIApp], tuple[ASGIApp, set[str]]],
    evidence: str,
) -> None:
    """Not the secrets, nor 16 characters of one, nor the tokens: in the JUnit, the JSON report
    and the output."""
    received: list[set[str]] = []

    def wrap(app: ASGIApp, _token: str, _viewer: str) -> ASGIApp:
        outer, secrets = spied(app)
        received.append(secrets)
        return outer

    junit, json_report = tmp_path / "contract.xml", tmp_path / "contract.json"
    with broken.serve(wrap) as deployment:
        result = run(
            [
                *VERIFY,
                *deployment.verify_arguments(),
                *("--transport", transport, "--examples", "3", "--seed", "5"),
                *("--junit", str(junit), "--json-report", str(json_report)),
            ],
            env=deployment.verify_environment(),
        )
    failures = "\n".join(f.text or "" for f in ET.parse(junit).iter("failure"))
    reports = "\n".join(
        [junit.read_text(), failures, json_report.read_text(), result.stdout, result.stderr]
    )
    assert result.returncode == 1, reports
    assert json.loads(json_report.read_text())["causes"], reports
    assert len(received[0]) > 10
    assert evidence in reports
    pieces = {secret[i : i + 16] for secret in received[0] for i in range(len(secret) - 15)}
    tokens = {deployment.token, deployment.viewer_token}
    assert [piece for piece in pieces | tokens if piece in reports] == []
