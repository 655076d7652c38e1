"""The mock's state in SQLite: in memory by default, or a file shared by several workers.

One connection per process, behind one lock (and, for a state file, a second one that only
checkpoints its log, on a thread of its own: :mod:`zitadel_mock.state.checkpoints`). Every
rotation is one ``BEGIN IMMEDIATE`` transaction that checks the app (v1's rows 10 and 11; for
v2, :meth:`Store.rotate_app` runs the operation's checks inside it), bumps the project's
sequence and stores the new secret hash, so no two rotations ever share a sequence, whatever API
made them, and none is half-written.

Every table carries a namespace column; the default namespace is ``""``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, NamedTuple, TypeVar

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.model import (
    App,
    AppType,
    Fixtures,
    Org,
    Principal,
    Project,
    Token,
)
from zitadel_mock.state.checkpoints import BACKSTOP_PAGES, Checkpointer
from zitadel_mock.state.readcache import GENERATION_SCHEMA, ReadCache, generation_triggers
from zitadel_mock.state.tables import TABLES, app_from_line, read_principal, replace_namespace

T = TypeVar("T")
SCHEMA_VERSION: Final = 1
BUSY_TIMEOUT_MS: Final = 1000
APPLICATION_ID: Final = 0x5A4D4F43  # "ZMOC": marks a file as this mock's state
# ``dev:ino:path`` of the state file as the supervisor opened it, set by
# zitadel_mock.server.serving.serve_workers for its workers: a worker never opens another file
# at that path (one deleted or replaced since), which would be a second truth.
PIN_ENV: Final = "ZITADEL_MOCK_STATE_PIN"
IDENTITY_CHECK_EVERY: Final = (
    0.25  # seconds between two checks on the read path; every write checks
)

log = logging.getLogger("zitadel_mock.state")

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS orgs (
    ns TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (ns, id));
CREATE TABLE IF NOT EXISTS projects (
    ns TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, org_id TEXT NOT NULL,
    sequence INTEGER NOT NULL, changed_us INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ns, id));
CREATE TABLE IF NOT EXISTS apps (
    ns TEXT NOT NULL, id TEXT NOT NULL, project_id TEXT NOT NULL, name TEXT NOT NULL,
    type TEXT NOT NULL, auth_method TEXT, client_id TEXT, secret_hash TEXT,
    PRIMARY KEY (ns, id));
CREATE INDEX IF NOT EXISTS apps_by_client ON apps (ns, client_id);
CREATE TABLE IF NOT EXISTS tokens (
    ns TEXT NOT NULL, digest TEXT NOT NULL, label TEXT NOT NULL, user_id TEXT NOT NULL,
    org_id TEXT NOT NULL, expires_at TEXT, memberships TEXT NOT NULL,
    PRIMARY KEY (ns, digest));
"""


class StateFileError(RuntimeError):
    """A state file that cannot be used: corrupt, foreign, from a newer schema, or not the file
    the other workers use."""


def file_identity(path: str) -> tuple[int, int]:
    """(device, inode) of ``path``; OSError if it is gone."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def pinned_identity(path: str) -> tuple[int, int] | None:
    """The identity :data:`PIN_ENV` gives ``path``, if it names that path."""
    pin = os.environ.get(PIN_ENV, "")
    dev, _, rest = pin.partition(":")
    ino, _, pinned_path = rest.partition(":")
    if not pinned_path or os.path.abspath(pinned_path) != os.path.abspath(path):
        return None
    return int(dev), int(ino)


class Credentials(NamedTuple):
    """What a namespace's live credentials can be recognised by: its bearer tokens' digests and
    its apps' salted secret hashes by app id (never a plaintext)."""

    token_digests: frozenset[str]
    secret_hashes: Mapping[str, str]

    def with_secret(self, app_id: str, secret_hash: str) -> Credentials:
        """These credentials after a rotation of ``app_id`` to ``secret_hash``."""
        return Credentials(self.token_digests, {**self.secret_hashes, app_id: secret_hash})


class Rotation(NamedTuple):  # a tuple, not a frozen dataclass: made on every rotation
    """What a rotation committed: the project's new sequence, its time and the owning org."""

    sequence: int
    change_date: datetime
    resource_owner: str


FIRST_PAUSE: Final = 20e-6  # seconds: another process's write holds the lock for tens of µs
LONGEST_PAUSE: Final = 1e-3


def begin_immediate(db: sqlite3.Connection, patience: float) -> None:
    """``BEGIN IMMEDIATE``; while another process holds the write lock, tried again after pauses
    from :data:`FIRST_PAUSE`, doubling up to :data:`LONGEST_PAUSE`, for up to ``patience``
    seconds, then SQLite's busy error is raised.

    Not SQLite's busy handler: it sleeps 1, 2, 5, 10, 15, 20, 25 ms and on, while the other
    worker's rotation holds the lock for a few dozen µs; two workers on one file made every tenth
    rotation wait a millisecond or more (strace: 665 ms asleep in 5 s of one worker under wrk),
    and with it every request behind it on that worker's event loop."""
    try:
        db.execute("BEGIN IMMEDIATE")
        return
    except sqlite3.OperationalError as exc:
        if patience <= 0 or exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
            raise
    deadline = time.monotonic() + patience
    pause = FIRST_PAUSE
    while True:
        time.sleep(pause)
        try:
            db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
        pause = min(pause * 2, LONGEST_PAUSE)


class Write:
    """A write transaction on ``db`` as a context manager: ``BEGIN IMMEDIATE``, then ``COMMIT``,
    or ``ROLLBACK`` if the block (or the commit) fails; SQLite's failures become STATE_BUSY.
    Under ``lock`` if given; ``before`` runs under the lock before the transaction begins (what
    it raises is raised, nothing else runs); ``after`` runs once the transaction ends, however
    it ends, before the lock is released. A class, not a generator: it runs on every rotation,
    and two generator-based context managers cost about 2 µs there."""

    __slots__ = ("_after", "_before", "_db", "_lock", "_patience")

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.RLock | None = None,
        after: Callable[[], None] | None = None,
        *,
        before: Callable[[], None] | None = None,
        patience: float = 0.0,
    ) -> None:
        self._db = db
        self._lock = lock
        self._after = after
        self._before = before
        self._patience = patience  # seconds to wait for another process's write lock

    def __enter__(self) -> sqlite3.Connection:
        if self._lock is not None:
            self._lock.acquire()
        if self._before is not None:
            try:
                self._before()
            except BaseException:
                if self._lock is not None:
                    self._lock.release()
                raise
        try:
            begin_immediate(self._db, self._patience)
        except BaseException as exc:
            self._end()
            if isinstance(exc, sqlite3.Error):
                raise MockError(errors.STATE_BUSY) from exc
            raise
        return self._db

    def __exit__(self, kind: object, exc: BaseException | None, trace: object) -> None:
        try:
            if exc is None:
                try:
                    self._db.execute("COMMIT")
                except BaseException as failure:
                    self._roll_back(failure)
                    raise
            else:
                self._roll_back(exc)
        finally:
            self._end()

    def _roll_back(self, exc: BaseException) -> None:
        """Undo the transaction; a failure of SQLite's is raised as STATE_BUSY, any other goes
        on as it is (the caller re-raises it)."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise MockError(errors.STATE_BUSY) from exc

    def _end(self) -> None:
        try:
            if self._after is not None:
                self._after()
        finally:
            if self._lock is not None:
                self._lock.release()


def to_micros(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def from_micros(micros: int) -> datetime:
    return datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)


class Store:
    """SQLite-backed state. ``path`` None keeps it in memory for this process alone.

    With a file, several processes share it: WAL lets readers run beside the one writer, and a
    writer that cannot get the lock within ``busy_timeout_ms`` gets STATE_BUSY (UNAVAILABLE,
    retry-able) instead of waiting longer. Any other database failure is STATE_BUSY too, never a
    half-written change: every change is one transaction.
    """

    def __init__(
        self, path: str | Path | None = None, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> None:
        self.path = str(path) if path is not None else None
        self._busy_timeout_ms = busy_timeout_ms
        self._lock = threading.RLock()
        self._cache = ReadCache(shared=self.path is not None)
        self._writes = 0  # write transactions this process began (own commits move no data_version)
        self._credentials: dict[str, tuple[tuple[int, int], Credentials]] = {}
        self._lost: str | None = None  # why this store no longer answers (sticky)
        self._identity: tuple[int, int] | None = None
        self._checked_at = 0.0
        self._read_only = False
        self._checkpoints: Checkpointer | None = None
        if self.path is not None:
            self._refuse_a_second_truth(self.path)
        self._db = self._open()
        if self.path is not None:
            try:
                self._identity = file_identity(self.path)
            except OSError as exc:
                self._db.close()
                raise StateFileError(f"the state file {self.path} went away: {exc}") from None
            self._checkpoints = Checkpointer(self.path, self, self._connect_for_checkpoints)
            # From now on a write waits for another process's lock in begin_immediate's short
            # pauses, not in SQLite's busy handler (reads in WAL mode do not wait for writers).
            self._db.execute("PRAGMA busy_timeout = 0")

    def _connect_for_checkpoints(self, path: str) -> sqlite3.Connection:
        # timeout=0: no busy handler, which would sleep 1 ms and more while holding the writer's
        # lock in a RESTART checkpoint (zitadel_mock.state.checkpoints)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
        db.execute("PRAGMA mmap_size = 0")
        return db

    def checkpoint_allowed(self) -> bool:
        """Whether the checkpoint thread may write the state file now: not once it is lost, nor
        while it or its WAL files are read-only (the request path's own guards)."""
        with self._lock:
            try:
                self.check_file(force=False)
                self.check_writable()
            except MockError:
                return False
        return True

    @staticmethod
    def _refuse_a_second_truth(path: str) -> None:
        pinned = pinned_identity(path)
        if pinned is None:
            return
        try:
            current: tuple[int, int] | None = file_identity(path)
        except OSError:
            current = None
        if current != pinned:
            what = "was deleted" if current is None else "was replaced"
            raise StateFileError(
                f"the state file {path} {what} since the mock started; not opening a second state"
            )

    # -- one truth or none -----------------------------------------------------------------

    def check_file(self, force: bool = True) -> None:
        """Raise STATE_LOST if the state file was deleted or replaced since it was opened (then
        for good, logged once). Without ``force`` it checks at most every
        :data:`IDENTITY_CHECK_EVERY` seconds."""
        if self._lost is not None:
            raise MockError(errors.STATE_LOST)
        if self._identity is None or self.path is None:
            return
        now = time.monotonic()
        if not force and now - self._checked_at < IDENTITY_CHECK_EVERY:
            return
        self._checked_at = now
        try:
            same = file_identity(self.path) == self._identity
        except OSError:
            same = False
        if not same:
            self.lose(f"the state file {self.path} was deleted or replaced while serving")

    def lose(self, reason: str) -> None:
        """Stop answering from this state for good: every call is STATE_LOST from now on."""
        if self._lost is None:
            self._lost = reason
            log.error("%s; every request is answered UNAVAILABLE until a restart", reason)
        raise MockError(errors.STATE_LOST)

    @property
    def lost(self) -> str | None:
        return self._lost

    def check_writable(self) -> None:
        """Raise STATE_LOST (logged once per spell) while the state file or its WAL files are
        read-only or immutable: a write would fail part-way, or fault on the mapped WAL index
        (SIGBUS), instead of being refused. Cleared once they are writable again."""
        if self.path is None:
            return
        blocked = [
            name
            for name in (self.path, self.path + "-wal", self.path + "-shm")
            if not os.access(name, os.W_OK) and os.path.exists(name)
        ]
        if not blocked:
            if self._read_only:
                self._read_only = False
                log.warning("the state file %s is writable again", self.path)
            return
        if not self._read_only:
            self._read_only = True
            log.error(
                "the state file %s is read-only or immutable (%s); changes are answered"
                " UNAVAILABLE",
                self.path,
                ", ".join(blocked),
            )
        raise MockError(errors.STATE_LOST)

    def _open(self) -> sqlite3.Connection:
        target = self.path if self.path is not None else ":memory:"
        try:
            db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StateFileError(f"cannot open the state file {target}: {exc}") from None
        if self.path is not None and os.path.exists(target) and not os.access(target, os.W_OK):
            db.close()
            raise StateFileError(f"{target} is read-only or immutable; the mock must write it")
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            db.execute("PRAGMA mmap_size = 0")  # no mapped pages of the file: I/O errors, no SIGBUS
            application_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
            check = db.execute("PRAGMA quick_check").fetchone()[0] if tables else "ok"
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StateFileError(f"{target} is not a usable SQLite state file ({exc})") from None
        if check != "ok":
            db.close()
            raise StateFileError(f"{target} is damaged ({check}); not touching it")
        if tables and application_id != APPLICATION_ID:
            db.close()
            raise StateFileError(f"{target} is a SQLite file of another program; not touching it")
        if version > SCHEMA_VERSION:
            db.close()
            raise StateFileError(
                f"{target} has state schema {version}, newer than this mock's {SCHEMA_VERSION}"
            )
        if self.path is not None:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            # Checkpoints run on a thread of their own (state/checkpoints.py); this is the backstop.
            db.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
        db.execute("PRAGMA foreign_keys = OFF")
        try:
            with self._write(db):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                for statement in (*GENERATION_SCHEMA, *generation_triggers(set(TABLES))):
                    db.execute(statement)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except MockError:
            db.close()
            raise StateFileError(f"{target} stayed locked by another process") from None
        return db

    @staticmethod
    def _write(db: sqlite3.Connection) -> Write:
        return Write(db)

    def transaction(self, keeps_cache: bool = False) -> Write:
        """One write transaction under the process lock. ``keeps_cache``: the caller changes
        nothing that :meth:`cached` reads may hold (see :mod:`zitadel_mock.state.readcache`)."""
        return Write(
            self._db,
            self._lock,
            None if keeps_cache else self._cache.mark_stale,
            before=self._check_before_write,
            patience=self._busy_timeout_ms / 1000 if self.path is not None else 0.0,
        )

    def _check_before_write(self) -> None:
        self.check_file()
        self.check_writable()
        self._writes += 1

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads, under the process lock; database failures are STATE_BUSY."""
        with self._lock:
            self.check_file(force=False)
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise MockError(errors.STATE_BUSY) from exc

    def cached(self, key: Hashable, read: Callable[[sqlite3.Connection], T]) -> T:
        """``read(db)``, or what it returned before if the cached state has not changed since."""
        with self._lock:  # as read(), without a context manager: this runs on every request
            self.check_file(force=False)
            try:
                return self._cache.get(self._db, key, lambda: read(self._db))
            except sqlite3.Error as exc:
                raise MockError(errors.STATE_BUSY) from exc

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
        with self._lock:
            self._db.close()

    # -- loading ---------------------------------------------------------------------------

    def load(self, fixtures: Fixtures, ns: str = "", only_if_empty: bool = False) -> bool:
        """Replace everything in namespace ``ns`` with ``fixtures``, in one transaction.

        With ``only_if_empty`` a namespace that already holds orgs is left as it is (a state file
        that is being reopened); returns whether the fixtures were loaded.
        """
        with self.transaction() as db:
            if (
                only_if_empty
                and db.execute("SELECT 1 FROM orgs WHERE ns = ? LIMIT 1", (ns,)).fetchone()
            ):
                return False
            replace_namespace(db, fixtures, ns)
        return True

    # -- reads -----------------------------------------------------------------------------

    def principal(self, digest: str, ns: str = "") -> Principal | None:
        return self.cached(("principal", digest, ns), lambda db: read_principal(db, digest, ns))

    def org_exists(self, org_id: str, ns: str = "") -> bool:
        return self.cached(
            ("org", org_id, ns),
            lambda db: (
                db.execute("SELECT 1 FROM orgs WHERE ns = ? AND id = ?", (ns, org_id)).fetchone()
                is not None
            ),
        )

    def project_org(self, project_id: str, ns: str = "") -> str | None:
        def read(db: sqlite3.Connection) -> str | None:
            line = db.execute(
                "SELECT org_id FROM projects WHERE ns = ? AND id = ?", (ns, project_id)
            ).fetchone()
            return str(line[0]) if line else None

        return self.cached(("project_org", project_id, ns), read)

    def app_by_client_id(self, client_id: str, ns: str = "") -> App | None:
        with self.read() as db:
            line = db.execute(
                "SELECT id, project_id, name, type, auth_method, client_id, secret_hash"
                " FROM apps WHERE ns = ? AND client_id = ?",
                (ns, client_id),
            ).fetchone()
        return app_from_line(line) if line else None

    def credentials(self, ns: str = "") -> Credentials:
        """The namespace's :class:`Credentials`, read again only when something may have changed
        them: a write of this process other than a rotation (a rotation updates them in place),
        or a commit of another (``PRAGMA data_version``, for a state file)."""
        with self._lock:
            self.check_file(force=False)
            try:
                stamp = self._credentials_stamp()
                known = self._credentials.get(ns)
                if known is not None and known[0] == stamp:
                    return known[1]
                tokens = self._db.execute("SELECT digest FROM tokens WHERE ns = ?", (ns,))
                digests = frozenset(d for (d,) in tokens)
                hashes = self._db.execute(
                    "SELECT id, secret_hash FROM apps WHERE ns = ? AND secret_hash IS NOT NULL",
                    (ns,),
                )
                credentials = Credentials(digests, dict(hashes.fetchall()))
            except sqlite3.Error as exc:
                raise MockError(errors.STATE_BUSY) from exc
            if len(self._credentials) >= 4096:
                self._credentials.clear()
            self._credentials[ns] = (stamp, credentials)
            return credentials

    def _credentials_stamp(self) -> tuple[int, int]:
        """What the cached credentials were read under: this process's writes so far and, for a
        state file, SQLite's count of other connections' commits. Call under the lock."""
        shared = self.path is not None
        version = self._db.execute("PRAGMA data_version").fetchone()[0] if shared else 0
        return self._writes, int(version)

    def _unchanged(self, ns: str, writes_before: int) -> None:
        """A rotation was refused (unknown app, wrong type, busy state) and rolled back: the
        cached credentials of ``ns`` still hold if they were current before it
        (``writes_before``: this process's writes then) and its transaction was the only write
        since. Call under the same hold of the lock."""
        known = self._credentials.get(ns)
        if known is None or self._writes != writes_before + 1:
            return  # no transaction was begun, or the cache was stale before
        try:
            stamp = self._credentials_stamp()
        except sqlite3.Error:
            return
        if known[0] == (writes_before, stamp[1]):
            self._credentials[ns] = (stamp, known[1])

    def _rotated(self, ns: str, app_id: str, secret_hash: str) -> None:
        """Bring the cached credentials of ``ns`` up to the rotation this process just committed
        (under the same hold of the lock), if they were current up to it: read under the write
        before this one and under the commit count of other connections that still holds (own
        commits leave ``data_version`` alone). Otherwise they are read again when asked for."""
        known = self._credentials.get(ns)
        if known is None:
            return
        try:
            stamp = self._credentials_stamp()
        except sqlite3.Error:
            stamp = (-1, -1)
        if known[0] != (stamp[0] - 1, stamp[1]):
            del self._credentials[ns]
            return
        self._credentials[ns] = (stamp, known[1].with_secret(app_id, secret_hash))

    def fixtures(self, ns: str = "") -> Fixtures:
        """Everything in namespace ``ns``, as records (secrets only as hashes)."""
        with self.read() as db:
            orgs = db.execute("SELECT id, name FROM orgs WHERE ns = ? ORDER BY id", (ns,))
            org_list = tuple(Org(*r) for r in orgs)
            projects = db.execute(
                "SELECT id, name, org_id, sequence FROM projects WHERE ns = ? ORDER BY id", (ns,)
            )
            project_list = tuple(Project(*r) for r in projects)
            apps = db.execute(
                "SELECT id, project_id, name, type, auth_method, client_id, secret_hash"
                " FROM apps WHERE ns = ? ORDER BY id",
                (ns,),
            )
            app_list = tuple(app_from_line(r) for r in apps)
            tokens = db.execute(
                "SELECT digest, label FROM tokens WHERE ns = ? ORDER BY label", (ns,)
            ).fetchall()
        token_list = []
        for digest, label in tokens:
            principal = self.principal(digest, ns)
            assert principal is not None
            token_list.append(Token(digest=digest, label=label, principal=principal))
        return Fixtures(org_list, project_list, app_list, tuple(token_list))

    # -- the rotation ----------------------------------------------------------------------

    def rotate(
        self,
        project_id: str,
        app_id: str,
        org_id: str,
        secret_hash: str,
        now: datetime,
        *,
        ns: str = "",
    ) -> Rotation:
        """Replace the app's secret hash and bump its project's sequence, atomically.

        Raises APP_NOT_FOUND when the project or app is unknown or owned by another org than
        ``org_id``, and APP_NOT_OIDC for API and SAML apps (ZITADEL checks 10 and 11).
        """
        with self._lock:  # the commit and the cached credentials' update, together
            writes_before = self._writes
            try:
                with self.transaction(keeps_cache=True) as db:  # sequence, secret: not cached
                    # The checks and the bump in one statement; changeDate never goes back,
                    # even if the wall clock does.
                    bumped = db.execute(
                        "UPDATE projects SET sequence = sequence + 1,"
                        " changed_us = max(?, changed_us + 1)"
                        " WHERE ns = ? AND id = ? AND org_id = ? AND EXISTS (SELECT 1 FROM apps"
                        " a WHERE a.ns = projects.ns AND a.id = ? AND a.project_id = projects.id"
                        " AND a.type = ?) RETURNING sequence, changed_us",
                        (to_micros(now), ns, project_id, org_id, app_id, AppType.OIDC.value),
                    ).fetchone()
                    if bumped is None:
                        raise MockError(self._why_not_rotated(db, ns, project_id, app_id, org_id))
                    sequence, micros = bumped
                    db.execute(
                        "UPDATE apps SET secret_hash = ? WHERE ns = ? AND id = ?",
                        (secret_hash, ns, app_id),
                    )
            except MockError:
                self._unchanged(ns, writes_before)
                raise
            self._rotated(ns, app_id, secret_hash)
        return Rotation(sequence, from_micros(micros), org_id)

    @staticmethod
    def _why_not_rotated(
        db: sqlite3.Connection, ns: str, project_id: str, app_id: str, org_id: str
    ) -> errors.Row:
        """ZITADEL's check 10 or 11 that a v1 rotation failed: APP_NOT_FOUND when the project or
        app is unknown or owned by another org, APP_NOT_OIDC for API and SAML apps."""
        line = db.execute(
            "SELECT a.type FROM apps a JOIN projects p ON p.ns = a.ns AND p.id = a.project_id"
            " WHERE a.ns = ? AND a.id = ? AND a.project_id = ? AND p.org_id = ?",
            (ns, app_id, project_id, org_id),
        ).fetchone()
        return errors.APP_NOT_FOUND if line is None else errors.APP_NOT_OIDC

    # -- the v2 rotation (ZITADEL-v2.md section 4) -----------------------------------------

    def rotate_app(
        self,
        project_id: str,
        app_id: str,
        new_hash: Callable[[], str],
        now: datetime,
        *,
        check: Callable[[tuple[AppType, str] | None], None],
        ns: str = "",
    ) -> Rotation:
        """Look the app up in any org, let ``check`` refuse it, then store ``new_hash()`` and
        bump the project's sequence, all in one transaction.

        ``check`` gets the app's type and owning org (None when the app or its project is
        unknown) and raises to refuse; nothing is written then. No type check of its own: v2's
        command has none.
        """
        with self._lock:  # the commit and the cached credentials' update, together
            writes_before = self._writes
            try:
                with self.transaction(keeps_cache=True) as db:
                    row = db.execute(
                        "SELECT a.type, p.org_id, p.sequence, p.changed_us FROM apps a"
                        " JOIN projects p ON p.ns = a.ns AND p.id = a.project_id"
                        " WHERE a.ns = ? AND a.id = ? AND a.project_id = ?",
                        (ns, app_id, project_id),
                    ).fetchone()
                    check((AppType(row[0]), str(row[1])) if row else None)
                    assert row is not None  # check refuses an unknown app
                    _, org_id, sequence, changed_us = row
                    micros = max(to_micros(now), changed_us + 1)
                    db.execute(
                        "UPDATE projects SET sequence = ?, changed_us = ? WHERE ns = ? AND id = ?",
                        (sequence + 1, micros, ns, project_id),
                    )
                    secret_hash = new_hash()
                    db.execute(
                        "UPDATE apps SET secret_hash = ? WHERE ns = ? AND id = ?",
                        (secret_hash, ns, app_id),
                    )
            except MockError:
                self._unchanged(ns, writes_before)
                raise
            self._rotated(ns, app_id, secret_hash)
        return Rotation(sequence + 1, from_micros(micros), str(org_id))
