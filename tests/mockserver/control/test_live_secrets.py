"""The journal's redaction of live secrets, as the control plane keeps it cheap: secrets issued
here known by a keyed digest, the others by their salted hash, each word's answer remembered.
Each test would fail if a remembered "not a secret" outlived the moment the word became one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import PORTAL, WEB
from zitadel_mock.control.journal import REDACTED
from zitadel_mock.control.plane import ControlPlane
from zitadel_mock.domain.client_secrets import (
    SecretGenerator,
    SecretHash,
    seeded_random_bytes,
    system_random_bytes,
)
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.operations.service import SecretService
from zitadel_mock.state.store import Store

SEED = 20261201


def plane(path: Path | None = None, seed: int | None = None) -> ControlPlane:
    store = Store(path)
    store.load(demo_fixtures(), only_if_empty=path is not None)
    random_bytes = system_random_bytes() if seed is None else seeded_random_bytes(seed)
    generator = SecretGenerator(random_bytes)
    return ControlPlane(SecretService(store, generator), demo_fixtures(), "digest")


def next_secret(seed: int) -> str:
    """The first secret a generator seeded with ``seed`` issues."""
    return SecretGenerator(seeded_random_bytes(seed)).generate()


def rotate(control: ControlPlane) -> str:
    service = control.service
    caller = service.authorize("Bearer admin-pat", None, PORTAL)
    return service.rotate(caller, PORTAL, WEB).client_secret


def recorded(control: ControlPlane, *headers: tuple[str, str]) -> dict[str, str]:
    call = control.begin(
        transport="rest", method="POST", path="/x", headers=list(headers), app_id=WEB
    )
    return call.headers


@pytest.mark.parametrize("seed", [None, SEED], ids=["csprng", "seeded"])
def test_a_secret_issued_here_is_redacted_as_a_word_and_stays_redacted_once_replaced(
    seed: int | None,
) -> None:
    control = plane(seed=seed)
    first = rotate(control)
    assert recorded(control, ("x-sig", f"v1; sig={first}")) == {"x-sig": REDACTED}
    second = rotate(control)
    assert recorded(control, ("x-old", first), ("x-new", second), ("x-plain", "harmless")) == {
        "x-old": REDACTED,
        "x-new": REDACTED,
        "x-plain": "harmless",
    }


def test_a_word_seen_before_this_process_issues_it_as_a_secret_is_redacted_after() -> None:
    control = plane(seed=SEED)
    coming = next_secret(SEED)
    assert recorded(control, ("x-early", coming)) == {"x-early": coming}  # not a secret yet
    assert rotate(control) == coming
    assert recorded(control, ("x-early", coming)) == {"x-early": REDACTED}


def test_a_word_seen_before_another_worker_issues_it_is_redacted_after(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    here = plane(path)
    there = plane(path, seed=SEED)
    coming = next_secret(SEED)
    assert recorded(here, ("x-early", f"a {coming} b")) == {"x-early": f"a {coming} b"}
    assert rotate(there) == coming
    assert recorded(here, ("x-early", f"a {coming} b")) == {"x-early": REDACTED}


def test_a_secret_loaded_with_fixtures_is_redacted_though_never_issued_here() -> None:
    control = plane()
    assert recorded(control, ("x-thing", "set-by-hand-42")) == {"x-thing": "set-by-hand-42"}
    fixtures = demo_fixtures()
    by_hand = SecretHash.of("set-by-hand-42").encoded
    apps = tuple(replace(a, secret_hash=by_hand) if a.id == WEB else a for a in fixtures.apps)
    control.service.store.load(replace(fixtures, apps=apps))  # as the admin API's PATCH does
    assert recorded(control, ("x-thing", "set-by-hand-42")) == {"x-thing": REDACTED}
