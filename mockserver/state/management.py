"""Projects and OIDC apps made and removed through the Management API, in the same tables as
the fixtures' ones: a new app is rotated by the generate-secret calls like any other.

Each change is one write transaction (:meth:`~zitadel_mock.state.store.Store.transaction`) that
counts its events on the project's sequence, as ZITADEL counts them on the project aggregate:
``project.added`` (1), ``project.application.added`` and ``project.application.config.oidc.added``
(2), ``project.removed`` (1). Removing a project removes its apps. A client secret arrives here
only as its encoded hash.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.model import AppType, AuthMethod
from zitadel_mock.state.store import Store, from_micros, to_micros

NewId = Callable[[], str]


class Committed(NamedTuple):
    """What a change committed: the project's sequence after it, its time, the owning org."""

    sequence: int
    date: datetime
    resource_owner: str


class NewApp(NamedTuple):
    """An OIDC app to add. ``secret_hash`` is the encoded hash, never the secret itself."""

    name: str
    auth_method: AuthMethod
    secret_hash: str | None


def add_project(
    store: Store, new_id: NewId, name: str, org_id: str, *, now: datetime, ns: str = ""
) -> tuple[str, Committed]:
    """A new project owned by ``org_id``; its id from ``new_id`` (drawn again on a clash)."""
    micros = to_micros(now)
    with store.transaction() as db:
        project_id = new_id()
        while db.execute(
            "SELECT 1 FROM projects WHERE ns = ? AND id = ?", (ns, project_id)
        ).fetchone():
            project_id = new_id()
        db.execute(
            "INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?)",
            (ns, project_id, name, org_id, 1, micros),
        )
    return project_id, Committed(1, from_micros(micros), org_id)


def add_oidc_app(
    store: Store,
    new_id: NewId,
    project_id: str,
    org_id: str,
    app: NewApp,
    *,
    now: datetime,
    ns: str = "",
) -> tuple[str, str, Committed]:
    """A new OIDC app in the project, which must be ``org_id``'s (else APP_PROJECT_NOT_FOUND).
    Returns the app id, the client id and what was committed."""
    with store.transaction() as db:
        line = db.execute(
            "SELECT sequence, changed_us FROM projects WHERE ns = ? AND id = ? AND org_id = ?",
            (ns, project_id, org_id),
        ).fetchone()
        if line is None:
            raise MockError(errors.APP_PROJECT_NOT_FOUND)
        sequence, changed_us = line
        app_id = _fresh(db, new_id, "SELECT 1 FROM apps WHERE ns = ? AND id = ?", ns)
        client_id = _fresh(db, new_id, "SELECT 1 FROM apps WHERE ns = ? AND client_id = ?", ns)
        micros = max(to_micros(now), changed_us + 1)
        db.execute(
            "UPDATE projects SET sequence = ?, changed_us = ? WHERE ns = ? AND id = ?",
            (sequence + 2, micros, ns, project_id),
        )
        db.execute(
            "INSERT INTO apps VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ns,
                app_id,
                project_id,
                app.name,
                AppType.OIDC.value,
                app.auth_method.value,
                client_id,
                app.secret_hash,
            ),
        )
    return app_id, client_id, Committed(sequence + 2, from_micros(micros), org_id)


def remove_project(
    store: Store, project_id: str, org_id: str, now: datetime, ns: str = ""
) -> Committed:
    """Remove the project and its apps; PROJECT_NOT_FOUND unless ``org_id`` owns it."""
    with store.transaction() as db:
        line = db.execute(
            "SELECT sequence, changed_us FROM projects WHERE ns = ? AND id = ? AND org_id = ?",
            (ns, project_id, org_id),
        ).fetchone()
        if line is None:
            raise MockError(errors.PROJECT_NOT_FOUND)
        sequence, changed_us = line
        micros = max(to_micros(now), changed_us + 1)
        db.execute("DELETE FROM apps WHERE ns = ? AND project_id = ?", (ns, project_id))
        db.execute("DELETE FROM projects WHERE ns = ? AND id = ?", (ns, project_id))
    return Committed(sequence + 1, from_micros(micros), org_id)


def _fresh(db: sqlite3.Connection, new_id: NewId, query: str, ns: str) -> str:
    """An id from ``new_id`` that ``query`` finds no line for (drawn again on a clash)."""
    value = new_id()
    while db.execute(query, (ns, value)).fetchone():
        value = new_id()
    return value
