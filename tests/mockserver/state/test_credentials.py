"""The store's cached credentials (what the journal's redaction compares header values with):
always what the database holds, read again only when something may have changed them."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ACME, PORTAL, WEB
from zitadel_mock.domain.errors import MockError
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.state.store import Credentials, Store

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def store(path: Path | None = None) -> Store:
    made = Store(path)
    made.load(demo_fixtures(), only_if_empty=path is not None)
    return made


def in_database(made: Store, ns: str = "") -> Credentials:
    with made.read() as db:
        tokens = frozenset(
            d for (d,) in db.execute("SELECT digest FROM tokens WHERE ns = ?", (ns,))
        )
        hashes = db.execute(
            "SELECT id, secret_hash FROM apps WHERE ns = ? AND secret_hash IS NOT NULL", (ns,)
        ).fetchall()
    return Credentials(tokens, dict(hashes))


def test_a_rotation_updates_the_cached_credentials_to_what_it_committed() -> None:
    made = store()
    before = made.credentials()
    made.rotate(PORTAL, WEB, ACME, "sha256$00$new", NOW)
    after = made.credentials()
    assert after == in_database(made)
    assert after.secret_hashes[WEB] == "sha256$00$new"
    others = {app: h for app, h in before.secret_hashes.items() if app != WEB}
    assert {app: h for app, h in after.secret_hashes.items() if app != WEB} == others


def test_a_refused_rotation_keeps_the_cached_credentials_without_reading_them_again() -> None:
    made = store()
    before = made.credentials()
    with pytest.raises(MockError):
        made.rotate(PORTAL, "999", ACME, "sha256$00$never", NOW)
    assert made.credentials() is before
    assert before == in_database(made)


def test_a_rotation_by_another_process_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    here, there = store(path), store(path)
    here.credentials()
    there.rotate(PORTAL, WEB, ACME, "sha256$00$elsewhere", NOW)
    assert here.credentials().secret_hashes[WEB] == "sha256$00$elsewhere"
    here.rotate(PORTAL, WEB, ACME, "sha256$00$here", NOW)  # after the other's commit
    assert here.credentials() == in_database(here)


def test_a_rotation_refused_before_its_transaction_vouches_for_no_older_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token added after the credentials were cached, then a rotation refused before it
    began (the state file turned read-only): the next read must show the token."""
    made = store(tmp_path / "state.db")
    made.credentials()
    fixtures = demo_fixtures()
    extra = replace(fixtures.tokens[0], digest="ab" * 32, label="added-later")
    made.load(replace(fixtures, tokens=(*fixtures.tokens, extra)))
    monkeypatch.setattr(os, "access", lambda *_args, **_kwargs: False)  # read-only files
    with pytest.raises(MockError):
        made.rotate(PORTAL, WEB, ACME, "sha256$00$refused", NOW)
    monkeypatch.undo()
    assert "ab" * 32 in made.credentials().token_digests
