"""The command line: a bad fixture file is refused at start; fixtures and seeds take effect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, start_server


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zitadel_mock", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_a_bad_fixture_file_naming_line_and_problem(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text('orgs:\n  - {id: "1", name: a}\nprojects:\n  - {id: "2", name: p, org: "9"}\n')
    result = run_cli("serve", "--port", "0", "--fixtures", str(path))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"zitadel-mock: {path}:4: project org '9' is not an org of this document"
    )


def test_check_fixtures_accepts_a_good_file_and_counts_it() -> None:
    result = run_cli("check-fixtures", str(ROOT / "mockserver" / "fixtures" / "demo-fixtures.yaml"))
    assert result.returncode == 0
    assert "ok (2 orgs, 3 projects, 5 apps, 6 tokens)" in result.stdout


def test_check_fixtures_refuses_a_missing_file(tmp_path: Path) -> None:
    result = run_cli("check-fixtures", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert "cannot read the file" in result.stderr


@pytest.mark.parametrize("args", [[], ["serve", "--port", "x"], ["nonsense"]])
def test_bad_usage_exits_with_2(args: list[str]) -> None:
    assert run_cli(*args).returncode == 2


def test_serve_uses_the_given_fixture_file(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(
        'orgs: [{id: "1", name: o}]\nprojects: [{id: "2", name: p, org: "1", sequence: 41}]\n'
        'apps: [{id: "3", name: a, project: "2", type: oidc}]\n'
        'tokens: [{token: mine, user: "4", org: "1",'
        ' memberships: [{scope: org, id: "1", roles: [ORG_OWNER]}]}]\n'
    )
    live = start_server("--fixtures", str(path))
    try:
        response = live.rotate("2", "3", token="mine")
        assert response.json()["details"]["sequence"] == "42"
        assert live.rotate(token="admin-pat").status_code == 401  # the demo tokens are gone
    finally:
        live.stop()


def test_same_seed_gives_the_same_secrets_and_times() -> None:
    bodies = []
    for _ in range(2):
        live = start_server("--seed", "11")
        try:
            bodies.append([live.rotate().json() for _ in range(3)])
        finally:
            live.stop()
    assert bodies[0] == bodies[1]
    assert bodies[0][0]["details"]["changeDate"] == "2025-01-01T00:00:00.001000Z"
