"""Cached reads of the state: what authorization and the control plane read per request stays
in memory, and any change to it, by this process, another process or a plain SQLite client, is
seen by the very next read."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ACME, GLOBEX, PORTAL, WEB
from zitadel_mock.domain.client_secrets import token_digest
from zitadel_mock.domain.model import Fixtures
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.state.control_store import ControlStore
from zitadel_mock.state.store import Store
from zitadel_mock.state.tables import replace_namespace

ADMIN = token_digest("admin-pat")
NOW = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two stores on one state file, as two worker processes have them."""
    path = tmp_path / "state.db"
    one, two = Store(path), Store(path)
    one.load(demo_fixtures())
    yield one, two
    one.close()
    two.close()


def change(store: Store, fixtures: Fixtures) -> None:
    """Make the default namespace hold ``fixtures``, through ``store``."""
    with store.transaction() as db:
        replace_namespace(db, fixtures, "")


def generation(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT value FROM generation").fetchone()[0])


def test_a_token_deleted_by_another_worker_is_unknown_at_the_next_read(
    workers: tuple[Store, Store],
) -> None:
    one, two = workers
    assert two.principal(ADMIN) is not None  # now cached in worker two
    fixtures = demo_fixtures()
    change(one, dataclasses.replace(fixtures, tokens=fixtures.tokens[1:]))
    assert two.principal(ADMIN) is None


def test_an_org_created_or_deleted_by_another_worker_is_seen_at_the_next_read(
    workers: tuple[Store, Store],
) -> None:
    one, two = workers
    fixtures: Fixtures = demo_fixtures()
    assert two.org_exists(GLOBEX)
    acme_only = tuple(o for o in fixtures.orgs if o.id == ACME)
    change(one, dataclasses.replace(fixtures, orgs=acme_only, projects=(), apps=()))
    assert not two.org_exists(GLOBEX)
    change(one, fixtures)
    assert two.org_exists(GLOBEX)


def test_a_project_moved_to_another_org_by_another_worker_is_seen_at_the_next_read(
    workers: tuple[Store, Store],
) -> None:
    one, two = workers
    fixtures = demo_fixtures()
    assert two.project_org(PORTAL) == ACME
    moved = tuple(
        dataclasses.replace(p, org_id=GLOBEX) if p.id == PORTAL else p for p in fixtures.projects
    )
    change(one, dataclasses.replace(fixtures, projects=moved))
    assert two.project_org(PORTAL) == GLOBEX


def test_a_change_made_with_a_plain_sqlite_client_is_seen_at_the_next_read(
    workers: tuple[Store, Store], tmp_path: Path
) -> None:
    _, two = workers
    assert two.org_exists(GLOBEX)
    with sqlite3.connect(tmp_path / "state.db") as db:
        db.execute("DELETE FROM orgs WHERE id = ?", (GLOBEX,))
    assert not two.org_exists(GLOBEX)


def test_a_write_of_this_process_is_seen_at_the_next_read_in_memory_too() -> None:
    store = Store()
    store.load(demo_fixtures())
    assert store.principal(ADMIN) is not None
    store.load(dataclasses.replace(demo_fixtures(), tokens=()))
    assert store.principal(ADMIN) is None


def test_a_queued_outcome_of_another_worker_shows_in_the_next_pulse(
    workers: tuple[Store, Store],
) -> None:
    one, two = workers
    control_one, control_two = ControlStore(one), ControlStore(two)
    assert not control_two.pulse("").queued
    control_one.enqueue("", None, 1, "code=404")
    assert control_two.pulse("").queued
    assert control_two.consume("", None) == "code=404"
    assert not control_one.pulse("").queued


def test_a_rotation_leaves_the_cached_reads_valid(
    workers: tuple[Store, Store], tmp_path: Path
) -> None:
    one, _ = workers
    before = generation(tmp_path / "state.db")
    one.rotate(PORTAL, WEB, ACME, "hash", NOW)
    assert generation(tmp_path / "state.db") == before


def test_every_change_to_what_is_cached_moves_the_generation(
    workers: tuple[Store, Store], tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    statements = [
        ("INSERT INTO orgs VALUES ('', '1', 'o')", ()),
        ("UPDATE orgs SET name = 'p' WHERE id = '1'", ()),
        ("DELETE FROM orgs WHERE id = '1'", ()),
        ("UPDATE tokens SET org_id = ? WHERE digest = ?", (GLOBEX, ADMIN)),
        ("DELETE FROM tokens WHERE digest = ?", (ADMIN,)),
        ("UPDATE projects SET org_id = ? WHERE id = ?", (GLOBEX, PORTAL)),
        ("DELETE FROM projects WHERE id = ?", (PORTAL,)),
    ]
    for statement, arguments in statements:
        before = generation(path)
        with sqlite3.connect(path) as db:
            db.execute(statement, arguments)
        assert generation(path) == before + 1, statement
