"""The control plane without HTTP: what any transport gets from begin/finish, and the shared state
that several worker processes see through one SQLite file."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.conftest import ACME, GLOBEX, PORTAL, SPA, WEB
from zitadel_mock.control.outcomes import Fault
from zitadel_mock.control.plane import Call, ControlPlane, ControlSettings
from zitadel_mock.domain import errors
from zitadel_mock.domain.client_secrets import (
    SecretGenerator,
    seeded_random_bytes,
    system_random_bytes,
)
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.model import Fixtures
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.operations.service import SecretService
from zitadel_mock.state.control_store import ControlStore
from zitadel_mock.state.store import Store


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def plane(
    path: Path | None = None, ticker: Ticker | None = None, **settings: float
) -> ControlPlane:
    store = Store(path)
    store.load(demo_fixtures(), only_if_empty=path is not None)
    service = SecretService(store, SecretGenerator(system_random_bytes()))
    return ControlPlane(
        service,
        demo_fixtures(),
        "digest",
        settings=ControlSettings(**settings),  # type: ignore[arg-type]
        monotonic=ticker or Ticker(),
    )


def begin(control: ControlPlane, *headers: tuple[str, str], app: str = WEB) -> Call:
    return control.begin(
        transport="grpc",
        method="POST",
        path="/zitadel.management.v1.ManagementService/RegenerateOIDCClientSecret",
        headers=list(headers),
        project_id=PORTAL,
        app_id=app,
    )


def test_begin_turns_prefer_metadata_into_the_forced_row() -> None:
    call = plane().begin(
        transport="grpc",
        method="POST",
        path="/zitadel.management.v1.ManagementService/RegenerateOIDCClientSecret",
        headers=[("prefer", "code=403, delay=20")],
        app_id=WEB,
    )
    error = call.forced_error()
    assert error is not None
    assert (error.row, call.delay_ms, call.source, call.error) == (
        errors.NO_PERMISSION,
        20,
        "prefer",
        None,
    )


def test_begin_never_raises_for_bad_mock_headers_it_hands_back_the_refusal() -> None:
    control = plane()
    bad_ns = control.begin(
        transport="grpc", method="POST", path="/x", headers=[("x-mock-namespace", "a/b")]
    )
    bad_prefer = control.begin(
        transport="grpc", method="POST", path="/x", headers=[("prefer", "fault=boom")]
    )
    assert bad_ns.error is not None
    assert bad_ns.error.row is errors.BAD_NAMESPACE
    assert bad_prefer.error is not None
    assert bad_prefer.error.row is errors.BAD_PREFER


def test_finish_records_the_call_with_its_transport_and_redacted_metadata() -> None:
    control = plane()
    call = control.begin(
        transport="grpc-web",
        method="POST",
        path="/zitadel.management.v1.ManagementService/RegenerateOIDCClientSecret",
        headers=[("authorization", "Bearer admin-pat"), ("prefer", "fault=close")],
        project_id=PORTAL,
        app_id=WEB,
    )
    assert call.fault is Fault.CLOSE
    control.finish(call, status=None)
    (entry,) = control.journal.read("")
    assert entry["transport"] == "grpc-web"
    assert entry["headers"]["authorization"].startswith("Bearer <sha256:")
    assert "admin-pat" not in str(entry)
    assert (entry["outcome"], entry["status"], entry["forced"]["prefer"]) == (
        "fault",
        None,
        "fault=close",
    )


def test_queued_outcomes_go_to_their_app_in_order_and_run_out() -> None:
    control = plane()
    control.store.enqueue("", WEB, 2, "code=404")
    control.store.enqueue("", None, 1, "code=503")
    web = [begin(control).forced_error() for _ in range(3)]
    assert [e.row.name if e else None for e in web] == [
        "app_not_found",
        "app_not_found",
        "unavailable",
    ]
    assert begin(control, app=SPA).forced_error() is None
    assert control.store.queued("") == []


def test_a_prefer_header_wins_and_leaves_the_queue_alone() -> None:
    control = plane()
    control.store.enqueue("", None, 1, "code=503")
    call = begin(control, ("prefer", "delay=1"))
    assert call.forced_error() is None
    assert [q.remaining for q in control.store.queued("")] == [1]


def test_two_workers_on_one_file_never_consume_the_same_queued_use(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = plane(path)
    first.store.enqueue("", None, 60, "code=503")
    workers = [ControlStore(Store(path)) for _ in range(3)]
    taken: list[int] = []
    lock = threading.Lock()

    def drain(store: ControlStore) -> None:
        while True:
            try:
                spec = store.consume("", WEB)
            except MockError:  # state busy: another worker holds the write lock; try again
                continue
            if spec is None:
                return
            with lock:
                taken.append(1)

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(taken) == 60
    assert first.store.queued("") == []


def test_a_namespace_starts_as_a_copy_of_the_start_fixtures_and_stays_apart() -> None:
    control = plane()
    control.service.store.rotate(PORTAL, WEB, ACME, "h", control.service.clock())
    ns = control.namespace("ci-1")
    assert control.service.store.fixtures(ns) == demo_state()
    assert (
        control.service.store.fixtures("").projects != control.service.store.fixtures(ns).projects
    )


def demo_state() -> Fixtures:
    """The demo fixtures as a fresh state gives them back."""
    store = Store()
    store.load(demo_fixtures())
    return store.fixtures()


def test_idle_namespaces_expire_and_come_back_fresh() -> None:
    ticker = Ticker()
    control = plane(ticker=ticker, namespace_ttl=0.0)
    control.namespace("old")
    control.service.store.rotate(PORTAL, WEB, ACME, "h", control.service.clock(), ns="old")
    assert [n.name for n in control.namespaces()] == []  # ttl 0: idle at once
    assert control.service.store.fixtures("old").orgs == ()
    control.namespace("old")
    assert control.service.store.fixtures("old") == demo_state()


def test_a_worker_drops_its_namespace_cache_when_another_resets(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    one, two = plane(path), plane(path)
    one.namespace("shared")
    one.service.store.rotate(PORTAL, WEB, ACME, "h", one.service.clock(), ns="shared")
    two.reset(None)
    assert one.namespace("shared") == "shared"
    project = next(p for p in one.service.store.fixtures("shared").projects if p.id == PORTAL)
    assert project.sequence == 6


def test_too_many_namespaces_are_refused_by_name() -> None:
    control = plane(max_namespaces=2)
    control.namespace("a")
    control.namespace("b")
    with pytest.raises(MockError) as caught:
        control.namespace("c")
    assert caught.value.row is errors.TOO_MANY_NAMESPACES
    assert caught.value.http_status == 429


def test_a_seed_set_by_one_worker_reaches_the_other(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    one, two = plane(path), plane(path)
    one.set_seed(5)
    two.namespace("")  # any request makes a worker look
    expected = SecretGenerator(seeded_random_bytes(5)).generate()
    assert two.service.generator.generate() == expected


def test_the_journal_keeps_the_newest_entries_of_each_namespace() -> None:
    control = plane(journal_size=3)
    for n in range(5):
        call = begin(control)
        control.finish(call, status=200 + n)
    control.finish(begin(control, ("x-mock-namespace", "other")), status=201)
    assert [e["status"] for e in control.journal.read("")] == [202, 203, 204]
    assert [e["status"] for e in control.journal.read("other")] == [201]


def test_an_admin_change_that_breaks_a_rule_is_refused_and_changes_nothing() -> None:
    control = plane()
    before = control.service.store.fixtures("")

    def orphan(document: dict[str, list[dict[str, object]]]) -> str:
        document["apps"].append({"id": "9", "name": "x", "project": "nope", "type": "oidc"})
        return "creating app '9'"

    with pytest.raises(MockError) as caught:
        control.store.change("", orphan)
    assert caught.value.message == (
        "refused creating app '9': app project 'nope' is not a project of this document"
    )
    assert control.service.store.fixtures("") == before


def test_the_state_round_trips_through_a_document_without_plaintexts() -> None:
    control = plane()
    control.service.store.rotate(
        PORTAL, WEB, ACME, "sha256$00$" + "a" * 64, control.service.clock()
    )
    before = control.service.store.fixtures("")
    after = control.store.change("", lambda document: "nothing")
    assert after == before
    assert GLOBEX in {o.id for o in after.orgs}
