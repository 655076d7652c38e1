"""One scenario over REST, gRPC and gRPC-web against one server: same codes, one shared state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime

import pytest

from tests.conftest import BACKEND, PORTAL, SHOP, STOREFRONT, WEB, LiveServer
from tests.support.grpc_clients import TRANSPORTS, Caller, caller

# (token, org header, project, app) for every error row both transports can reach
ERROR_CASES = [
    (None, None, PORTAL, WEB),
    ("no-such-token", None, PORTAL, WEB),
    ("admin-pat", "999999999999999999", PORTAL, WEB),
    ("nobody-pat", None, PORTAL, WEB),
    ("acme-viewer-pat", None, PORTAL, WEB),
    ("portal-owner-pat", None, SHOP, STOREFRONT),
    ("admin-pat", None, PORTAL, "1" * 201),
    ("admin-pat", None, PORTAL, "1"),
    ("admin-pat", None, PORTAL, BACKEND),
]

# A rotation as each transport reports it: (code, message, sequence, change date, owner)
Result = tuple[int, str, int | None, datetime | None, str | None]
Rotate = Callable[[str | None, str | None, str, str], Result]


@contextmanager
def every_transport(server: LiveServer) -> Iterator[dict[str, Rotate]]:
    with ExitStack() as stack:
        rotate: dict[str, Rotate] = {"rest": rest_rotate(server)}
        for name in TRANSPORTS:
            rotate[name] = grpc_rotate(stack.enter_context(caller(server, name)))
        yield rotate


@pytest.fixture(scope="module")
def shared(server: LiveServer) -> Iterator[dict[str, Rotate]]:
    with every_transport(server) as rotate:
        yield rotate


@pytest.fixture
def fresh(fresh_server: LiveServer) -> Iterator[dict[str, Rotate]]:
    with every_transport(fresh_server) as rotate:
        yield rotate


def grpc_rotate(call: Caller) -> Rotate:
    def over_grpc(token: str | None, org: str | None, project: str, app: str) -> Result:
        outcome = call(project, app, token=token, org=org)
        response = outcome.response
        if response is None:
            return outcome.code, outcome.message, None, None, None
        details = response.details
        changed = details.change_date.ToDatetime()
        return 0, "", details.sequence, changed, details.resource_owner

    return over_grpc


def rest_rotate(server: LiveServer) -> Rotate:
    def over_rest(token: str | None, org: str | None, project: str, app: str) -> Result:
        headers = {"x-zitadel-orgid": org} if org else {}
        body = server.rotate(project, app, token=token, headers=headers).json()
        if "code" in body:
            return body["code"], body["message"], None, None, None
        details = body["details"]
        changed = datetime.fromisoformat(details["changeDate"].replace("Z", "")).replace(
            tzinfo=None
        )
        return 0, "", int(details["sequence"]), changed, details["resourceOwner"]

    return over_rest


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda case: f"{case[0]}-{case[1]}-{case[3]}")
def test_every_transport_answers_an_error_with_the_same_code_and_message(
    shared: dict[str, Rotate], case: tuple[str | None, str | None, str, str]
) -> None:
    answers = {name: rotate(*case)[:2] for name, rotate in shared.items()}
    assert len(set(answers.values())) == 1, answers
    assert answers["rest"][0] != 0


def test_rotations_over_every_transport_share_one_sequence(fresh: dict[str, Rotate]) -> None:
    order = ["grpc-web", "rest", "grpc", "grpc-web-text", "rest", "grpc"]
    results = [fresh[name]("admin-pat", None, PORTAL, WEB) for name in order]
    sequences = [r[2] for r in results]
    first = sequences[0]
    assert first is not None
    assert sequences == list(range(first, first + len(order)))
    dates = [r[3] for r in results if r[3] is not None]
    assert dates == sorted(dates)
    assert len(set(dates)) == len(order)
    assert {r[4] for r in results} == {"319487622871056385"}
