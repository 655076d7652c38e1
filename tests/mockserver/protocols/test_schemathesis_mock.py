"""schemathesis, as a CI pipeline runs it, against a running mock: zero failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, LiveServer, fuzz_examples

# Every check schemathesis has, none excluded. Three of them need stateful links between
# operations (use_after_free, ensure_resource_availability, object_level_authorization); with one
# operation and no links they have nothing to look at, and schemathesis reports them as passing.
CHECKS = "all"
CONFIG = Path(__file__).with_name("schemathesis-mock.toml")


@pytest.mark.fuzz
def test_schemathesis_finds_no_failure_in_the_mock(server: LiveServer, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(CONFIG),
            "run",
            str(ROOT / "openapi.yaml"),
            "--url",
            server.url,
            "--header",
            "Authorization: Bearer admin-pat",
            "--checks",
            CHECKS,
            "--max-examples",
            str(fuzz_examples(60)),
            "--seed",
            os.environ.get("ZITADEL_FUZZ_SEED") or "20261127",
            "--generation-database",
            "none",
            "--report",
            "junit",
            "--report-junit-path",
            str(junit),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "No issues found" in result.stdout
    assert junit.exists()
