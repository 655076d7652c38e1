"""The README and the guides: one screen, links that lead somewhere, commands that work as shown."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, LiveServer

DOCS = sorted((ROOT / "docs").glob("*.md"))
# Guides that other branches write (the operator guide, the Connect guide): the README links to
# them already. Empty this set once they are merged.
WRITTEN_ELSEWHERE = {ROOT / "docs" / "operators.md", ROOT / "docs" / "connect.md"}
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)|src=\"([^\"]+)\"")


def links(page: Path) -> list[Path]:
    found = []
    for match in LINK.finditer(page.read_text()):
        target = match[1] or match[2]
        if not re.match(r"[a-z]+:", target):
            found.append((page.parent / target).resolve())
    return found


def shell_blocks(page: Path) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", page.read_text(), re.S)


def test_the_readme_fits_one_screen() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 50


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_every_relative_link_leads_to_a_file(page: Path) -> None:
    missing = [t for t in links(page) if not t.exists() and t not in WRITTEN_ELSEWHERE]
    assert missing == []


def test_the_readme_shows_the_pages_screenshot() -> None:
    assert ROOT / "docs" / "page-wide.png" in links(ROOT / "README.md")


def test_the_license_is_the_apache_license_pyproject_names() -> None:
    assert (
        "Apache License\n                           Version 2.0" in (ROOT / "LICENSE").read_text()
    )
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()


def test_no_command_calls_zitadel_mock_from_the_path_without_saying_so() -> None:
    # After `make run` the CLI is .venv/bin/zitadel-mock; a bare `zitadel-mock` at the start of a
    # command works only after activation or pip install.
    for page in [ROOT / "README.md", *DOCS]:
        for block in shell_blocks(page):
            for line in block.splitlines():
                assert not line.startswith("zitadel-mock "), f"{page.name}: {line}"


def run_curl(line: str, server: LiveServer) -> subprocess.CompletedProcess[str]:
    line = line.replace("http://127.0.0.1:8080", server.url).replace("localhost:8080", server.url)
    words = [w for w in shlex.split(line, comments=True) if w != "\\"]
    assert words[0] == "curl"
    return subprocess.run(
        [*words, "--fail-with-body", "-sS"], capture_output=True, text=True, timeout=30, check=False
    )


def test_the_readmes_curl_rotates_a_secret(server: LiveServer) -> None:
    (block,) = [b for b in shell_blocks(ROOT / "README.md") if b.startswith("curl")]
    result = run_curl(block.replace("\\\n", " "), server)
    assert result.returncode == 0, result.stderr
    assert '"clientSecret"' in result.stdout


def test_the_pages_buttons_as_curl_work(server: LiveServer) -> None:
    guide = ROOT / "docs" / "frontend.md"
    (block,) = [b for b in shell_blocks(guide) if "__mock/errors" in b]
    try:
        for line in block.replace("\\\n", " ").splitlines():
            result = run_curl(line, server)
            assert result.returncode == 0, f"{line}: {result.stdout} {result.stderr}"
    finally:  # the block queues a forced outcome on the shared server: not for the next test
        httpx.delete(f"{server.url}/__mock/outcomes", timeout=10).raise_for_status()
