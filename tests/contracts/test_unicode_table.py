"""The UTF-8 table the plugin writes for Hypothesis: Hypothesis' own answer, read where it looks.

Each check runs Hypothesis in a fresh process with a storage directory of its own (Hypothesis
keeps the table in memory once read, and reads its storage location once per process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from zitadel_contract import unicode_table

# Prints what Hypothesis believes UTF-8 encodes, and what does not round-trip, as JSON.
ASK_HYPOTHESIS = (
    "import json\n"
    "from hypothesis.internal.charmap import intervals_from_codec\n"
    "encodable, not_round_tripping = intervals_from_codec('utf-8')\n"
    "print(json.dumps([list(encodable.intervals), list(not_round_tripping.intervals)]))\n"
)
SEED = "from zitadel_contract.unicode_table import seed_utf8_table\nprint(seed_utf8_table())\n"


def run(code: str, storage: Path) -> str:
    env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(storage)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def as_table(text: str) -> list[list[list[int]]]:
    return [[list(pair) for pair in part] for part in json.loads(text)]


def written_table() -> list[list[list[int]]]:
    return [
        [list(pair) for pair in unicode_table.UTF8_ENCODABLE],
        [list(pair) for pair in unicode_table.UTF8_NOT_ROUND_TRIPPING],
    ]


def test_the_table_is_what_hypothesis_finds_by_scanning_every_code_point(tmp_path: Path) -> None:
    scanned = as_table(run(ASK_HYPOTHESIS, tmp_path))
    assert scanned == written_table()


def test_hypothesis_reads_the_written_table_instead_of_scanning(tmp_path: Path) -> None:
    assert run(SEED, tmp_path) == "True"
    assert as_table(run(ASK_HYPOTHESIS, tmp_path)) == written_table()
    # A table that says something else is what Hypothesis then answers: it is read, not ignored.
    plant = (
        "import gzip, json\n"
        "from zitadel_contract.unicode_table import utf8_table_path\n"
        "with gzip.open(utf8_table_path(), 'wt') as f:\n"
        "    json.dump([[[65, 90]], []], f)\n"
    )
    run(plant, tmp_path)
    assert as_table(run(ASK_HYPOTHESIS, tmp_path)) == [[[65, 90]], []]


def test_a_table_already_there_is_left_as_it_is(tmp_path: Path) -> None:
    run(ASK_HYPOTHESIS, tmp_path)  # Hypothesis scans and writes its own
    assert run(SEED, tmp_path) == "False"
