"""Reads of the state kept in memory until the state changes, in this process or in another.

The database keeps a ``generation`` number that triggers move on every change to what is cached:
the orgs, the tokens, a project's org, the control plane's ``meta`` values and its queue of forced
outcomes (a rotation changes none of these). A cache is right as long as the generation is the one
it was filled under. Reading the generation on every lookup would cost a query, so it is read only
when something may have changed: after a write of this process (the store says so), or when
SQLite's ``PRAGMA data_version`` shows that another connection committed since the last look (a
check that reads no table).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Hashable
from typing import Final, TypeVar

T = TypeVar("T")
MAX_ENTRIES: Final = 10_000  # then the cache starts again (unknown tokens are cached too)

GENERATION_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS generation (id INTEGER PRIMARY KEY CHECK (id = 0),"
    " value INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO generation VALUES (0, 0)",
)
_BUMP: Final = "BEGIN UPDATE generation SET value = value + 1; END"
_WATCHED: Final = (
    ("orgs", "INSERT", ""),
    ("orgs", "UPDATE", ""),
    ("orgs", "DELETE", ""),
    ("tokens", "INSERT", ""),
    ("tokens", "UPDATE", ""),
    ("tokens", "DELETE", ""),
    ("projects", "INSERT", ""),
    ("projects", "UPDATE", " OF ns, id, org_id"),  # not sequence: rotations leave it alone
    ("projects", "DELETE", ""),
    ("meta", "INSERT", ""),
    ("meta", "UPDATE", ""),
    ("meta", "DELETE", ""),
    ("outcomes", "INSERT", ""),
    ("outcomes", "DELETE", ""),
)


def generation_triggers(tables: set[str]) -> list[str]:
    """The triggers for those of the watched tables that exist in ``tables``."""
    return [
        f"CREATE TRIGGER IF NOT EXISTS generation_{table}_{event.lower()} AFTER {event}{columns}"
        f" ON {table} {_BUMP}"
        for table, event, columns in _WATCHED
        if table in tables
    ]


class ReadCache:
    """Values read from one connection, dropped when the generation moves. Not thread-safe:
    the store calls it under its lock."""

    def __init__(self, shared: bool) -> None:
        self._shared = shared  # other connections may write (a state file)
        self._data_version: int | None = None
        self._generation: int | None = None
        self._stale = True
        self._values: dict[Hashable, object] = {}

    def mark_stale(self) -> None:
        """This process wrote: read the generation again before the next lookup."""
        self._stale = True

    def get(self, db: sqlite3.Connection, key: Hashable, read: Callable[[], T]) -> T:
        self._check(db)
        try:
            return self._values[key]  # type: ignore[return-value]
        except KeyError:
            pass
        value = read()
        if len(self._values) >= MAX_ENTRIES:
            self._values.clear()
        self._values[key] = value
        return value

    def _check(self, db: sqlite3.Connection) -> None:
        if self._shared:
            version = db.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:
                self._data_version = version
                self._stale = True
        if self._stale:
            generation = db.execute("SELECT value FROM generation").fetchone()[0]
            if generation != self._generation:
                self._generation = generation
                self._values.clear()
            self._stale = False
