"""The ledger's promises across successes, each shown to hold and to fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zitadel_contract.checks import Ledger, Shape, fingerprint
from zitadel_contract.model import Call, Reply, Rotation, Violation

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CALL = Call("project", "app", org_id="org")


def success(secret: str, sequence: int, moment: datetime = NOW, **fields: object) -> Reply:
    rotation = Rotation(
        secret,
        sequence,
        moment,
        fields.get("creation_date"),  # type: ignore[arg-type]
        str(fields.get("owner", "org")),
    )
    return Reply(0, "", (), rotation, (), NOW)


def ledger() -> Ledger:
    return Ledger(Shape(8, "[a-z]", clock_skew_seconds=60))


def checks(found: list[Violation]) -> set[str]:
    return {v.check for v in found}


def test_a_first_success_of_the_right_shape_keeps_every_promise() -> None:
    assert ledger().observe(CALL, success("abcdefgh", 1)) == []


def test_a_secret_seen_before_is_found() -> None:
    book = ledger()
    book.observe(CALL, success("abcdefgh", 1))
    assert checks(book.observe(CALL, success("abcdefgh", 2))) == {"secret_is_new"}


def test_a_secret_of_another_length_or_alphabet_is_found() -> None:
    assert checks(ledger().observe(CALL, success("ABCDEFGH", 1))) == {"secret_has_configured_shape"}


def test_a_sequence_that_does_not_rise_is_found() -> None:
    book = ledger()
    book.observe(CALL, success("abcdefgh", 5))
    assert checks(book.observe(CALL, success("bcdefghi", 5))) == {"sequence_strictly_increases"}


def test_sequences_are_compared_per_project() -> None:
    book = ledger()
    book.observe(CALL, success("abcdefgh", 5))
    other = Call("other-project", "app", org_id="org")
    assert book.observe(other, success("bcdefghi", 1)) == []


def test_a_change_date_that_goes_back_is_found() -> None:
    book = ledger()
    book.observe(CALL, success("abcdefgh", 1, NOW))
    later = success("bcdefghi", 2, NOW - timedelta(seconds=1))
    assert checks(book.observe(CALL, later)) == {"change_date_never_goes_back"}


def test_a_change_date_outside_the_clock_skew_is_found() -> None:
    reply = success("abcdefgh", 1, NOW - timedelta(minutes=5))
    assert checks(ledger().observe(CALL, reply)) == {"change_date_within_clock_skew"}


def test_an_owner_other_than_the_org_acted_in_is_found() -> None:
    reply = success("abcdefgh", 1, owner="someone-else")
    assert checks(ledger().observe(CALL, reply)) == {"resource_owner_is_org_acted_in"}


def test_without_an_org_header_any_owner_is_accepted() -> None:
    call = Call("project", "app")
    assert ledger().observe(call, success("abcdefgh", 1, owner="someone-else")) == []


def test_a_creation_date_after_the_change_date_is_found() -> None:
    reply = success("abcdefgh", 1, creation_date=NOW + timedelta(seconds=1))
    assert checks(ledger().observe(CALL, reply)) == {"creation_date_not_after_change_date"}


def test_a_secret_another_process_of_the_run_received_too_is_found() -> None:
    """A split run: the coordinator's ledger learns the worker's fingerprints at the merge."""
    here, there = ledger(), ledger()
    here.observe(CALL, success("abcdefgh", 1))
    there.observe(CALL, success("abcdefgh", 2))
    there.observe(CALL, success("ijklmnop", 3))
    assert here.remember_elsewhere(sorted(there.seen())) == [fingerprint("abcdefgh")]
    assert here.remember_elsewhere(sorted(ledger().seen())) == []
    # Remembered: the same secret received once more, anywhere, is not new either.
    assert "secret_is_new" in checks(here.observe(CALL, success("ijklmnop", 4)))
