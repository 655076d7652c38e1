"""A contract run freezes what is loaded before its first test out of the garbage collector."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.contracts.test_verify import VERIFY, run

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


# A plugin that writes down whether the collector is on when pytest configures itself (start-up)
# and when a test of the suite runs.
COLLECTOR_PROBE = (
    "import gc, os\n\n\n"
    "def note(when):\n"
    "    with open(os.environ['PROBE_OUT'], 'a') as out:\n"
    "        out.write(f'{when} {gc.isenabled()}\\n')\n\n\n"
    "def pytest_configure(config):\n"
    "    note('start-up')\n\n\n"
    "def pytest_runtest_call(item):\n"
    "    note('test')\n"
)


def test_verify_starts_up_with_the_collector_off_and_runs_its_tests_with_it_on(
    tmp_path: Path,
) -> None:
    (tmp_path / "collector_probe.py").write_text(COLLECTOR_PROBE)
    notes = tmp_path / "notes.txt"
    env = {
        "PYTHONPATH": str(tmp_path),
        "PYTEST_ADDOPTS": "-p collector_probe",
        "PROBE_OUT": str(notes),
    }
    command = [*VERIFY, "--examples", "2", "--seed", "12", "-k", "unknown_org", "--workers", "1"]
    result = run(command, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert notes.read_text().splitlines() == ["start-up False", "test True"]


def test_a_collector_the_caller_turned_off_stays_off() -> None:
    code = (
        "import gc\n"
        "from zitadel_contract import collector\n"
        "gc.disable()\n"
        "collector.pause()\n"
        "collector.resume()\n"
        "print(gc.isenabled())\n"
    )
    result = run([sys.executable, "-c", code])
    assert result.stdout.strip() == "False", result.stdout + result.stderr
