"""One seed gives the same drawn values whether or not the process has imported a local module
full of constants, once the contract run has emptied Hypothesis' pool of local constants
(zitadel_contract.local_constants); and without that, it does not (the check can fail).

Each variant runs in a fresh process: Hypothesis mines a process' modules once, and keeps what it
found for the rest of the process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# 300 integers and 300 strings a draw could pick, as a project's own module might hold them.
LOCAL_MODULE = "\n".join(
    [f"NUMBER_{n} = {987_000 + n}" for n in range(300)]
    + [f"WORD_{n} = 'local-constant-{n}'" for n in range(300)]
)
# Draws 200 examples of integers and text under one seed and prints them.
DRAW = """
import json, sys
if "--import" in sys.argv:
    import lots_of_constants  # noqa: F401
if "--ignore" in sys.argv:
    from zitadel_contract.local_constants import ignore_local_constants
    assert ignore_local_constants()
from hypothesis import Phase, given, seed, settings, strategies as st
drawn = []
@seed(20261127)
@settings(max_examples=200, database=None, phases=(Phase.generate,), deadline=None)
@given(st.integers(), st.text(max_size=30))
def draw(number, word):
    drawn.append([number, word])
draw()
print(json.dumps(drawn))
"""


def drawn(folder: Path, *flags: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(folder), "HYPOTHESIS_STORAGE_DIRECTORY": str(folder)}
    done = subprocess.run(
        [sys.executable, "-c", DRAW, *flags],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def folder_with_constants(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "lots_of_constants.py").write_text(LOCAL_MODULE + "\n", encoding="utf-8")
    return folder


def test_one_seed_draws_the_same_values_whatever_local_modules_are_imported(
    tmp_path: Path,
) -> None:
    folder = folder_with_constants(tmp_path)
    assert drawn(folder, "--ignore") == drawn(folder, "--ignore", "--import")


def test_without_it_a_local_module_changes_what_one_seed_draws(tmp_path: Path) -> None:
    folder = folder_with_constants(tmp_path)
    plain, with_module = drawn(folder), drawn(folder, "--import")
    assert plain != with_module
    assert "local-constant-" in with_module  # drawn from the module, not merely shifted
