"""The kit as a user installs it: the wheel, in a fresh virtualenv, beside a project of its own.

The wheel is built from this checkout (``pip wheel --no-deps``, no build isolation: no network)
and installed with ``--no-deps`` into a new virtualenv. Its dependencies come from this
environment through a ``.pth`` file naming a folder of links to this environment's packages,
without this checkout's own editable install (its finder and its metadata are left out), so
that only the wheel provides ``zitadel_contract`` there. The project beside it has its own
``contracts`` and ``mockserver`` packages, strict pytest settings, and a test of its own.

The floor (the lowest versions pyproject.toml allows) and the newest pytest are installed from
PyPI, which ``make test`` needs for its own install too (``make test-floor`` runs this file
alone).
"""

from __future__ import annotations

import email
import os
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import ACME, PORTAL, ROOT, WEB, start_server

INSTALLED_NAMES = {"zitadel_mock", "zitadel_contract", "zitadel_proto"}
# The [server] extra and what only it brings (this environment's names of them).
SERVER_STACK = (
    *("connexion", "uvicorn", "starlette", "h2", "hpack", "hyperframe", "httptools", "uvloop"),
    *("orjson", "swagger_ui_bundle", "jsonschema", "jsonschema_path", "jsonschema_specifications"),
)
FOLDERS = {
    "mockserver": "zitadel_mock",
    "contracts": "zitadel_contract",
    "zitadel_proto": "zitadel_proto",
}
LEFT_OUT = ("__editable__", "zitadel_secret_mock", "__pycache__")
FLOOR = (
    *("pytest==8.4.0", "schemathesis==4.32.0", "hypothesis==6.130.12", "httpx==0.28.0"),
    *("requests==2.32.0", "grpcio==1.85.0", "protobuf==7.36.0"),
)
NEWEST_PYTEST = ("pytest==9.2.0",)
PLUGIN_RUN = (
    "-m",
    "pytest",
    "tests",
    "--pyargs",
    "zitadel_contract.suite",
    "--zitadel-examples",
    "2",
)
PROJECT_TEST = """\
import os

import contracts
import mockserver
import zitadel_contract


def test_the_projects_own_packages_keep_their_names():
    assert (contracts.OWNER, mockserver.OWNER) == ("the project", "the project")


def test_the_kit_comes_from_the_wheel():
    assert zitadel_contract.__file__.startswith(os.environ["KIT_SITE"])
"""


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command}: exit {result.returncode}\n{output}"
    return output


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    output = run([*pip, "-w", str(folder), str(ROOT)], cwd=folder)
    (folder / "build-output.txt").write_text(output)
    (built,) = folder.glob("zitadel_secret_mock-*.whl")
    return built


def test_the_build_declares_every_folder_it_ships(wheel: Path) -> None:
    """setuptools warns of a folder it ships as data that ``packages`` does not name."""
    output = (wheel.parent / "build-output.txt").read_text()
    assert "absent from the `packages` configuration" not in output, output


def fresh_venv(where: Path) -> tuple[Path, Path]:
    """A virtualenv without pip; its python and its site-packages."""
    venv.create(where, with_pip=False)
    python = where / "bin" / "python"
    found = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], where
    )
    return python, Path(found.strip())


def share_this_environment(kit_site: Path, links: Path, without: tuple[str, ...] = ()) -> None:
    """This environment's packages as plain path entries, without this checkout's install (nor
    the packages named in ``without``)."""
    links.mkdir()
    for source in Path(site.getsitepackages()[0]).iterdir():
        name = source.name
        if name.startswith(LEFT_OUT) or source.suffix == ".pth":
            continue
        if any(name == w or name.startswith(f"{w}-") for w in without):
            continue
        (links / source.name).symlink_to(source)
    (kit_site / "zz-shared-environment.pth").write_text(f"{links}\n")


def user_project(where: Path) -> Path:
    for package in ("contracts", "mockserver"):
        (where / package).mkdir(parents=True)
        (where / package / "__init__.py").write_text('OWNER = "the project"\n')
    (where / "tests").mkdir()
    (where / "tests" / "test_own.py").write_text(PROJECT_TEST)
    (where / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-markers --strict-config -p no:cacheprovider\n"
        "filterwarnings = error\n"
    )
    return where


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A fresh virtualenv with the wheel and this environment's packages; its python, site."""
    folder = tmp_path_factory.mktemp("kit-venv")
    python, kit_site = fresh_venv(folder / "venv")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    run([*pip, "--no-deps", "--no-index", str(wheel)], cwd=folder)
    share_this_environment(kit_site, folder / "shared")
    return python, kit_site


def test_the_wheel_installs_only_the_distinctive_names(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == INSTALLED_NAMES


def test_the_wheel_holds_every_package_of_the_checkout(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            inside = init.relative_to(ROOT / folder).as_posix()
            assert f"{name}/{inside}" in names, f"{folder}/{inside} is not in the wheel"


def test_the_base_install_leaves_the_mocks_stack_to_the_server_extra(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = email.message_from_bytes(archive.read(meta))
    requires = [Requirement(text) for text in message.get_all("Requires-Dist") or []]
    base = {r.name for r in requires if r.marker is None}
    server = {r.name for r in requires if r.marker and r.marker.evaluate({"extra": "server"})}
    assert {"pytest", "schemathesis", "hypothesis", "httpx", "grpcio", "protobuf"} <= base
    assert not base & {"connexion", "uvicorn", "h2", "orjson", "PyYAML"}
    assert {"connexion", "uvicorn", "h2"} <= server
    pinned = [
        r
        for r in requires
        if r.marker is None and any(s.operator in ("==", "~=") for s in r.specifier)
    ]
    assert pinned == []


def test_the_plugin_runs_against_the_mock_in_a_project_of_its_own(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    python, kit_site = installed
    project = user_project(tmp_path / "project")
    output = run(
        [str(python), *PLUGIN_RUN],
        cwd=project,
        env={"KIT_SITE": str(kit_site), "PYTHONPATH": ""},
    )
    assert "18 passed" in output
    assert "the contract holds" in output


def test_the_base_install_checks_a_server_without_the_mocks_stack(
    wheel: Path, tmp_path: Path
) -> None:
    """A CI job that only verifies: the kit runs, and without a URL says what to install."""
    python, kit_site = fresh_venv(tmp_path / "venv")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    run([*pip, "--no-deps", "--no-index", str(wheel)], cwd=tmp_path)
    share_this_environment(kit_site, tmp_path / "shared", without=SERVER_STACK)
    lacking = subprocess.run(
        [str(python), "-c", "import zitadel_mock.app"], capture_output=True, text=True, check=False
    )
    assert "ModuleNotFoundError" in lacking.stderr  # the mock's stack is not there
    command = [str(python.with_name("zitadel-contract"))]
    live = start_server()
    try:
        output = run(
            [
                *command,
                live.url,
                *("--org-id", ACME, "--project-id", PORTAL, "--app-id", WEB, "--examples", "2"),
            ],
            cwd=tmp_path,
            env={"ZITADEL_CONTRACT_TOKEN": "admin-pat", "PYTHONPATH": ""},
        )
    finally:
        live.stop()
    assert "the contract holds" in output
    alone = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert alone.returncode == 2, alone.stdout + alone.stderr
    assert "pip install 'zitadel-secret-mock[server]'" in alone.stdout


@pytest.mark.parametrize(
    ("versions", "expected"),
    [(FLOOR, "8.4.0 6.130.12"), (NEWEST_PYTEST, "9.2.0")],
    ids=["lowest", "pytest-9.2"],
)
def test_the_supported_versions_run_the_plugin_against_the_mock(
    wheel: Path, tmp_path: Path, versions: tuple[str, ...], expected: str
) -> None:
    """The lowest versions pyproject.toml allows, and the newest pytest (9.2.0, on which
    schemathesis' own pytest integration breaks; the suite does not use it)."""
    python, kit_site = fresh_venv(tmp_path / "venv")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    run([*pip, "--no-deps", str(wheel), *versions], cwd=tmp_path)
    share_this_environment(kit_site, tmp_path / "shared")
    script = "import pytest, hypothesis; print(pytest.__version__, hypothesis.__version__)"
    installed_versions = run([str(python), "-c", script], cwd=tmp_path)
    assert installed_versions.startswith(expected)
    project = user_project(tmp_path / "project")
    output = run(
        [str(python), *PLUGIN_RUN],
        cwd=project,
        env={"KIT_SITE": str(kit_site), "PYTHONPATH": ""},
    )
    assert "the contract holds" in output
