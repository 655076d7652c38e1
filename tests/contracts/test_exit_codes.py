"""Each exit code of a contract run, from ``zitadel-mock verify`` and from the plugin alike.

0 holds, 1 broken promises, 2 usage or safety refusal, 3 target unreachable, 4 credentials or
app wrong, 5 nothing ran (zitadel_contract.preflight.EXIT_CODES). Codes 0, 1 and 2 are also shown
by test_verify.py and test_teeth.py; here every target is a real socket: a closed port, a name
that does not resolve, TLS against a plain-HTTP port, the mock with wrong settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ACME, PORTAL, WEB, LiveServer, free_port, start_server
from tests.contracts.test_verify import VERIFY, run

PLUGIN = [sys.executable, "-m", "pytest", "--pyargs", "zitadel_contract.suite", "-q"]


@pytest.fixture(scope="module")
def mock() -> Iterator[LiveServer]:
    live = start_server()
    yield live
    live.stop()


def target(url: str, *extra: str) -> list[str]:
    return [url, "--org-id", ACME, "--project-id", PORTAL, "--app-id", WEB, *extra]


def assert_one_line_stop(output: str, code: int, fragment: str) -> None:
    assert fragment in output, output
    assert f"exit code {code}" in output, output
    assert "Traceback" not in output, output
    assert len(output.splitlines()) < 15, output


def test_a_closed_port_is_exit_3_in_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run([*VERIFY, *target(url)], env={"ZITADEL_CONTRACT_TOKEN": "admin-pat"})
    assert result.returncode == 3, result.stdout + result.stderr
    assert_one_line_stop(result.stdout + result.stderr, 3, "connection refused")


def test_the_json_report_of_a_stopped_run_names_the_stop(tmp_path: Path) -> None:
    url, path = f"http://127.0.0.1:{free_port()}", tmp_path / "contract.json"
    run(
        [*VERIFY, *target(url), "--json-report", str(path)],
        env={"ZITADEL_CONTRACT_TOKEN": "admin-pat"},
    )
    document = json.loads(path.read_text())
    assert document["exit_code"] == 3
    assert "connection refused" in document["stopped"]
    assert document["counts"]["cases"] == 0


def test_the_plugin_gives_the_same_exit_3_for_a_closed_port() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    words = ["--zitadel-url", url, "--zitadel-token", "admin-pat"]
    words += ["--zitadel-org-id", ACME, "--zitadel-project-id", PORTAL, "--zitadel-app-id", WEB]
    result = run([*PLUGIN, *words])
    assert result.returncode == 3, result.stdout + result.stderr
    assert_one_line_stop(result.stdout + result.stderr, 3, "connection refused")


def test_a_host_that_does_not_resolve_is_exit_3() -> None:
    result = run(
        [*VERIFY, *target("http://zitadel-contract.invalid:8080", "--no-rotate")],
        env={"ZITADEL_CONTRACT_TOKEN": "admin-pat"},
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert_one_line_stop(result.stdout + result.stderr, 3, "does not resolve (DNS")


def test_tls_against_a_plain_http_port_is_exit_3(mock: LiveServer) -> None:
    url = mock.url.replace("http://", "https://")
    result = run([*VERIFY, *target(url)], env={"ZITADEL_CONTRACT_TOKEN": "admin-pat"})
    assert result.returncode == 3, result.stdout + result.stderr
    assert_one_line_stop(result.stdout + result.stderr, 3, "TLS handshake")


def test_a_token_the_mock_refuses_is_exit_4(mock: LiveServer) -> None:
    result = run([*VERIFY, *target(mock.url)], env={"ZITADEL_CONTRACT_TOKEN": "not-a-known-pat"})
    assert result.returncode == 4, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert_one_line_stop(output, 4, "refuses the token")
    assert "not-a-known-pat" not in output


def test_a_token_the_mock_refuses_over_grpc_is_exit_4_too(mock: LiveServer) -> None:
    result = run(
        [*VERIFY, *target(mock.url, "--transport", "grpc")],
        env={"ZITADEL_CONTRACT_TOKEN": "not-a-known-pat"},
    )
    assert result.returncode == 4, result.stdout + result.stderr
    assert_one_line_stop(result.stdout + result.stderr, 4, "refuses the token")


def test_an_app_the_mock_does_not_have_is_exit_4(mock: LiveServer) -> None:
    words = [mock.url, "--org-id", ACME, "--project-id", PORTAL, "--app-id", "319487671630849999"]
    result = run([*VERIFY, *words], env={"ZITADEL_CONTRACT_TOKEN": "admin-pat"})
    assert result.returncode == 4, result.stdout + result.stderr
    assert_one_line_stop(result.stdout + result.stderr, 4, "ZITADEL_CONTRACT_APP_ID")


def test_a_client_id_of_another_app_is_exit_4(mock: LiveServer) -> None:
    result = run(
        [*VERIFY, *target(mock.url, "--client-id", "someone-else@portal")],
        env={"ZITADEL_CONTRACT_TOKEN": "admin-pat"},
    )
    assert result.returncode == 4, result.stdout + result.stderr
    assert_one_line_stop(result.stdout + result.stderr, 4, "ZITADEL_CONTRACT_CLIENT_ID")


def test_a_target_that_stops_answering_mid_run_is_exit_3_in_one_line() -> None:
    live = start_server()
    command = [*VERIFY, *target(live.url), "--examples", "100"]
    env = {**os.environ, "ZITADEL_CONTRACT_TOKEN": "admin-pat", "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "1/16 tests done" in line:
                live.stop()  # the mock goes away after the first test
        process.wait(300)
    live.stop()
    output = "".join(lines)
    assert process.returncode == 3, output
    assert "stopped answering" in output
    assert "Traceback" not in output
    assert len(output.splitlines()) < 60, output


def test_deselecting_every_test_is_exit_5_and_never_holds() -> None:
    result = run([*VERIFY, "-k", "nothing_matches"])
    output = result.stdout + result.stderr
    assert result.returncode == 5, output
    assert "16 deselected" in output
    assert "nothing was checked" in output
    assert "holds" not in output


def test_a_test_that_only_takes_the_fixture_is_exit_5_and_never_holds(tmp_path: Path) -> None:
    (tmp_path / "test_only_fixture.py").write_text(
        "def test_takes_the_fixture(zitadel_contract):\n    assert zitadel_contract\n"
    )
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 5, output
    assert "cases run: 0" in output
    assert "the contract holds" not in output
