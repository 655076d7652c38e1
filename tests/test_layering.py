"""House rule 2: the domain imports no web code; contracts never import the mock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = [
    "errors",
    "client_secrets",
    "model",
    "fixtures",
    "state",
    "state_rows",
    "readcache",
    "jsonbytes",
    "service",
    # the control plane's transport-neutral part (what every adapter calls)
    "outcomes",
    "control",
    "control_state",
    "journal",
    "documents",
    "watch",
]
WEB = {
    "connexion",
    "starlette",
    "uvicorn",
    "hypercorn",
    "httpx",
    "grpc",
    "h2",
    "httptools",
    "flask",
    "mockserver.rest",
    "mockserver.app",
    "mockserver.admin",
    "mockserver.control_http",
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def is_web(module: str) -> bool:
    return any(module == web or module.startswith(web + ".") for web in WEB)


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_imports_no_web_code(module: str) -> None:
    web = {m for m in imported_modules(ROOT / "mockserver" / f"{module}.py") if is_web(m)}
    assert web == set()


def test_the_checker_would_notice_a_web_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import json\nfrom starlette.types import Scope\nimport grpc.aio\n")
    assert {m for m in imported_modules(sample) if is_web(m)} == {"starlette.types", "grpc.aio"}


def test_contracts_never_import_the_mock() -> None:
    for path in (ROOT / "contracts").rglob("*.py"):
        mock = {
            m for m in imported_modules(path) if m == "mockserver" or m.startswith("mockserver.")
        }
        assert mock == set(), path


def test_the_neutral_grpc_package_imports_neither_the_mock_nor_the_contracts() -> None:
    for path in (ROOT / "zitadel_proto").rglob("*.py"):
        ours = {
            m
            for m in imported_modules(path)
            if m.split(".")[0] in {"mockserver", "contracts", "tests"}
        }
        assert ours == set(), path
