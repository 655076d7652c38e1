"""A state file's WAL is checkpointed by a thread of its own, never by a request's commit
(``zitadel_mock.state.checkpoints``): what a rotation commits reaches the database file itself
without any request paying for the copy and its syncs, and the thread leaves a lost or read-only
file alone and ends with its store."""

from __future__ import annotations

import gc
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import ACME, PORTAL, WEB
from tests.support.files import immutable
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.state.checkpoints import BACKSTOP_PAGES
from zitadel_mock.state.store import Store

HASH = "sha256$00$" + "0" * 64


def opened(path: Path) -> Store:
    store = Store(path)
    store.load(demo_fixtures())
    return store


def rotate(store: Store) -> int:
    return store.rotate(PORTAL, WEB, ACME, HASH, datetime.now(UTC)).sequence


def in_the_database_file(path: Path) -> int | None:
    """The project's sequence as the database file alone holds it (``immutable``: SQLite reads
    neither the WAL nor its index, so only checkpointed pages count); None before the tables
    themselves are checkpointed."""
    db = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        line = db.execute(
            "SELECT sequence FROM projects WHERE ns = '' AND id = ?", (PORTAL,)
        ).fetchone()
    except sqlite3.OperationalError:  # no such table yet
        return None
    finally:
        db.close()
    return None if line is None else int(line[0])


def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("checkpoints ")]


def test_the_serving_connection_leaves_checkpoints_to_the_thread(tmp_path: Path) -> None:
    store = opened(tmp_path / "state.db")
    try:
        with store.read() as db:
            assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == BACKSTOP_PAGES
    finally:
        store.close()


def test_what_a_rotation_commits_reaches_the_database_file_without_a_request(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.db"
    store = opened(state)
    try:
        sequence = 0
        for _ in range(20):  # far below the backstop: SQLite alone would leave it in the WAL
            sequence = rotate(store)
        assert eventually(lambda: in_the_database_file(state) == sequence)
    finally:
        store.close()


def test_nothing_is_checkpointed_into_a_read_only_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    store = opened(state)
    try:
        assert store._checkpoints is not None
        undo = immutable(state)
        try:
            passes = store._checkpoints.passes
            time.sleep(0.5)  # several ticks of the thread
            assert store._checkpoints.passes == passes
        finally:
            undo()
        sequence = rotate(store)  # writable again: committed, then checkpointed
        assert eventually(lambda: in_the_database_file(state) == sequence)
        assert store._checkpoints.passes > passes
    finally:
        store.close()


def test_the_thread_ends_with_its_store(tmp_path: Path) -> None:
    before = len(checkpoint_threads())
    closed = opened(tmp_path / "closed.db")
    assert len(checkpoint_threads()) == before + 1
    closed.close()
    assert len(checkpoint_threads()) == before
    dropped = opened(tmp_path / "dropped.db")
    assert len(checkpoint_threads()) == before + 1
    del dropped
    gc.collect()
    assert eventually(lambda: len(checkpoint_threads()) == before)


def test_a_store_in_memory_has_no_thread() -> None:
    before = len(checkpoint_threads())
    store = Store()
    assert len(checkpoint_threads()) == before
    store.close()


def restarts_of_the_log(state: Path) -> int:
    """The WAL header's checkpoint sequence number (bytes 12-15, big-endian, in SQLite's file
    format): the writer adds one each time it starts the log anew after a complete checkpoint."""
    with state.with_name(state.name + "-wal").open("rb") as wal:
        return int.from_bytes(wal.read(16)[12:16], "big")


def test_under_steady_writes_the_log_starts_anew_instead_of_growing(tmp_path: Path) -> None:
    """Rotations back to back across many passes of the thread: its second step (RESTART) lets
    the log start anew while the writes go on (under the benchmark's steady writes a PASSIVE
    checkpoint alone let it grow to the 40 MB backstop). That step waits for RESTART_FRAMES
    frames, a pass or more of these writes, so the loop runs until it has run four times or
    for 40 passes."""
    state = tmp_path / "state.db"
    store = opened(state)
    try:
        checkpoints = store._checkpoints
        assert checkpoints is not None
        rotate(store)
        before = restarts_of_the_log(state)
        passes = checkpoints.passes
        deadline = time.monotonic() + 20.0
        while (
            checkpoints.restarts < 4
            and checkpoints.passes < passes + 40
            and time.monotonic() < deadline
        ):
            for _ in range(100):
                rotate(store)
        assert checkpoints.restarts >= 4
        rotate(store)  # the write after a RESTART checkpoint starts the log anew
        assert restarts_of_the_log(state) - before >= 4
    finally:
        store.close()


def test_under_light_writes_the_writer_restarts_the_log_and_no_pass_takes_its_lock(
    tmp_path: Path,
) -> None:
    """A few rotations between passes: the first step copies every frame, so the next rotation
    starts the log anew by itself, and no pass takes the writer's lock (RESTART_FRAMES)."""
    state = tmp_path / "state.db"
    store = opened(state)
    try:
        checkpoints = store._checkpoints
        assert checkpoints is not None
        sequence = 0
        for _ in range(5):
            sequence = rotate(store)
        due = checkpoints.passes + 2  # one whole pass after the rotations
        assert eventually(lambda: checkpoints.passes >= due)
        assert in_the_database_file(state) == sequence
        before = restarts_of_the_log(state)
        rotate(store)
        assert restarts_of_the_log(state) == before + 1
        assert checkpoints.restarts == 0
    finally:
        store.close()
