"""Each folder is one layer with one rule (ARCHITECTURE.md); this test reads every import.

The rules are by folder: a new module is held to its folder's rule without being listed here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parent.parent
MOCK: Final = "zitadel_mock"
CONTRACT: Final = "zitadel_contract"
PROTO: Final = "zitadel_proto"
# Libraries that speak HTTP, gRPC or ASGI: what the inner layers never import.
WEB: Final = frozenset(
    {
        "connexion",
        "starlette",
        "uvicorn",
        "hypercorn",
        "httpx",
        "grpc",
        "h2",
        "hpack",
        "httptools",
        "uvloop",
        "flask",
        "urllib3",
        "requests",
    }
)


@dataclass(frozen=True, slots=True)
class Layer:
    """A folder of ``mockserver/`` (installed as ``zitadel_mock``) and what it may import."""

    folder: str  # relative to mockserver/; "" is the top level (wiring)
    may_import: frozenset[str]  # our packages, as subpackages of zitadel_mock
    web: bool  # may it import WEB libraries?
    proto: bool  # may it import zitadel_proto?


INNER: Final = ("domain", "fixtures", "state", "operations", "control")
LAYERS: Final = (
    Layer("domain", frozenset({"domain"}), web=False, proto=False),
    Layer("fixtures", frozenset({"domain", "fixtures"}), web=False, proto=False),
    Layer("state", frozenset({"domain", "fixtures", "state"}), web=False, proto=False),
    Layer("operations", frozenset(INNER[:4]), web=False, proto=True),
    Layer("control", frozenset(INNER), web=False, proto=False),
    Layer("control/admin", frozenset({*INNER, "protocols"}), web=True, proto=False),
    Layer("protocols", frozenset({*INNER, "protocols"}), web=True, proto=True),
    Layer("server", frozenset({"server"}), web=True, proto=False),
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def layer_of(path: Path, root: Path) -> Layer | None:
    """The innermost layer whose folder holds ``path`` (None: the top level, which wires)."""
    relative = path.relative_to(root).as_posix()
    found = [layer for layer in LAYERS if relative.startswith(layer.folder + "/")]
    return max(found, key=lambda layer: len(layer.folder), default=None)


def breaches(path: Path, root: Path) -> set[str]:
    """The imports of ``path`` that its folder's rule forbids."""
    layer = layer_of(path, root)
    if layer is None:
        return set()
    out = set()
    for module in imported_modules(path):
        top, _, rest = module.partition(".")
        if (
            (top in WEB and not layer.web)
            or (top == PROTO and not layer.proto)
            or top in {CONTRACT, "tests", "bench", "mockserver", "contracts"}
        ):
            out.add(module)
        elif top == MOCK:
            package = rest.split(".")[0] if rest else ""
            if package not in layer.may_import:
                out.add(module)
    return out


MOCK_FILES: Final = sorted((ROOT / "mockserver").rglob("*.py"))


def test_every_folder_of_the_mock_is_a_known_layer() -> None:
    folders = {p.parent.relative_to(ROOT / "mockserver").as_posix() for p in MOCK_FILES}
    assert folders - {"."} == {layer.folder for layer in LAYERS}


@pytest.mark.parametrize(
    "path", MOCK_FILES, ids=[p.relative_to(ROOT).as_posix() for p in MOCK_FILES]
)
def test_each_mock_module_keeps_its_folders_rule(path: Path) -> None:
    assert breaches(path, ROOT / "mockserver") == set()


def test_a_domain_module_importing_web_code_is_caught(tmp_path: Path) -> None:
    (tmp_path / "domain").mkdir()
    planted = tmp_path / "domain" / "service.py"
    planted.write_text("import json\nfrom starlette.types import Scope\nimport grpc.aio\n")
    assert breaches(planted, tmp_path) == {"starlette.types", "grpc.aio"}


def test_a_state_module_importing_a_protocol_is_caught(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    planted = tmp_path / "state" / "store.py"
    planted.write_text("from zitadel_mock.protocols.gateway import render_error\n")
    assert breaches(planted, tmp_path) == {"zitadel_mock.protocols.gateway"}


def test_the_control_core_importing_a_protocol_is_caught(tmp_path: Path) -> None:
    (tmp_path / "control").mkdir()
    planted = tmp_path / "control" / "plane.py"
    planted.write_text("from zitadel_mock.protocols import gateway\nimport h2.connection\n")
    assert breaches(planted, tmp_path) == {"zitadel_mock.protocols", "h2.connection"}


def test_contracts_never_import_the_mock() -> None:
    for path in (ROOT / "contracts").rglob("*.py"):
        mock = {m for m in imported_modules(path) if m.split(".")[0] in {MOCK, "mockserver"}}
        assert mock == set(), path


def test_contract_transports_do_not_reach_up_into_the_suite_or_the_plugin() -> None:
    upper = {f"{CONTRACT}.{name}" for name in ("suite", "plugin", "cli", "session", "schema")}
    for path in (ROOT / "contracts" / "transports").rglob("*.py"):
        reached = {
            m
            for m in imported_modules(path)
            if m.split(".")[0:2] and any(m == u or m.startswith(u + ".") for u in upper)
        }
        assert reached == set(), path


def test_the_neutral_grpc_package_imports_neither_the_mock_nor_the_contracts() -> None:
    for path in (ROOT / "zitadel_proto").rglob("*.py"):
        ours = {
            m
            for m in imported_modules(path)
            if m.split(".")[0] in {MOCK, CONTRACT, "mockserver", "contracts", "tests"}
        }
        assert ours == set(), path
