"""A write that finds another process holding a state file's write lock waits in short pauses of
its own (``begin_immediate``), not in SQLite's busy handler, which sleeps a millisecond and more
with the whole event loop: it commits once the lock is free, and gives up as STATE_BUSY after
the busy timeout."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ACME, PORTAL, WEB
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.state.store import FIRST_PAUSE, LONGEST_PAUSE, Store

HASH = "sha256$00$" + "0" * 64


def opened(path: Path, busy_timeout_ms: int = 1000) -> Store:
    store = Store(path, busy_timeout_ms)
    store.load(demo_fixtures())
    return store


def rotate(store: Store) -> int:
    return store.rotate(PORTAL, WEB, ACME, HASH, datetime.now(UTC)).sequence


class Holder:
    """Another process's writer, as SQLite sees it: a connection of its own in BEGIN IMMEDIATE."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.db.execute("ROLLBACK")
        self.db.close()


def test_a_write_waits_in_short_pauses_for_the_lock_then_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = opened(tmp_path / "state.db")
    try:
        before = rotate(store)
        holder = Holder(tmp_path / "state.db")
        pauses: list[float] = []
        real_sleep = time.sleep

        def sleep(seconds: float) -> None:
            pauses.append(seconds)
            if len(pauses) == 8:  # the other writer finishes while this one waits
                holder.release()
            real_sleep(seconds)

        monkeypatch.setattr(time, "sleep", sleep)  # the checkpoint thread waits on an Event
        assert rotate(store) == before + 1
        assert len(pauses) == 8
        assert pauses[0] == FIRST_PAUSE
        assert max(pauses) <= LONGEST_PAUSE
        with store.read() as db:  # SQLite's own handler would have slept instead
            assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 0
    finally:
        store.close()


def test_a_write_gives_up_as_state_busy_after_the_busy_timeout(tmp_path: Path) -> None:
    store = opened(tmp_path / "state.db", busy_timeout_ms=100)
    try:
        before = rotate(store)
        holder = Holder(tmp_path / "state.db")
        try:
            with pytest.raises(MockError) as raised:
                rotate(store)
            assert raised.value.row is errors.STATE_BUSY
        finally:
            holder.release()
        assert rotate(store) == before + 1  # nothing was half-written
    finally:
        store.close()


def test_two_stores_on_one_file_rotating_at_once_lose_no_rotation(tmp_path: Path) -> None:
    """Two workers' connections contend for the lock on every rotation: each commits, and the
    sequences are all different."""
    first, second = opened(tmp_path / "state.db"), Store(tmp_path / "state.db")
    seen: list[int] = []
    lock = threading.Lock()

    def worker(store: Store) -> None:
        for _ in range(300):
            sequence = rotate(store)
            with lock:
                seen.append(sequence)

    try:
        threads = [threading.Thread(target=worker, args=(s,)) for s in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == len(set(seen)) == 600
        assert max(seen) - min(seen) == 599
    finally:
        first.close()
        second.close()
