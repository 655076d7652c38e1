"""A contract run freezes what is loaded before its first test out of the garbage collector."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.contracts.test_verify import run

FROZEN_IN_A_TEST = (
    "import gc\n\n\n"
    "def test_what_was_loaded_is_frozen({fixture}):\n"
    "    assert gc.get_freeze_count() {comparison}\n"
)
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def test_the_tests_of_a_contract_run_find_the_loaded_objects_frozen(tmp_path: Path) -> None:
    test = FROZEN_IN_A_TEST.format(fixture="zitadel_contract", comparison="> 10_000")
    (tmp_path / "test_frozen.py").write_text(test)
    result = run(PYTEST, cwd=tmp_path)
    assert "1 passed" in result.stdout, result.stdout + result.stderr


def test_outside_a_contract_run_nothing_is_frozen(tmp_path: Path) -> None:
    """The plugin is loaded into every pytest run of the environment, and does nothing here."""
    test = FROZEN_IN_A_TEST.format(fixture="", comparison="== 0")
    (tmp_path / "test_frozen.py").write_text(test)
    result = run(PYTEST, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
