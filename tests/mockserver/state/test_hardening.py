"""One truth or none (issue 12, rows 14, 15 and 16): a state file deleted, replaced, read-only or on
a full disk is detected, logged and answered UNAVAILABLE (503, code 14), never silently forked,
and a failing journal does not pile up in memory.

The disk-full test mounts a small tmpfs (it needs root and is skipped otherwise); read-only uses
``chattr +i`` where the file system allows it, else a read-only mode for a non-root user.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import ACME, PORTAL, WEB, LiveServer, rotate_path, start_server
from tests.support.files import immutable
from tests.support.workers import wait_until_workers_hold, workers_of
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.state.store import PIN_ENV, StateFileError, Store, file_identity

FULL = "ZITADEL_FUZZ_EXAMPLES" in os.environ
PATH = rotate_path(PORTAL, WEB)
AUTH = {"Authorization": "Bearer admin-pat"}


def opened(path: Path) -> Store:
    store = Store(path)
    store.load(demo_fixtures())
    return store


def rotate(store: Store) -> int:
    return store.rotate(PORTAL, WEB, ACME, "sha256$00$" + "0" * 64, datetime.now(UTC)).sequence


def lost(call: Callable[[], object]) -> bool:
    try:
        call()
    except MockError as exc:
        return exc.row is errors.STATE_LOST
    return False


def test_a_state_file_deleted_while_serving_is_answered_unavailable_and_not_recreated(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state.db"
    store = opened(state)
    assert rotate(store) == 7
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with caplog.at_level(logging.ERROR, "zitadel_mock.state"):
        assert lost(lambda: rotate(store))
    assert lost(lambda: store.org_exists(ACME))  # reads too, for good
    assert lost(lambda: rotate(store))
    assert not state.exists()
    assert [r.message for r in caplog.records if "deleted or replaced" in r.message]
    assert errors.STATE_LOST.code.value == 14
    store.close()


def test_a_state_file_replaced_while_serving_is_answered_unavailable(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    store = opened(state)
    rotate(store)
    other = opened(tmp_path / "other.db")
    other.close()
    os.replace(tmp_path / "other.db", state)
    assert lost(lambda: rotate(store))
    store.close()


def test_the_same_file_keeps_serving(tmp_path: Path) -> None:
    """The broken variant: a check that misread the identity would refuse this."""
    store = opened(tmp_path / "state.db")
    assert [rotate(store) for _ in range(3)] == [7, 8, 9]
    assert store.org_exists(ACME)
    store.close()


def test_a_worker_never_opens_another_file_at_the_pinned_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As serve_workers does: the supervisor pins the file's identity and holds it open (so
    that its inode is not reused) while workers run."""
    state = tmp_path / "state.db"
    opened(state).close()
    held = os.open(state, os.O_RDONLY)
    try:
        dev, ino = file_identity(str(state))
        monkeypatch.setenv(PIN_ENV, f"{dev}:{ino}:{state}")
        Store(state).close()  # the pinned file itself opens
        state.unlink()
        with pytest.raises(StateFileError, match="was deleted"):
            Store(state)
        assert not state.exists()  # no fresh second state
        opened(tmp_path / "elsewhere.db").close()  # another path is not pinned
        os.replace(tmp_path / "elsewhere.db", state)
        with pytest.raises(StateFileError, match="was replaced"):
            Store(state)
    finally:
        os.close(held)


def test_a_read_only_state_file_is_answered_unavailable_and_logged_then_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state.db"
    store = opened(state)
    assert rotate(store) == 7
    undo = immutable(state)
    try:
        with caplog.at_level(logging.ERROR, "zitadel_mock.state"):
            assert lost(lambda: rotate(store))
            assert lost(lambda: rotate(store))
        assert len([r for r in caplog.records if "read-only or immutable" in r.message]) == 1
        assert store.org_exists(ACME)  # reads go on
        with pytest.raises(StateFileError, match="read-only or immutable"):
            Store(state)
    finally:
        undo()
    assert rotate(store) == 8  # writable again: it commits again
    store.close()


# -- with a live server -----------------------------------------------------------------------


def code(response: httpx.Response) -> int:
    return int(response.json()["code"])


def test_two_workers_answer_503_code_14_once_their_state_file_is_deleted(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    live = start_server("--workers", "2", "--state", str(state), own_group=True)
    try:
        wait_until_workers_hold(live.process.pid, state, 2)
        assert live.rotate().status_code == 200
        for name in ("state.db", "state.db-wal", "state.db-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        answers = []
        for _ in range(20):  # fresh connections reach both workers
            with httpx.Client(base_url=live.url, timeout=10) as client:
                answers.append(client.post(PATH, headers=AUTH, json={}))
        assert {a.status_code for a in answers} == {503}
        assert {code(a) for a in answers} == {14}
        assert not state.exists()
        assert "deleted or replaced while serving" in live.stderr()
        # a worker that dies is not replaced by one with a fresh state
        workers = workers_of(live.process.pid)
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while "not opening a second state" not in live.stderr():
            assert time.monotonic() < deadline, "the new worker said nothing"
            time.sleep(0.1)
        assert not state.exists()
    finally:
        with contextlib.suppress(ProcessLookupError):
            live.kill9()


# -- row 16: a full disk ------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a disk that fills."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=False
    )
    if result.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 4096)
            out.flush()
    return filler


def rss_kib(server: LiveServer) -> int:
    with open(f"/proc/{server.process.pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.fuzz
def test_a_full_disk_keeps_memory_bounded_and_answers_200_or_503(small_disk: Path) -> None:
    state = small_disk / "state.db"
    live = start_server("--state", str(state))
    try:
        assert live.rotate().status_code == 200
        filler = fill(small_disk)
        pad = {"X-Pad": "p" * 60000}  # journal entries keep headers: they fill memory if kept
        statuses: dict[int, int] = {}
        rss = []
        with httpx.Client(base_url=live.url, timeout=30) as client:
            started = time.perf_counter()
            for _ in range(4):  # memory may grow to its bound, then no more
                for _ in range(750 if FULL else 300):
                    answer = client.post(PATH, headers={**AUTH, **pad}, json={})
                    statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                    if answer.status_code == 503:
                        assert code(answer) == 14
                rss.append(rss_kib(live))
        assert set(statuses) <= {200, 503}, statuses
        mean_ms = (time.perf_counter() - started) * 1000 / sum(statuses.values())
        print(f"FIGURE row 16: answers {statuses} ({mean_ms:.2f} ms each); RSS by round {rss} KiB")
        # kept, every round's 300 entries would add 18 MB (36 MB from round 2 to 4); bounded, it
        # levels off
        assert rss[-1] - rss[1] < 12 << 10, f"RSS {rss} KiB; answers {statuses}"
        assert "dropped" in live.stderr()
        filler.unlink()
        assert live.rotate().status_code == 200  # space again: it commits again
        with sqlite3.connect(state) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        live.stop()


def test_a_live_server_answers_503_code_14_for_an_immutable_state_file_and_lives_on(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.db"
    live = start_server("--workers", "2", "--state", str(state))
    try:
        wait_until_workers_hold(live.process.pid, state, 2)
        assert live.rotate().status_code == 200
        undo = immutable(state)
        try:
            answers = []
            for _ in range(10):  # fresh connections reach both workers
                with httpx.Client(base_url=live.url, timeout=10) as client:
                    answers.append(client.post(PATH, headers=AUTH, json={}))
            assert {(a.status_code, code(a)) for a in answers} == {(503, 14)}
            assert "read-only or immutable" in live.stderr()
            assert live.process.poll() is None  # no SIGBUS, no crash loop
        finally:
            undo()
        assert live.rotate().status_code == 200
    finally:
        live.stop()
