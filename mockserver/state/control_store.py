"""The control plane's part of the SQLite state, shared by every worker that opens the same file.

Beside the records of :mod:`zitadel_mock.state.store` it keeps: the fixtures the server started
with (the reserved namespace ``@baseline``), the namespaces in use and their last use, the queue of
forced outcomes, the request journal, and a few values (``meta``): the seed, the digest of the
loaded fixture file, and an ``epoch`` that moves whenever namespaces are reset, reloaded or expired,
so that every worker drops what it cached about them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.jsonbytes import dumps
from zitadel_mock.domain.model import Fixtures
from zitadel_mock.fixtures.documents import Document, to_document
from zitadel_mock.fixtures.loader import FixtureError, parse_fixtures
from zitadel_mock.state.readcache import generation_triggers
from zitadel_mock.state.store import Store
from zitadel_mock.state.tables import delete_namespace, replace_namespace

# A namespace unused for this many seconds gives its place to a new one when the mock holds its
# maximum (least recently used first); only when every one was used more recently is a new one
# refused (429).
EVICT_IDLE: Final = 10.0
MAX_QUEUED_PER_APP: Final = 1000  # queued outcomes per namespace and app (or "any app")
MAX_QUEUED: Final = 10000  # queued outcomes in all namespaces together
BASELINE: Final = "@baseline"  # not a valid namespace name, so never one a client can pick

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS namespaces (
    name TEXT PRIMARY KEY, created_us INTEGER NOT NULL, last_used_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ns TEXT NOT NULL, app_id TEXT,
    remaining INTEGER NOT NULL, spec TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outcomes_by_ns ON outcomes (ns, id);
CREATE INDEX IF NOT EXISTS outcomes_by_app ON outcomes (ns, app_id, id);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ns TEXT NOT NULL, app_id TEXT, status INTEGER,
    entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_by_ns ON journal (ns, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Pulse:
    """What a worker reads before each call: has anything moved, and is anything queued."""

    epoch: int
    seed_version: int
    queued: bool


@dataclass(frozen=True, slots=True)
class Queued:
    id: int
    app_id: str | None
    remaining: int
    spec: str


@dataclass(frozen=True, slots=True)
class NamespaceUse:
    name: str
    created_us: int
    last_used_us: int


class ControlStore:
    """Control-plane tables over a :class:`Store`; every write is one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('epoch', '0'), ('seed_version', '0')")
            for statement in generation_triggers({"meta", "outcomes"}):
                db.execute(statement)

    # -- meta ------------------------------------------------------------------------------

    def pulse(self, ns: str) -> Pulse:
        """Read before every call: kept in memory while the state does not change."""

        def read(db: sqlite3.Connection) -> Pulse:
            epoch, seed_version, queued = db.execute(
                "SELECT (SELECT value FROM meta WHERE key = 'epoch'),"
                " (SELECT value FROM meta WHERE key = 'seed_version'),"
                " EXISTS (SELECT 1 FROM outcomes WHERE ns = ?)",
                (ns,),
            ).fetchone()
            return Pulse(int(epoch), int(seed_version), bool(queued))

        return self.store.cached(("pulse", ns), read)

    def seed(self) -> int | None:
        with self.store.read() as db:
            line = db.execute("SELECT value FROM meta WHERE key = 'seed'").fetchone()
        return json.loads(line[0]) if line else None

    def set_seed(self, seed: int | None, *, announce: bool) -> None:
        """Record the seed; ``announce`` makes every other worker apply it too."""
        with self.store.transaction() as db:
            _put(db, "seed", json.dumps(seed))
            if announce:
                db.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'seed_version'"
                )

    # -- baseline and namespaces -----------------------------------------------------------

    def set_baseline(self, fixtures: Fixtures, digest: str) -> None:
        with self.store.transaction() as db:
            replace_namespace(db, fixtures, BASELINE)
            _put(db, "baseline_digest", digest)

    def reload_baseline(self, fixtures: Fixtures, digest: str) -> list[str]:
        """Make ``fixtures`` the baseline and reset every namespace to it; the queue and the
        journal stay. Returns the namespaces reset, or ``[]`` if another worker already did it.
        """
        with self.store.transaction() as db:
            line = db.execute("SELECT value FROM meta WHERE key = 'baseline_digest'").fetchone()
            if line is not None and line[0] == digest:
                return []
            replace_namespace(db, fixtures, BASELINE)
            _put(db, "baseline_digest", digest)
            names = ["", *_names(db)]
            for name in names:
                replace_namespace(db, fixtures, name)
            _bump_epoch(db)
        return names

    def touch(self, ns: str, now_us: int, limit: int) -> bool:
        """Mark ``ns`` used now, creating it as a copy of the baseline; True if it was created."""
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM namespaces WHERE name = ?", (ns,)).fetchone():
                db.execute("UPDATE namespaces SET last_used_us = ? WHERE name = ?", (now_us, ns))
                return False
            if db.execute("SELECT count(*) FROM namespaces").fetchone()[0] >= limit:
                # Full: the least recently used namespace makes room, if it is idle enough.
                oldest = db.execute(
                    "SELECT name FROM namespaces WHERE last_used_us < ?"
                    " ORDER BY last_used_us LIMIT 1",
                    (now_us - int(EVICT_IDLE * 1_000_000),),
                ).fetchone()
                if oldest is None:
                    raise MockError(
                        errors.TOO_MANY_NAMESPACES, limit=str(limit), idle=str(int(EVICT_IDLE))
                    )
                self._forget(db, oldest[0])
                _bump_epoch(db)
            db.execute("INSERT INTO namespaces VALUES (?, ?, ?)", (ns, now_us, now_us))
            replace_namespace(db, self.store.fixtures(BASELINE), ns)
        return True

    def namespaces(self) -> list[NamespaceUse]:
        with self.store.read() as db:
            lines = db.execute(
                "SELECT name, created_us, last_used_us FROM namespaces ORDER BY name"
            )
            return [NamespaceUse(*line) for line in lines]

    def expire(self, idle_before_us: int) -> list[str]:
        """Delete the namespaces not used since ``idle_before_us``, with their queue and journal."""
        with self.store.transaction() as db:
            names = [
                line[0]
                for line in db.execute(
                    "SELECT name FROM namespaces WHERE last_used_us < ?", (idle_before_us,)
                )
            ]
            for name in names:
                delete_namespace(db, name)
                for table in ("outcomes", "journal"):
                    db.execute(f"DELETE FROM {table} WHERE ns = ?", (name,))
                db.execute("DELETE FROM namespaces WHERE name = ?", (name,))
            if names:
                _bump_epoch(db)
        return names

    def delete(self, ns: str) -> bool:
        """Delete namespace ``ns`` now, with its queue and journal; False if it is not in use."""
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM namespaces WHERE name = ?", (ns,)).fetchone() is None:
                return False
            delete_namespace(db, ns)
            for table in ("outcomes", "journal"):
                db.execute(f"DELETE FROM {table} WHERE ns = ?", (ns,))
            db.execute("DELETE FROM namespaces WHERE name = ?", (ns,))
            _bump_epoch(db)
        return True

    @staticmethod
    def _forget(db: sqlite3.Connection, name: str) -> None:
        delete_namespace(db, name)
        for table in ("outcomes", "journal"):
            db.execute(f"DELETE FROM {table} WHERE ns = ?", (name,))
        db.execute("DELETE FROM namespaces WHERE name = ?", (name,))

    def reset(self, ns: str | None) -> list[str]:
        """Reset ``ns`` to the baseline; clear its queue and journal. With None, reset the
        default namespace and free every other one (each comes back as the baseline on its next
        use, which is what a reset shows). Returns the namespaces reset."""
        with self.store.transaction() as db:
            names = ["", *_names(db)] if ns is None else [ns]
            kept = [""] if ns is None else names
            for name in names:
                if name not in kept:
                    self._forget(db, name)
            baseline = self.store.fixtures(BASELINE)
            for name in kept:
                replace_namespace(db, baseline, name)
                for table in ("outcomes", "journal"):
                    db.execute(f"DELETE FROM {table} WHERE ns = ?", (name,))
            _bump_epoch(db)
        return names

    # -- changes to the records, checked by the fixture parser ------------------------------

    def change(self, ns: str, edit: Callable[[Document], str]) -> Fixtures:
        """Apply ``edit`` to the namespace's records as a fixture document, atomically.

        ``edit`` changes the document in place and returns what it did ("deleting org '1'"); the
        result must pass every rule of the fixture format, else MockError(ADMIN_REFUSED) names
        the broken rule and nothing changes.
        """
        with self.store.transaction() as db:
            document = to_document(self.store.fixtures(ns))
            what = edit(document)
            try:
                fixtures = parse_fixtures(json.dumps(document, ensure_ascii=False), what)
            except FixtureError as exc:
                raise MockError(
                    errors.ADMIN_REFUSED, reason=f"refused {what}: {exc.problem}"
                ) from None
            replace_namespace(db, fixtures, ns)
        return fixtures

    # -- the queue of forced outcomes ------------------------------------------------------

    def enqueue(self, ns: str, app_id: str | None, times: int, spec: str) -> Queued:
        """Queue ``spec``; refused (ADMIN_REFUSED) past :data:`MAX_QUEUED_PER_APP` entries for
        this app (or for any app) in ``ns``, or :data:`MAX_QUEUED` entries in all."""
        with self.store.transaction() as db:
            mine = db.execute(
                "SELECT count(*) FROM outcomes WHERE ns = ? AND app_id IS ?", (ns, app_id)
            ).fetchone()[0]
            if mine >= MAX_QUEUED_PER_APP:
                what = f"app {app_id!r}" if app_id is not None else "any app"
                raise MockError(
                    errors.ADMIN_REFUSED,
                    reason=f"the queue holds {MAX_QUEUED_PER_APP} outcomes for {what} already "
                    "(the most it keeps): use 'times', or clear it with DELETE /__mock/outcomes",
                )
            if db.execute("SELECT count(*) FROM outcomes").fetchone()[0] >= MAX_QUEUED:
                raise MockError(
                    errors.ADMIN_REFUSED,
                    reason=f"the queues hold {MAX_QUEUED} outcomes in all already (the most the "
                    "mock keeps): clear some with DELETE /__mock/outcomes",
                )
            cursor = db.execute(
                "INSERT INTO outcomes (ns, app_id, remaining, spec) VALUES (?, ?, ?, ?)",
                (ns, app_id, times, spec),
            )
            assert cursor.lastrowid is not None
        return Queued(cursor.lastrowid, app_id, times, spec)

    def consume(self, ns: str, app_id: str | None) -> str | None:
        """Take one use of the first entry for this app (or any app), in queue order."""
        with self.store.transaction() as db:
            # The first entry for any app and the first for this app, each one index lookup
            # (never a scan of other apps' entries); the older of the two is next.
            lines = [
                db.execute(
                    "SELECT id, remaining, spec FROM outcomes WHERE ns = ? AND app_id IS ?"
                    " ORDER BY id LIMIT 1",
                    (ns, who),
                ).fetchone()
                for who in ({None, app_id} if app_id is not None else {None})
            ]
            found = [line for line in lines if line is not None]
            line = min(found) if found else None
            if line is None:
                return None
            entry_id, remaining, spec = line
            if remaining <= 1:
                db.execute("DELETE FROM outcomes WHERE id = ?", (entry_id,))
            else:
                db.execute(
                    "UPDATE outcomes SET remaining = ? WHERE id = ?", (remaining - 1, entry_id)
                )
        return str(spec)

    def queued(self, ns: str) -> list[Queued]:
        with self.store.read() as db:
            lines = db.execute(
                "SELECT id, app_id, remaining, spec FROM outcomes WHERE ns = ? ORDER BY id", (ns,)
            )
            return [Queued(*line) for line in lines]

    def clear_queue(self, ns: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM outcomes WHERE ns = ?", (ns,))

    # -- the request journal ---------------------------------------------------------------

    def append_journal(self, entries: Sequence[dict[str, Any]], keep: int) -> None:
        """Write a batch of entries, then keep only the newest ``keep`` of each namespace."""
        lines = [
            (e["namespace"], e.get("appId"), e.get("status"), dumps(e).decode()) for e in entries
        ]
        with self.store.transaction() as db:
            db.executemany(
                "INSERT INTO journal (ns, app_id, status, entry) VALUES (?, ?, ?, ?)", lines
            )
            for ns in {e["namespace"] for e in entries}:
                db.execute(
                    "DELETE FROM journal WHERE ns = ? AND id <= (SELECT id FROM journal"
                    " WHERE ns = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (ns, ns, keep),
                )

    def journal(
        self,
        ns: str,
        app_id: str | None,
        status: int | None,
        limit: int,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` matching entries of ``ns``, oldest first; with ``after``, the
        oldest ``limit`` matching entries whose id is larger (ids only grow: AUTOINCREMENT)."""
        query = "SELECT id, entry FROM journal WHERE ns = ?"
        args: list[object] = [ns]
        if after is not None:
            query += " AND id > ?"
            args.append(after)
        if app_id is not None:
            query += " AND app_id = ?"
            args.append(app_id)
        if status is not None:
            query += " AND status = ?"
            args.append(status)
        query += " ORDER BY id DESC LIMIT ?" if after is None else " ORDER BY id LIMIT ?"
        args.append(limit)
        with self.store.read() as db:
            lines = db.execute(query, args).fetchall()
        if after is None:
            lines.reverse()
        return [{"id": line[0], **json.loads(line[1])} for line in lines]

    def clear_journal(self, ns: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM journal WHERE ns = ?", (ns,))


def _names(db: sqlite3.Connection) -> Iterable[str]:
    return [line[0] for line in db.execute("SELECT name FROM namespaces ORDER BY name")]


def _put(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def _bump_epoch(db: sqlite3.Connection) -> None:
    db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'epoch'")
