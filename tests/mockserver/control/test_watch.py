"""Watch mode with a real file and a real server: reload on change, keep the old state on error."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, start_server
from tests.mockserver.test_cli import run_cli
from tests.support.control_helpers import fresh_ns, rotate, state

FIXTURES = """\
orgs: [{{id: "1", name: {org}}}]
projects: [{{id: "2", name: p, org: "1", sequence: 5}}]
apps: [{{id: "3", name: a, project: "2", type: oidc}}]
tokens:
  - {{token: mine, user: "4", org: "1", memberships: [{{scope: org, id: "1", roles: [ORG_OWNER]}}]}}
"""


def write(path: Path, text: str) -> None:
    """Replace the file the way editors do: a new file renamed over the old one."""
    scratch = path.with_suffix(".tmp")
    scratch.write_text(text)
    scratch.replace(path)


def eventually(check: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the server did not pick up the change"
        time.sleep(0.1)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    path = tmp_path / "fixtures.yaml"
    path.write_text(FIXTURES.format(org="before"))
    live = start_server("--fixtures", str(path), "--watch")
    yield live, path
    live.stop()


def org_names(server: LiveServer, ns: str = "") -> list[str]:
    return [o["name"] for o in state(server, ns)["orgs"]]


def test_a_changed_file_is_loaded_into_every_namespace(watched: tuple[LiveServer, Path]) -> None:
    server, path = watched
    ns = fresh_ns()
    assert rotate(server, ns, project="2", app="3", token="mine").status_code == 200
    write(path, FIXTURES.format(org="after"))
    eventually(lambda: org_names(server) == ["after"])
    assert org_names(server, ns) == ["after"]
    assert "reloaded" in server.stderr()
    new = rotate(server, ns, project="2", app="3", token="mine")
    assert new.json()["details"]["sequence"] == "6"  # the rotation before the reload is gone


def test_an_invalid_file_keeps_the_old_state_and_says_why(watched: tuple[LiveServer, Path]) -> None:
    server, path = watched
    rotate(server, "", project="2", app="3", token="mine")
    write(path, FIXTURES.format(org="broken").replace('org: "1", sequence', 'org: "9", sequence'))
    eventually(lambda: "keeping the previous fixtures" in server.stderr())
    assert f"{path}:2: project org '9' is not an org of this document" in server.stderr()
    assert org_names(server) == ["before"]
    assert (
        rotate(server, "", project="2", app="3", token="mine").json()["details"]["sequence"] == "7"
    )
    write(path, FIXTURES.format(org="fixed"))
    eventually(lambda: org_names(server) == ["fixed"])


def test_reset_goes_back_to_the_file_as_last_loaded(watched: tuple[LiveServer, Path]) -> None:
    server, path = watched
    write(path, FIXTURES.format(org="second"))
    eventually(lambda: org_names(server) == ["second"])
    server.client.post("/__mock/reset")
    assert org_names(server) == ["second"]


def test_watch_needs_a_fixture_file() -> None:
    result = run_cli("serve", "--port", "0", "--watch")
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "zitadel-mock: --watch needs --fixtures FILE",
    )
