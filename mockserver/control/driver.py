"""The one control-plane driver: what every protocol does with every request, written once.

A protocol describes the request (:class:`Request`) and hands :func:`drive` an :class:`Exchange`,
the few things only that protocol knows about answering it. The driver decides (through
:meth:`ControlPlane.begin`) and sequences:

1. ``begin``: namespace, ``Prefer``, the queue; the decision is a :class:`Call`.
2. A refusal the protocol made before the control plane saw the request (a gRPC framing error),
   else a bad mock header (``call.error``): sent at once with :meth:`Exchange.send_error`.
3. Otherwise the delay, then the fault, else the forced error (:meth:`Exchange.send_error`),
   else the real call (:meth:`Exchange.run`). The protocol's deadline, if it has one, bounds
   what the driver waits for (the delay, a stall's wait for the client): one that passes there
   is answered with ``DEADLINE_EXCEEDED`` through :meth:`Exchange.send_error` (after a stall's
   head, the exchange ends the call as its wire does then). It never cuts a call or an answer
   being written: as a Go server's context deadline, the call sees it only where it looks (a
   Connect call after its interceptors), and an answer once started is written whole.
4. ``finish``: one journal entry, with what :meth:`Exchange.sent` says went out and the fault's
   note.

The faults, as the driver sequences them on any protocol (a note is the journal's ``message``):

- ``close``: :meth:`Exchange.close`; nothing is sent and nothing runs.
- ``empty``: :meth:`Exchange.send_empty`; nothing runs.
- ``stall``: :meth:`Exchange.send_stall_head`, then :meth:`Exchange.client_gone` for at most
  ``max_stall`` seconds, then :meth:`Exchange.drop`; nothing runs.
- ``lost``: :meth:`Exchange.hold` runs the call and keeps its answer, then
  :meth:`Exchange.drop`; the note is ``the call answered <Held.answered>; the response was
  dropped``.
- ``truncate``: :meth:`Exchange.hold`, :meth:`Exchange.send_part` with the first half of the held
  body, :meth:`Exchange.drop`; the note is ``<sent> of <total> body bytes sent``.

Adding a protocol: write one class with the methods of :class:`Exchange`, one
instance per request, and call :func:`drive` with it from the protocol's ASGI app. The class says
how that protocol renders a ``MockError``, how the real call runs, and how each fault looks on its
wire (drop the connection or reset the stream, an empty answer, a head that promises a body, half
the body); it decides nothing. This module imports no web library: exchanges live in
``protocols/`` (``rest_control.RestExchange``, ``grpc_app.GrpcExchange``,
``connect.ConnectExchange``, ``connect_grpc.ConnectGrpcExchange``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Final, NamedTuple, Protocol, TypeVar

from zitadel_mock.control.outcomes import Fault
from zitadel_mock.control.plane import Call, ControlPlane
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError

log = logging.getLogger("zitadel_mock.control.plane")
GONE_DURING_DELAY: Final = "the client went away during the delay; the call never ran"
T = TypeVar("T")


class Request(NamedTuple):  # a tuple, not a dataclass: built for every request, it is cheaper
    """One request as the protocol read it, for :meth:`ControlPlane.begin` and the journal.

    ``operation`` is False for requests that are not the operation (unknown paths, wrong methods,
    a refused gRPC call): they get a namespace and a journal entry, never a forced outcome.
    """

    transport: str  # "rest", "grpc", "grpc-web", "connect", "connect-proto", ...
    method: str
    path: str  # as the journal shows it (already redacted)
    headers: Iterable[tuple[str, str]]  # as sent; the journal keeps them redacted
    project_id: str | None = None
    app_id: str | None = None
    operation: bool = True
    api: str = "v1"  # the API version the path belongs to, for the journal: v1, v2, v2beta


@dataclass(frozen=True, slots=True)
class Held:
    """The real call's answer, kept back instead of sent (the faults ``lost`` and ``truncate``)."""

    answered: str  # how the journal names the answer: "200", "grpc-status 0"
    body: bytes = field(repr=False)  # as it would have gone on the wire (it may hold a secret)


class Sent(NamedTuple):
    """What went out, for the journal: the status (None if no status line went out), and the
    gRPC code and message of an error (never of a success: it holds the secret)."""

    status: int | None = None
    grpc_code: int | None = None
    message: str | None = None


class Exchange(Protocol):
    """How one request is answered on one protocol's wire. One instance serves one request."""

    async def send_error(self, error: MockError) -> None:
        """Answer ``error`` as this protocol renders a MockError."""

    async def run(self, namespace: str) -> None:
        """Run the real call in ``namespace`` (the one the control plane validated) and send its
        answer."""

    async def hold(self, namespace: str) -> Held:
        """Run the real call in ``namespace`` and keep its answer unsent (remembering what
        :meth:`send_part` needs to start it)."""

    async def send_part(self, body: bytes) -> None:
        """Start the held answer as it would have started and send ``body``, promising more."""

    async def send_empty(self) -> None:
        """A success with nothing in it (``empty``)."""

    async def send_stall_head(self) -> None:
        """The start of a success whose body never comes (``stall``)."""

    async def client_gone(self) -> None:
        """Return once the client has gone away."""

    async def close(self) -> None:
        """Drop the exchange before anything was sent (``close``)."""

    async def drop(self) -> None:
        """Drop the exchange after what was sent so far: nothing more is delivered."""

    def sent(self) -> Sent:
        """What this exchange has sent, for the journal."""


async def drive(
    control: ControlPlane,
    request: Request,
    exchange: Exchange,
    *,
    refusal: MockError | None = None,
    deadline: float | None = None,
) -> None:
    """Decide, answer through ``exchange`` and record one request (see the module's docstring).

    ``refusal``: the protocol refused the request before the control plane (it is answered and
    recorded; pass ``operation=False`` for it). ``deadline``: the event loop's time by which the
    call must be answered, if the protocol has one; it bounds the driver's waits only.
    """
    call = control.begin(
        transport=request.transport,
        method=request.method,
        path=request.path,
        headers=request.headers,
        project_id=request.project_id,
        app_id=request.app_id,
        operation=request.operation,
        api=request.api,
    )
    note: str | None = None
    try:
        refused = refusal or call.error
        if refused is not None:
            await exchange.send_error(refused)
            return
        if call.outcome is None:  # nothing forced (no delay, fault or error): the real call
            await exchange.run(call.ns)
            return
        try:
            note = await _decided(call, exchange, control.settings.max_stall, deadline)
        except _DeadlinePassedError:
            await exchange.send_error(MockError(errors.DEADLINE_EXCEEDED))
    finally:
        sent = exchange.sent()
        control.finish(
            call, status=sent.status, grpc_code=sent.grpc_code, message=note or sent.message
        )


class _DeadlinePassedError(Exception):
    """The protocol's deadline passed while the driver waited."""


async def _until(deadline: float | None, waiting: Awaitable[T]) -> T:
    """Await ``waiting``, at most until ``deadline`` (then :class:`_DeadlinePassedError`). A
    timeout of ``waiting`` itself is not taken for the deadline."""
    if deadline is None:
        return await waiting
    try:
        async with asyncio.timeout_at(deadline) as limit:
            return await waiting
    except TimeoutError:
        if limit.expired():
            raise _DeadlinePassedError from None
        raise


async def _decided(
    call: Call, exchange: Exchange, max_stall: float, deadline: float | None
) -> str | None:
    """The delay, then the fault, the forced error or the real call; returns the fault's note."""
    if call.delay_ms and await _until(deadline, _gone_during(exchange, call.delay_seconds)):
        return GONE_DURING_DELAY
    if call.fault is not None:
        return await _fault(call.fault, exchange, call.ns, max_stall, deadline)
    forced = call.forced_error()
    if forced is not None:
        await exchange.send_error(forced)
    else:
        await exchange.run(call.ns)
    return None


async def _gone_during(exchange: Exchange, seconds: float) -> bool:
    """Wait ``seconds``; True as soon as the client goes away first (a hang-up, a reset stream):
    its call is then never run, as a cancelled context aborts ZITADEL's command. An exchange
    without ``watch_gone`` (which watches without losing the request) just waits."""
    watch = getattr(exchange, "watch_gone", None)
    if watch is None:
        await asyncio.sleep(seconds)
        return False
    task: asyncio.Future[None] = asyncio.ensure_future(watch())
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return task in done and task.exception() is None


async def _fault(
    fault: Fault, exchange: Exchange, namespace: str, max_stall: float, deadline: float | None
) -> str | None:
    if fault is Fault.CLOSE:
        await exchange.close()
    elif fault is Fault.EMPTY:
        await exchange.send_empty()
    elif fault is Fault.STALL:
        await exchange.send_stall_head()
        await _until(deadline, _stall(exchange, max_stall))
        await exchange.drop()
    else:
        held = await exchange.hold(namespace)
        if fault is Fault.LOST:
            await exchange.drop()
            return f"the call answered {held.answered}; the response was dropped"
        half = held.body[: len(held.body) // 2]
        await exchange.send_part(half)
        await exchange.drop()
        return f"{len(half)} of {len(held.body)} body bytes sent"
    return None


async def _stall(exchange: Exchange, max_stall: float) -> None:
    try:
        await asyncio.wait_for(exchange.client_gone(), max_stall)
    except TimeoutError:
        log.info("stall: held the response for the maximum of %s s", max_stall)
