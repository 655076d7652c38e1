"""WAL checkpoints of a state file, on a thread of their own instead of on a request's commit.

In WAL mode a commit appends to the ``-wal`` file; a checkpoint copies those pages back into the
database file and syncs both (two ``fdatasync`` calls, milliseconds on a real disk). By default
SQLite runs it inside whichever commit takes the log past 1,000 pages, so every few hundred
rotations one request waited for the disk while the event loop, and every other request behind
it, stood still: the state-file rows' p99 (issue 15) was that wait.

Here a daemon thread with its own connection checkpoints every :data:`EVERY` seconds, in two
steps. First ``PRAGMA wal_checkpoint(PASSIVE)``: it never takes the writer's lock and never waits
for one, so commits go on beside it while it copies the bulk of the pages and syncs; the sqlite3
module releases the GIL while SQLite works, so the syncs overlap the event loop. A PASSIVE pass
alone never lets the log start anew under steady writes: the next writer restarts the log only if
every frame was copied, and some commit always lands while the copy runs, so the log grew to the
backstop (40 MB in 4 s at 1,000 rotations a second, measured on 2026-12-02) and the requests'
p99 with it. So, second, ``PRAGMA wal_checkpoint(RESTART)``, without a busy handler: it takes the
writer's lock only if it is free, copies the few frames committed since the first step, and
leaves the log to be restarted by the next writer (once no reader is inside it); if the lock is
taken or a reader is in the log it gives up at once and is tried again after a pause
(:data:`RESTART_PAUSE`, up to :data:`RESTART_TRIES` times a pass). Writers wait for it in
``begin_immediate``'s short pauses, for as long as the small copy and its two syncs take.

That wait stops the event loop, so the second step runs only once the log holds
:data:`RESTART_FRAMES` frames (16 MB of 4 KiB pages), not on every pass. Measured on 2026-12-04
(a loop-lag probe in the mock under the state-file row's half load, 1,870 rotations a second,
2.5 frames each): the writer waited 1.2 ms (p50, 2.0 at most) for each RESTART, the loop stood
still 3 to 7 ms around it, and those stalls came every 0.2 s, one each pass; with the threshold
the stalls over 3 ms fell from 22, 28, 29 to 8, 6, 7 in the same 8 s of three runs each,
alternated. Under a light load the first step copies every frame, the next writer restarts the
log by itself, and the second step is never needed.

The serving connection keeps an automatic checkpoint only as a backstop (:data:`BACKSTOP_PAGES`),
for a log the thread cannot keep small. Durability is unchanged: a commit is in the log when it
is acknowledged, and the log survives the process; a checkpoint only moves pages from one file
to the other, and syncs both before the log is reused.

Before each checkpoint the thread asks the store's own guard (``ready``): nothing is touched once
the state is lost (the file was deleted or replaced) or while its files are read-only. The thread
holds the store only weakly: a store that is dropped without :meth:`Checkpointer.stop` ends its
thread at the next tick.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from collections.abc import Callable
from typing import Final, Protocol

EVERY: Final = 0.2  # seconds between two checkpoints
BACKSTOP_PAGES: Final = 10_000  # the serving connection checkpoints itself past this (40 MB)
RESTART_TRIES: Final = 20  # RESTART checkpoints tried a pass, while the lock or a reader is busy
RESTART_PAUSE: Final = 200e-6  # seconds between two tries
RESTART_FRAMES: Final = 4_000  # frames in the log before a pass takes the writer's lock

log = logging.getLogger("zitadel_mock.state")


class Guarded(Protocol):
    def checkpoint_allowed(self) -> bool:
        """Whether the state file may be written now."""


class Checkpointer:
    """Checkpoints the WAL of ``path`` every :data:`EVERY` seconds while ``owner`` lives."""

    def __init__(
        self,
        path: str,
        owner: Guarded,
        connect: Callable[[str], sqlite3.Connection],
        every: float = EVERY,
    ) -> None:
        self._db = connect(path)
        self._stopped = threading.Event()
        self.passes = 0  # checkpoints begun (for tests and the curious)
        self.restarts = 0  # passes that left the log to start anew
        self._thread = threading.Thread(
            target=self._run,
            args=(weakref.ref(owner), every),
            name=f"checkpoints {path}",
            daemon=True,
        )
        self._thread.start()

    def _run(self, owner: weakref.ref[Guarded], every: float) -> None:
        try:
            while not self._stopped.wait(every):
                store = owner()
                if store is None:
                    return
                allowed = store.checkpoint_allowed()
                del store  # not kept alive across the wait
                if not allowed:
                    continue
                self.passes += 1
                try:
                    self._checkpoint()
                except sqlite3.Error as exc:  # full disk, I/O error: the next pass tries again
                    log.debug("checkpoint of the state file failed: %s", exc)
        finally:
            self._db.close()

    def _checkpoint(self) -> None:
        """The bulk without the writer's lock, then the rest with it so that the log restarts
        (module docstring), once the log holds :data:`RESTART_FRAMES` frames; the connection
        has no busy handler, so neither step ever sleeps inside SQLite."""
        _busy, frames, _copied = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames < RESTART_FRAMES:
            return
        for _ in range(RESTART_TRIES):
            busy, _frames, _copied = self._db.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            if not busy:
                self.restarts += 1
                return
            if self._stopped.wait(RESTART_PAUSE):
                return

    def stop(self) -> None:
        """End the thread (after a checkpoint under way) and close its connection."""
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
