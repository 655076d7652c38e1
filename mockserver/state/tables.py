"""Lines of the state's tables (SQLite rows; "row" is the error catalogue's word) to records and
back; the namespace-wide writes.

Kept apart from :mod:`zitadel_mock.state.store` (connections, transactions, the rotation) so that
each stays small; the control plane uses the namespace writes inside its own transactions.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Final

from zitadel_mock.domain.model import (
    App,
    AppType,
    AuthMethod,
    Fixtures,
    Membership,
    Principal,
    Scope,
    Token,
)

TABLES: Final = ("orgs", "projects", "apps", "tokens")  # every table a namespace has lines in


def delete_namespace(db: sqlite3.Connection, ns: str) -> None:
    """Remove everything of namespace ``ns``; call inside a write transaction."""
    for table in TABLES:
        db.execute(f"DELETE FROM {table} WHERE ns = ?", (ns,))


def replace_namespace(db: sqlite3.Connection, fixtures: Fixtures, ns: str) -> None:
    """Make namespace ``ns`` hold exactly ``fixtures``; call inside a write transaction."""
    delete_namespace(db, ns)
    db.executemany("INSERT INTO orgs VALUES (?, ?, ?)", [(ns, o.id, o.name) for o in fixtures.orgs])
    db.executemany(
        "INSERT INTO projects VALUES (?, ?, ?, ?, ?, 0)",
        [(ns, p.id, p.name, p.org_id, p.sequence) for p in fixtures.projects],
    )
    db.executemany(
        "INSERT INTO apps VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                ns,
                a.id,
                a.project_id,
                a.name,
                a.type.value,
                a.auth_method.value if a.auth_method else None,
                a.client_id,
                a.secret_hash,
            )
            for a in fixtures.apps
        ],
    )
    db.executemany(
        "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?)",
        [token_line(ns, t) for t in fixtures.tokens],
    )


def token_line(ns: str, token: Token) -> tuple[str, str, str, str, str, str | None, str]:
    principal = token.principal
    memberships = json.dumps(
        [
            {"scope": m.scope.value, "id": m.target_id, "roles": list(m.roles)}
            for m in principal.memberships
        ]
    )
    expires = principal.expires_at.isoformat() if principal.expires_at else None
    return (
        ns,
        token.digest,
        token.label,
        principal.user_id,
        principal.org_id,
        expires,
        memberships,
    )


def read_principal(db: sqlite3.Connection, digest: str, ns: str) -> Principal | None:
    line = db.execute(
        "SELECT user_id, org_id, expires_at, memberships FROM tokens WHERE ns = ? AND digest = ?",
        (ns, digest),
    ).fetchone()
    if line is None:
        return None
    user_id, org_id, expires_at, memberships = line
    return Principal(
        user_id=user_id,
        org_id=org_id,
        memberships=tuple(
            Membership(Scope(m["scope"]), tuple(m["roles"]), m["id"])
            for m in json.loads(memberships)
        ),
        expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
    )


def app_from_line(line: tuple[str, str, str, str, str | None, str | None, str | None]) -> App:
    app_id, project_id, name, app_type, auth_method, client_id, secret_hash = line
    return App(
        id=app_id,
        project_id=project_id,
        name=name,
        type=AppType(app_type),
        auth_method=AuthMethod(auth_method) if auth_method else None,
        client_id=client_id,
        secret_hash=secret_hash,
    )
