"""What a schemathesis case costs besides itself: ignored_auth's probes (each success sent
again without the token and with a wrong one) go over one kept-alive connection and carry no
credential of the run; the ZITADEL checks read each response once.

For the probes, the mock runs behind a relay that counts the TCP connections made to it and keeps
the Authorization header of every request, so what is seen is what went over the wire.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import pytest
from schemathesis.transport.requests import REQUESTS_TRANSPORT

from tests.conftest import ACME, PORTAL, WEB, LiveServer, start_server
from zitadel_contract import schema
from zitadel_contract.provision import Target
from zitadel_contract.session import Recorder, Session
from zitadel_contract.settings import Settings
from zitadel_contract.transports.rest import RestTransport

AUTHORIZATION = re.compile(rb"^authorization: *(.*?)\r$", re.IGNORECASE | re.MULTILINE)
CASES = 12


class Relay:
    """Forwards every connection to ``upstream``; counts them and keeps each request's
    Authorization value (or None for a request without one)."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.authorizations: list[bytes | None] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            server = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if requests and b"HTTP/1.1\r\n" in chunk:
                    found = AUTHORIZATION.search(chunk)
                    with self.lock:
                        self.authorizations.append(found.group(1) if found else None)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def mock() -> Iterator[LiveServer]:
    live = start_server()
    yield live
    live.stop()


@pytest.fixture
def relay(mock: LiveServer) -> Iterator[Relay]:
    relay = Relay(mock.port)
    yield relay
    relay.close()
    transport = schema.operation("v1").schema.transport
    if isinstance(transport, schema.PooledProbes):
        transport.probes.close()  # its kept-alive connection went to this relay


def session_through(relay: Relay) -> Session:
    target = Target(
        f"http://127.0.0.1:{relay.port}", PORTAL, WEB, "admin-pat", org_id=ACME, client_id=None
    )
    return Session(Settings(seed=1), target, RestTransport(target, 10.0), Recorder())


def send_successes(session: Session, count: int) -> None:
    """``count`` successful schemathesis cases on the app, each checked (so probed) in full."""
    case = schema.operation("v1").Case(
        path_parameters={"projectId": PORTAL, "appId": WEB},
        headers={"Content-Type": "application/json"},
        body={},
        media_type="application/json",
    )
    for _ in range(count):
        schema.aim(case, session, add_token=True)
        schema.run_case(case, session)


def test_the_probes_of_many_successes_share_one_connection(relay: Relay) -> None:
    session = session_through(relay)
    try:
        send_successes(session, CASES)
    finally:
        session.close()
    assert session.recorder.findings == []
    probes = [a for a in relay.authorizations if a != b"Bearer admin-pat"]
    assert len(probes) == 2 * CASES  # without a token, and with a wrong one, for each success
    # one connection for the cases, one for the probes
    assert relay.connections == 2


def test_no_probe_carries_the_runs_token(relay: Relay) -> None:
    session = session_through(relay)
    try:
        send_successes(session, CASES)
    finally:
        session.close()
    sent = relay.authorizations
    assert sent.count(b"Bearer admin-pat") == CASES
    assert sent.count(None) == CASES  # the probe without a token has no Authorization at all


def test_schemathesis_own_transport_would_open_a_connection_per_probe(
    relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the count above is set against: with schemathesis' transport as it is."""
    session = session_through(relay)
    op = schema.operation("v1")
    monkeypatch.setattr(type(op.schema), "transport", property(lambda _: REQUESTS_TRANSPORT))
    try:
        send_successes(session, CASES)
    finally:
        session.close()
    assert relay.connections == 1 + 2 * CASES


class Answer:
    """What read_any reads of a schemathesis response; counts how often its body is read."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self.headers = {"Content-Type": ["application/json"]}
        self._body = body
        self.reads = 0

    @property
    def content(self) -> bytes:
        self.reads += 1
        return self._body


NOT_FOUND = b'{"code": 5, "message": "Errors.App.NotFound (COMMAND-2g66f)", "details": []}'
UNAUTHENTICATED = b'{"code": 16, "message": "auth header missing", "details": []}'


def test_the_zitadel_checks_read_a_response_once() -> None:
    answer = Answer(404, NOT_FOUND)
    case = schema.operation("v1").Case()
    failed = set()
    for check in schema.ZITADEL_CHECKS:
        try:
            check(None, answer, case)  # type: ignore[arg-type]
        except schema.ContractFailure as failure:
            failed.add(failure.check)
    assert failed == {"zitadel_error_carries_error_detail"}  # no ErrorDetail: the checks ran
    assert len(schema.ZITADEL_CHECKS) == 7
    assert answer.reads == 1


def test_each_response_is_read_as_itself() -> None:
    """The kept reply is the last response's only: the next response is read anew."""
    first, second = Answer(404, NOT_FOUND), Answer(401, UNAUTHENTICATED)
    assert schema.READ("v1", first).code == 5
    assert schema.READ("v1", second).code == 16
    assert schema.READ("v1", first).code == 5
    assert (first.reads, second.reads) == (2, 1)
