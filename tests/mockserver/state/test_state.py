"""The SQLite state: atomic rotations, sequences per project, time that never goes back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ACME, BACKEND, GLOBEX, PORTAL, SHOP, SPA, STOREFRONT, WEB
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.model import Fixtures
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.state.store import SCHEMA_VERSION, StateFileError, Store

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture
def store() -> Store:
    store = Store()
    store.load(demo_fixtures())
    return store


def test_rotation_bumps_the_project_sequence_by_one(store: Store) -> None:
    first = store.rotate(PORTAL, WEB, ACME, "h1", NOW)
    second = store.rotate(PORTAL, SPA, ACME, "h2", NOW + timedelta(seconds=1))
    assert (first.sequence, second.sequence) == (7, 8)  # demo portal starts at 6


def test_sequences_are_per_project(store: Store) -> None:
    store.rotate(PORTAL, WEB, ACME, "h", NOW)
    assert store.rotate(SHOP, STOREFRONT, GLOBEX, "h", NOW).sequence == 4  # demo shop starts at 3


def test_rotation_reports_time_and_the_org_acted_in(store: Store) -> None:
    rotation = store.rotate(PORTAL, WEB, ACME, "h", NOW)
    assert rotation.change_date == NOW
    assert rotation.resource_owner == ACME


def test_change_date_never_goes_back_when_the_clock_does(store: Store) -> None:
    first = store.rotate(PORTAL, WEB, ACME, "h", NOW)
    second = store.rotate(PORTAL, WEB, ACME, "h", NOW - timedelta(hours=1))
    assert second.change_date == first.change_date + timedelta(microseconds=1)


def test_rotation_stores_the_new_hash(store: Store) -> None:
    store.rotate(PORTAL, WEB, ACME, "new-hash", NOW)
    app = store.app_by_client_id("319487671630840321@portal")
    assert app is not None
    assert app.secret_hash == "new-hash"


@pytest.mark.parametrize(
    ("project", "app", "org"),
    [
        (PORTAL, "nope", ACME),
        ("nope", WEB, ACME),
        (PORTAL, STOREFRONT, ACME),
        (SHOP, STOREFRONT, ACME),
    ],
)
def test_unknown_or_foreign_apps_are_not_found_and_change_nothing(
    store: Store, project: str, app: str, org: str
) -> None:
    before = store.fixtures()
    with pytest.raises(MockError) as caught:
        store.rotate(project, app, org, "h", NOW)
    assert caught.value.row is errors.APP_NOT_FOUND
    assert store.fixtures() == before


def test_api_apps_are_not_oidc_and_change_nothing(store: Store) -> None:
    before = store.fixtures()
    with pytest.raises(MockError) as caught:
        store.rotate(PORTAL, BACKEND, ACME, "h", NOW)
    assert caught.value.row is errors.APP_NOT_OIDC
    assert store.fixtures() == before


def test_namespaces_do_not_see_each_other(store: Store) -> None:
    store.load(demo_fixtures(), ns="other")
    store.rotate(PORTAL, WEB, ACME, "h", NOW, ns="other")
    assert store.rotate(PORTAL, WEB, ACME, "h", NOW).sequence == 7


def test_fixtures_round_trip_through_the_state(store: Store) -> None:
    assert store.fixtures() == _sorted(demo_fixtures())


def _sorted(fixtures: Fixtures) -> Fixtures:
    return Fixtures(
        tuple(sorted(fixtures.orgs, key=lambda o: o.id)),
        tuple(sorted(fixtures.projects, key=lambda p: p.id)),
        tuple(sorted(fixtures.apps, key=lambda a: a.id)),
        tuple(sorted(fixtures.tokens, key=lambda t: t.label)),
    )


def test_a_state_file_keeps_rotations_across_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = Store(path)
    assert first.load(demo_fixtures(), only_if_empty=True)
    first.rotate(PORTAL, WEB, ACME, "h", NOW)
    first.close()
    again = Store(path)
    assert not again.load(demo_fixtures(), only_if_empty=True)
    assert again.rotate(PORTAL, WEB, ACME, "h", NOW).sequence == 8


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StateFileError, match="not a usable SQLite state file"):
        Store(path)
    assert path.read_bytes() == b"not a database at all" * 100


def test_a_sqlite_file_of_another_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(StateFileError, match="another program"):
        Store(path)


def test_a_state_file_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateFileError, match="newer than this mock's"):
        Store(path)


def _sequence(store: Store) -> int:
    with store.read() as db:
        return int(
            db.execute("SELECT sequence FROM projects WHERE id = ?", (PORTAL,)).fetchone()[0]
        )


def test_a_write_that_fails_in_its_block_is_rolled_back_and_its_error_goes_on(store: Store) -> None:
    before = _sequence(store)

    def failing_write() -> None:
        with store.transaction() as db:
            db.execute("UPDATE projects SET sequence = sequence + 100 WHERE id = ?", (PORTAL,))
            raise LookupError

    with pytest.raises(LookupError):
        failing_write()
    assert _sequence(store) == before
    with store.transaction() as db:  # the next write starts a transaction of its own
        db.execute("UPDATE projects SET sequence = sequence + 1 WHERE id = ?", (PORTAL,))
    assert _sequence(store) == before + 1


def test_a_failure_of_sqlite_in_a_write_is_state_busy(store: Store) -> None:
    before = _sequence(store)

    def failing_write() -> None:
        with store.transaction() as db:
            db.execute("UPDATE projects SET sequence = sequence + 100 WHERE id = ?", (PORTAL,))
            db.execute("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(MockError) as raised:
        failing_write()
    assert raised.value.row is errors.STATE_BUSY
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
    assert _sequence(store) == before
