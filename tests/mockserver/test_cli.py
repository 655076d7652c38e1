"""The command line: a bad fixture file is refused at start; fixtures and seeds take effect."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PORTAL, ROOT, WEB, LiveServer, rotate_path, start_server
from zitadel_mock.cli import (
    EXIT_FAILURE,
    EXIT_LISTEN,
    EXIT_OK,
    EXIT_USAGE,
    env_name,
    parsers,
    serve_options,
)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zitadel_mock", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
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
    assert bodies[0][0]["details"]["changeDate"] == "2025-01-01T00:00:00.001Z"  # protojson


# -- a CLI like Prism's and schemathesis's -------------------------------------------------


def serve_until_listening(*args: str, env: dict[str, str] | None = None) -> tuple[Any, int]:
    """``serve`` with ``args``; returns the process and the port its first line names."""
    process = subprocess.Popen(
        [sys.executable, "-m", "zitadel_mock", "serve", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stderr is not None
    first = process.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
    if match is None:
        process.kill()
        process.wait()
        pytest.fail(f"no address in {first!r}")
    return process, int(match[1])


def stop(process: Any) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    return process.returncode, err


def seed_of(live: LiveServer) -> int | None:
    seed: int | None = live.client.get("/__mock/state").json()["seed"]
    return seed


def test_version_prints_the_package_version_and_exits_0() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"zitadel-mock {version('zitadel-secret-mock')}"


@pytest.mark.parametrize("port", ["84543", "-1", "65536", "http"])
def test_a_port_outside_0_to_65535_is_refused_with_2(port: str) -> None:
    result = run_cli("serve", "--port", port)
    assert result.returncode == 2
    assert "argument --port:" in result.stderr


def test_port_0_listens_on_a_free_port_and_prints_it() -> None:
    process, port = serve_until_listening("--port", "0", "--log-level", "warning")
    try:
        assert port != 0
        assert httpx.get(f"http://127.0.0.1:{port}/__mock/state", timeout=10).status_code == 200
    finally:
        stop(process)


def test_sigterm_stops_the_server_with_0() -> None:
    process, _ = serve_until_listening("--port", "0", "--log-level", "warning")
    code, _ = stop(process)
    assert code == 0


def test_a_port_in_use_exits_with_3() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    assert result.returncode == 3
    assert result.stderr.startswith(f"zitadel-mock: cannot listen on 127.0.0.1:{port}: ")


def test_an_environment_variable_sets_an_option() -> None:
    live = start_server(env={"ZITADEL_MOCK_SEED": "11"})
    try:
        assert seed_of(live) == 11
    finally:
        live.stop()


def test_a_switch_from_the_environment_takes_1() -> None:
    result = run_cli("serve", "--port", "0", env={"ZITADEL_MOCK_WATCH": "1"})
    assert result.returncode == 2
    assert "--watch needs --fixtures FILE" in result.stderr


def test_a_bad_environment_value_names_the_variable_and_exits_2() -> None:
    result = run_cli("serve", env={"ZITADEL_MOCK_PORT": "84543"})
    assert result.returncode == 2
    assert result.stderr.startswith("zitadel-mock: ZITADEL_MOCK_PORT=84543: 84543 is not a port")


def test_a_config_file_sets_options_with_paths_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "few.yaml").write_text(
        'orgs: [{id: "1", name: o}]\nprojects: [{id: "2", name: p, org: "1"}]\n'
    )
    config = tmp_path / "mock.toml"
    config.write_text('seed = 13\nfixtures = "few.yaml"\ncors-origin = ["http://app.test"]\n')
    live = start_server("--config", str(config))
    try:
        body = live.client.get("/__mock/state").json()
        assert (body["seed"], [o["id"] for o in body["orgs"]]) == (13, ["1"])
    finally:
        live.stop()


def test_the_environment_beats_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text("seed = 13\n")
    live = start_server("--config", str(config), env={"ZITADEL_MOCK_SEED": "11"})
    try:
        assert seed_of(live) == 11
    finally:
        live.stop()


def test_a_flag_beats_the_environment(tmp_path: Path) -> None:
    live = start_server("--seed", "12", env={"ZITADEL_MOCK_SEED": "11"})
    try:
        assert seed_of(live) == 12
    finally:
        live.stop()


def test_the_config_file_can_come_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text("seed = 14\n")
    live = start_server(env={"ZITADEL_MOCK_CONFIG": str(config)})
    try:
        assert seed_of(live) == 14
    finally:
        live.stop()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("colour = 1\n", "unknown key 'colour'"),
        ('port = "x"\n', "port: 'x' is not a port number"),
        ("watch = 1\n", "watch: use true or false"),
        ("seed = \n", "not TOML"),
        ('log-level = "loud"\n', "log-level: 'loud' is not one of debug, info, warning, error"),
    ],
)
def test_a_bad_config_file_names_the_problem_and_exits_2(
    tmp_path: Path, text: str, problem: str
) -> None:
    config = tmp_path / "mock.toml"
    config.write_text(text)
    result = run_cli("serve", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.startswith(f"zitadel-mock: {config}: ")
    assert problem in result.stderr


def test_json_logs_carry_request_id_status_and_duration_and_no_secret() -> None:
    process, port = serve_until_listening("--port", "0", "--log-format", "json")
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{port}{rotate_path(PORTAL, WEB)}?token=in-the-query",
            json={},
            headers={"Authorization": "Bearer admin-pat", "X-Request-Id": "req-42"},
            timeout=10,
        )
        secret = answer.json()["clientSecret"]
    finally:
        _, err = stop(process)
    lines = [json.loads(line) for line in err.splitlines()]  # every line is JSON
    access = [line for line in lines if line["logger"] == "zitadel_mock.access"]
    assert [(a["request_id"], a["status"], a["method"]) for a in access] == [
        ("req-42", 200, "POST")
    ]
    assert access[0]["duration_ms"] >= 0
    for hidden in (secret, "admin-pat", "in-the-query"):
        assert hidden not in err


def test_text_access_lines_carry_the_same_fields() -> None:
    process, port = serve_until_listening("--port", "0")
    try:
        httpx.get(f"http://127.0.0.1:{port}/__mock/state", headers={"X-Request-Id": "r7"})
    finally:
        _, err = stop(process)
    assert re.search(r"zitadel_mock\.access: GET /__mock/state 200 [\d.]+ms request_id=r7", err)


def test_no_access_log_writes_no_access_line() -> None:
    process, port = serve_until_listening("--port", "0", "--no-access-log")
    try:
        httpx.get(f"http://127.0.0.1:{port}/__mock/state")
    finally:
        _, err = stop(process)
    assert "zitadel_mock.access" not in err


def all_options() -> list[argparse.Action]:
    parser, _ = parsers()
    actions = list(parser._actions)
    for sub in parser._subparsers._group_actions[0].choices.values():  # type: ignore[union-attr]
        actions.extend(sub._actions)
    return [a for a in actions if not isinstance(a, argparse._SubParsersAction)]


def test_every_flag_has_help_text() -> None:
    assert [a.dest for a in all_options() if not a.help] == []


def test_every_serve_option_is_in_the_cli_guide_with_its_variable() -> None:
    guide = (ROOT / "docs" / "cli.md").read_text()
    _, serve_parser = parsers()
    for action in serve_options(serve_parser):
        assert f"`{action.option_strings[-1]}`" in guide
        assert f"`{env_name(action)}`" in guide


def test_the_exit_codes_in_the_cli_guide_are_the_clis() -> None:
    guide = (ROOT / "docs" / "cli.md").read_text()
    for code in (EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_LISTEN):
        assert re.search(rf"^\| {code} \|", guide, re.MULTILINE), code
