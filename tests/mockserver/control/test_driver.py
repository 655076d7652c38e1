"""The control-plane driver without any web library: what it asks of a protocol's exchange, in
which order, and what it journals. The real exchanges (REST, gRPC, gRPC-web) are pinned over
sockets in test_faults.py, test_grpc_control.py and tests/mockserver/server/."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from tests.conftest import PORTAL, WEB
from tests.mockserver.control.test_control import plane
from zitadel_mock.control.driver import Held, Request, Sent, drive
from zitadel_mock.control.plane import ControlPlane
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError

BODY = b"0123456789"


class Recording:
    """An exchange that sends nothing: it writes down what the driver asked of it."""

    def __init__(
        self, *, run_raises: BaseException | None = None, run_yields: bool = False
    ) -> None:
        self.steps: list[str] = []
        self.status: int | None = None
        self.code: int | None = None
        self._run_raises = run_raises
        self._run_yields = run_yields
        self.client_stays = False

    async def send_error(self, error: MockError) -> None:
        self.steps.append(f"error {error.row.name}")
        self.status, self.code = error.http_status, int(error.code)

    async def run(self, namespace: str) -> None:
        self.steps.append(f"run in {namespace!r}")
        if self._run_yields:  # as an answer being written awaits the server
            await asyncio.sleep(0)
            self.steps.append("answer written")
        if self._run_raises is not None:
            raise self._run_raises
        self.status = 200

    async def hold(self, namespace: str) -> Held:
        self.steps.append(f"hold in {namespace!r}")
        return Held("200", BODY)

    async def send_part(self, body: bytes) -> None:
        self.steps.append(f"part {body.decode()}")
        self.status = 200

    async def send_empty(self) -> None:
        self.steps.append("empty")
        self.status = 200

    async def send_stall_head(self) -> None:
        self.steps.append("stall head")
        self.status = 200

    async def client_gone(self) -> None:
        self.steps.append("wait for the client")
        if self.client_stays:
            await asyncio.Event().wait()

    async def close(self) -> None:
        self.steps.append("close")

    async def drop(self) -> None:
        self.steps.append("drop")

    def sent(self) -> Sent:
        return Sent(self.status, self.code, None)


def request(*headers: tuple[str, str], operation: bool = True) -> Request:
    return Request(
        transport="test",
        method="POST",
        path="/the/operation",
        headers=list(headers),
        project_id=PORTAL,
        app_id=WEB,
        operation=operation,
    )


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coroutine)


def last_entry(control: ControlPlane, ns: str = "") -> dict[str, Any]:
    entries = control.journal.read(ns)
    assert entries
    return entries[0]


def test_without_a_decision_the_real_call_runs_in_the_requests_namespace() -> None:
    control, exchange = plane(), Recording()
    run(drive(control, request(("x-mock-namespace", "team-a")), exchange))
    assert exchange.steps == ["run in 'team-a'"]
    assert (last_entry(control, "team-a")["status"], last_entry(control, "team-a")["outcome"]) == (
        200,
        "success",
    )


def test_a_bad_mock_header_is_answered_at_once_and_nothing_runs() -> None:
    exchange = Recording()
    run(drive(plane(), request(("x-mock-namespace", "no spaces")), exchange))
    assert exchange.steps == ["error bad_namespace"]


def test_the_protocols_refusal_is_answered_before_anything_is_decided() -> None:
    control, exchange = plane(), Recording()
    refusal = MockError(errors.GRPC_NEEDS_POST, method="GET")
    run(
        drive(
            control, request(("prefer", "fault=close"), operation=False), exchange, refusal=refusal
        )
    )
    assert exchange.steps == [f"error {errors.GRPC_NEEDS_POST.name}"]
    assert last_entry(control)["forced"] is None


def test_a_forced_error_is_sent_instead_of_the_call() -> None:
    control, exchange = plane(), Recording()
    run(drive(control, request(("prefer", "code=404")), exchange))
    assert exchange.steps == ["error app_not_found"]
    assert (last_entry(control)["outcome"], last_entry(control)["grpcCode"]) == ("forced", 5)


@pytest.mark.parametrize(
    ("fault", "steps"),
    [
        ("close", ["close"]),
        ("empty", ["empty"]),
        ("stall", ["stall head", "wait for the client", "drop"]),
        ("lost", ["hold in ''", "drop"]),
        ("truncate", ["hold in ''", "part 01234", "drop"]),
    ],
)
def test_each_fault_asks_the_exchange_for_its_steps_in_order(fault: str, steps: list[str]) -> None:
    exchange = Recording()
    run(drive(plane(), request(("prefer", f"fault={fault}")), exchange))
    assert exchange.steps == steps


@pytest.mark.parametrize(
    ("fault", "note"),
    [
        ("lost", "the call answered 200; the response was dropped"),
        ("truncate", "5 of 10 body bytes sent"),
        ("close", None),
    ],
)
def test_a_fault_leaves_its_note_in_the_journal(fault: str, note: str | None) -> None:
    control = plane()
    run(drive(control, request(("prefer", f"fault={fault}")), Recording()))
    assert (last_entry(control)["outcome"], last_entry(control)["message"]) == ("fault", note)


def test_a_passed_deadline_is_answered_with_deadline_exceeded() -> None:
    exchange = Recording()

    async def scenario() -> None:
        already = asyncio.get_running_loop().time()
        await drive(plane(), request(("prefer", "delay=60000")), exchange, deadline=already)

    run(scenario())
    assert exchange.steps == ["error deadline_exceeded"]


def test_a_passed_deadline_does_not_cut_the_call_or_its_answer() -> None:
    """The deadline bounds the driver's waits; the call sees it where it looks (a Connect call
    after its interceptors), and an answer being written is written whole."""
    exchange = Recording(run_yields=True)

    async def scenario() -> None:
        already = asyncio.get_running_loop().time()
        await drive(plane(), request(), exchange, deadline=already)

    run(scenario())
    assert exchange.steps == ["run in ''", "answer written"]


def test_a_deadline_passing_in_a_stall_is_deadline_exceeded_after_its_head() -> None:
    exchange = Recording()
    exchange.client_stays = True

    async def scenario() -> None:
        already = asyncio.get_running_loop().time()
        await drive(plane(), request(("prefer", "fault=stall")), exchange, deadline=already)

    run(scenario())
    assert exchange.steps == ["stall head", "wait for the client", "error deadline_exceeded"]


def test_the_request_names_its_api_version_in_the_journal() -> None:
    control = plane()
    run(drive(control, request()._replace(api="v2beta"), Recording()))
    assert last_entry(control)["api"] == "v2beta"


def test_a_timeout_of_the_call_itself_is_not_taken_for_the_deadline() -> None:
    exchange = Recording(run_raises=TimeoutError("the call's own"))
    with pytest.raises(TimeoutError, match="the call's own"):
        run(drive(plane(), request(), exchange))


def test_a_call_that_fails_is_journalled_all_the_same() -> None:
    control = plane()
    with pytest.raises(RuntimeError):
        run(drive(control, request(), Recording(run_raises=RuntimeError("boom"))))
    assert (last_entry(control)["status"], last_entry(control)["outcome"]) == (None, "error")
