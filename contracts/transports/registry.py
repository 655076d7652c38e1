"""The seam between the suite and the wire: a :class:`Transport` turns a Call into a Reply.

The suite knows only this protocol. ``rest``, ``grpc``, ``grpc-web`` and ``grpc-web-text`` are
built in (for v1; ``connect``, ``connect-proto``, ``grpc`` and ``grpc-web`` for v2 and v2beta,
:mod:`zitadel_contract.transports.versions`); a transport reads ``target.api``. Another
transport joins with :func:`register` and is then chosen with ``--transport NAME``.
A transport answers a call it cannot express (an HTTP method over gRPC) with
:class:`zitadel_contract.model.NotApplicableError`, and the probe that needed it is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from zitadel_contract.model import Call, Reply
from zitadel_contract.provision import Target


class Transport(Protocol):
    name: str
    requests: int

    def call(self, call: Call) -> Reply:
        """Send the call and read the answer; wire-format problems go into Reply.problems."""
        ...

    def reproduce(self, call: Call) -> str:
        """A command line that sends the same request, with no secret in it; raises
        NotApplicableError, without sending anything, where :meth:`call` would."""
        ...

    def close(self) -> None: ...


TransportFactory = Callable[[Target, float], Transport]


# Each built-in transport is imported when a run opens it: a REST run loads neither grpc nor
# protobuf.
def _rest(target: Target, timeout: float) -> Transport:
    from zitadel_contract.transports.rest import RestTransport  # noqa: PLC0415

    return RestTransport(target, timeout)


def _grpc(target: Target, timeout: float) -> Transport:
    from zitadel_contract.transports.grpc_calls import GrpcTransport  # noqa: PLC0415

    return GrpcTransport(target, timeout)


def _grpc_web(target: Target, timeout: float) -> Transport:
    from zitadel_contract.transports.grpc_calls import GrpcWebTransport  # noqa: PLC0415

    return GrpcWebTransport(target, timeout)


def _grpc_web_text(target: Target, timeout: float) -> Transport:
    from zitadel_contract.transports.grpc_calls import GrpcWebTextTransport  # noqa: PLC0415

    return GrpcWebTextTransport(target, timeout)


def _connect(target: Target, timeout: float) -> Transport:
    from zitadel_contract.transports.connect import ConnectTransport  # noqa: PLC0415

    return ConnectTransport(target, timeout)


def _connect_proto(target: Target, timeout: float) -> Transport:
    from zitadel_contract.transports.connect import ConnectProtoTransport  # noqa: PLC0415

    return ConnectProtoTransport(target, timeout)


TRANSPORTS: dict[str, TransportFactory] = {
    "rest": _rest,
    "grpc": _grpc,
    "grpc-web": _grpc_web,
    "grpc-web-text": _grpc_web_text,
    "connect": _connect,
    "connect-proto": _connect_proto,
}


def register(name: str, factory: TransportFactory) -> None:
    """Make ``--transport name`` open ``factory(target, timeout_seconds)``."""
    TRANSPORTS[name] = factory


def open_transport(name: str, target: Target, timeout: float) -> Transport:
    try:
        factory = TRANSPORTS[name]
    except KeyError:
        known = ", ".join(sorted(TRANSPORTS))
        raise ValueError(f"unknown transport {name!r} (known: {known})") from None
    return factory(target, timeout)
