"""Projects and OIDC apps added and removed in the SQLite state (a real file), beside the
fixtures' ones: ZITADEL's event counts, ownership, and secrets kept only as hashes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ACME, GLOBEX, PORTAL
from zitadel_mock.domain import errors
from zitadel_mock.domain.client_secrets import SecretGenerator, SecretHash, seeded_random_bytes
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.model import AuthMethod
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.operations.service import SecretService
from zitadel_mock.state import management as records
from zitadel_mock.state.store import Store

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
SECRET = SecretGenerator(seeded_random_bytes(3)).generate()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "state.db")
    store.load(demo_fixtures())
    return store


def ids() -> records.NewId:
    counter = itertools.count(900000000000000001)
    return lambda: str(next(counter))


def project_with_app(store: Store) -> tuple[str, str, str]:
    """A new project of ACME with an OIDC app whose secret is SECRET: (project, app, client)."""
    new_id = ids()
    project, _ = records.add_project(store, new_id, "p", ACME, now=NOW)
    new = records.NewApp("web", AuthMethod.BASIC, SecretHash.of(SECRET).encoded)
    app, client, _ = records.add_oidc_app(store, new_id, project, ACME, new, now=NOW)
    return project, app, client


def test_a_new_project_counts_one_event(store: Store) -> None:
    project, done = records.add_project(store, ids(), "p", ACME, now=NOW)
    assert (done.sequence, done.date, done.resource_owner) == (1, NOW, ACME)
    assert store.project_org(project) == ACME


def test_an_id_already_taken_is_drawn_again(store: Store) -> None:
    drawn = iter([PORTAL, "900000000000000009"])
    project, _ = records.add_project(store, lambda: next(drawn), "p", ACME, now=NOW)
    assert project == "900000000000000009"


def test_a_new_app_counts_two_events_and_never_goes_back_in_time(store: Store) -> None:
    project, _ = records.add_project(store, ids(), "p", ACME, now=NOW)
    new = records.NewApp("web", AuthMethod.NONE, None)
    _, _, done = records.add_oidc_app(store, ids(), project, ACME, new, now=NOW - timedelta(days=1))
    assert done.sequence == 3
    assert done.date == NOW + timedelta(microseconds=1)


def test_an_app_in_a_project_of_another_org_is_refused(store: Store) -> None:
    project, _ = records.add_project(store, ids(), "p", ACME, now=NOW)
    new = records.NewApp("web", AuthMethod.NONE, None)
    with pytest.raises(MockError) as raised:
        records.add_oidc_app(store, ids(), project, GLOBEX, new, now=NOW)
    assert raised.value.row is errors.APP_PROJECT_NOT_FOUND


def test_the_new_app_is_rotated_like_a_fixture_app(store: Store) -> None:
    project, app, _ = project_with_app(store)
    assert store.rotate(project, app, ACME, "h", NOW).sequence == 4


def test_the_state_file_holds_the_secrets_hash_not_the_secret(store: Store, tmp_path: Path) -> None:
    _, app, _ = project_with_app(store)
    (kept,) = [a for a in store.fixtures().apps if a.id == app]
    assert kept.secret_hash is not None
    assert SecretHash(kept.secret_hash).matches(SECRET)
    store.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert SECRET.encode() not in stored


def test_removing_a_project_removes_its_apps(store: Store) -> None:
    project, app, client = project_with_app(store)
    service = SecretService(store, SecretGenerator(seeded_random_bytes(1)))
    assert service.client_secret_matches(client, SECRET)
    done = records.remove_project(store, project, ACME, NOW)
    assert done.sequence == 4
    assert not service.client_secret_matches(client, SECRET)
    with pytest.raises(MockError) as raised:
        store.rotate(project, app, ACME, "h", NOW)
    assert raised.value.row is errors.APP_NOT_FOUND


def test_a_removal_that_left_the_apps_would_be_caught(store: Store) -> None:
    """The broken variant of the test above: only the project's line deleted. Its app's secret
    would still authenticate, which is what the check above looks at."""
    project, _, client = project_with_app(store)
    with store.transaction() as db:
        db.execute("DELETE FROM projects WHERE ns = '' AND id = ?", (project,))
    service = SecretService(store, SecretGenerator(seeded_random_bytes(1)))
    assert service.client_secret_matches(client, SECRET)


def test_removing_a_project_of_another_org_is_not_found(store: Store) -> None:
    project, _ = records.add_project(store, ids(), "p", ACME, now=NOW)
    with pytest.raises(MockError) as raised:
        records.remove_project(store, project, GLOBEX, NOW)
    assert raised.value.row is errors.PROJECT_NOT_FOUND
    assert store.project_org(project) == ACME
