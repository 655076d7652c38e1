"""schemathesis on openapi.yaml (v1, REST) or openapi-connect.yaml (v2 and v2beta, Connect JSON),
every case aimed at the one app the run may rotate.

Cases come from schemathesis (its deterministic coverage cases, then Hypothesis-generated
positive and negative ones). Before a case is sent, :func:`aim` pins both path ids of sensible
length (v2: the ids in the body) to the given app and puts in the run's token and org; an id
schemathesis makes empty or longer than 200 characters is left as it is, since ZITADEL refuses
it before looking anything up. Each response then goes through the checks below, one by one so that
every failure carries the name of the check that found it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any, Final

import requests
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi import checks as builtin
from schemathesis.transport.requests import (
    REQUESTS_TRANSPORT,
    ManagedCookiesSession,
    RequestsTransport,
)

from zitadel_contract.checks import CHECKS, status_violations
from zitadel_contract.model import Call, Reply, Violation
from zitadel_contract.session import Session, environment_once
from zitadel_contract.transports.rest import TOKEN_VARIABLE, read_reply

MAX_ID_LENGTH: Final = 200
Check = Callable[[CheckContext, Any, Case[Any]], bool | None]

# schemathesis' own checks, each chosen:
BUILTIN_CHECKS: Final[tuple[Check, ...]] = (
    not_a_server_error,  # no 5xx for anything a client sends
    builtin.status_code_conformance,  # only statuses openapi.yaml documents
    builtin.content_type_conformance,  # only application/json: no problem+json errors
    builtin.response_headers_conformance,  # WWW-Authenticate on 401, as documented
    builtin.response_schema_conformance,  # bodies as documented: Status with the pinned code
    builtin.negative_data_rejection,  # invalid requests are refused with a 4xx
    builtin.positive_data_acceptance,  # valid requests are not refused as invalid
    builtin.missing_required_header,  # coverage case without Authorization: 401
    builtin.ignored_auth,  # the same request without, or with a wrong, token must fail
)
POSITIVE_ACCEPTANCE: Final = builtin.positive_data_acceptance
# Left out:
# - unsupported_method, allow_header_conformance: they want an Allow header on every 405;
#   grpc-gateway's 405 (code 12, ZITADEL.md row 12) has none. The coverage cases with other
#   methods are still sent and checked by everything else, and the probe
#   wrong_method_gives_unimplemented checks the 405 itself.
# - use_after_free, ensure_resource_availability: they follow links between operations that
#   create and delete resources; the contract is one operation with no links.
# - object_level_authorization: needs several identities configured inside schemathesis; the
#   probe token_without_permission_gives_permission_denied checks authorization instead.

CONNECT_CHECKS: Final = (
    "connect_error_is_connect_json",
    "connect_code_matches_http_status",
    "connect_detail_is_unpadded_base64",
    "zitadel_error_carries_error_detail",
    "error_detail_is_zitadel_error_detail",
    "error_message_reads_text_and_id",
    "success_body_is_protojson",
)
# Which document and operation describe each API's schema surface.
SPECS: Final[dict[str, tuple[str, str | None]]] = {
    "v1": ("openapi.yaml", "ManagementService_RegenerateOIDCClientSecret"),
    "v2": ("openapi-connect.yaml", "ApplicationService_GenerateClientSecret"),
    "v2beta": ("openapi-connect.yaml", "AppService_RegenerateClientSecret"),
}
BODY_IDS: Final = {
    "applicationId": "app",
    "application_id": "app",
    "projectId": "project",
    "project_id": "project",
}
REST_CHECKS: Final = (
    "error_is_google_rpc_status",
    "error_code_matches_http_status",
    "zitadel_error_carries_error_detail",
    "error_detail_is_zitadel_error_detail",
    "error_message_reads_text_and_id",
    "unauthenticated_carries_www_authenticate",
    "success_body_is_protojson",
)


class ContractFailure(Failure):
    """A ZITADEL promise broken in a schemathesis case; ``check`` is its id in CHECKS."""

    code = "ZC001"
    kind_title = "ZITADEL contract"
    __slots__ = ("check",)

    def __init__(self, check: str, message: str, operation: str | None) -> None:
        super().__init__(operation=operation, title=f"{check}: {CHECKS[check]}", message=message)
        self.check = check

    @property
    def _unique_key(self) -> str:
        return self.check


def flat_headers(headers: Any) -> dict[str, str]:
    """schemathesis keeps lists per lower-case name; the rest of the suite wants strings."""
    return {
        str(k).lower(): ", ".join(v) if isinstance(v, list) else str(v) for k, v in headers.items()
    }


def read_any(api: str, response: Any) -> Reply:
    """A schemathesis response read as the API's transport reads it."""
    headers = flat_headers(response.headers)
    if api == "v1":
        return read_reply(response.status_code, headers, response.content)
    # Imported here: it brings protobuf and grpc, which a v1 (REST) run never needs.
    from zitadel_contract.transports.connect import read_connect_reply  # noqa: PLC0415

    return read_connect_reply(response.status_code, headers, response.content, proto=False)


class LastRead:
    """The reply of the response read last: the ZITADEL checks below each look at the same
    response (seven over REST), which is then read once, not once per check."""

    def __init__(self) -> None:
        self._last: tuple[Any, str, Reply] | None = None

    def __call__(self, api: str, response: Any) -> Reply:
        last = self._last
        if last is not None and last[0] is response and last[1] == api:
            return last[2]
        reply = read_any(api, response)
        self._last = (response, api, reply)
        return reply


READ = LastRead()


def _zitadel_check(check_id: str, api: str) -> Check:
    def check(ctx: CheckContext, response: Any, case: Case[Any]) -> bool | None:
        reply = READ(api, response)
        found = [v for v in (*reply.problems, *status_violations(reply)) if v.check == check_id]
        if found:
            raise ContractFailure(check_id, found[0].message, case.operation.label)
        return None

    check.__name__ = check.__qualname__ = check_id
    return check


ZITADEL_CHECKS: Final[tuple[Check, ...]] = tuple(_zitadel_check(c, "v1") for c in REST_CHECKS)
CONNECT_ZITADEL_CHECKS: Final[tuple[Check, ...]] = tuple(
    _zitadel_check(c, "v2") for c in CONNECT_CHECKS
)


class PooledProbes(RequestsTransport):
    """schemathesis' requests transport, except that a request sent without a session goes over
    one session kept for such requests instead of a new session (and TCP connection) each.

    Such requests are ``ignored_auth``'s probes: the case again without its token and with a
    wrong one, two for every success. schemathesis leaves the run's session out of them (a
    session may carry credentials); this one never carries any: it is only ever used without
    headers or auth, and schemathesis drops its cookies after every request. The requests sent
    are the same, over a kept-alive connection.
    """

    def __init__(self) -> None:
        super().__init__()
        # The serializers registered with schemathesis' own transport, the same dictionary.
        self._serializers = REQUESTS_TRANSPORT._serializers
        self.probes = ManagedCookiesSession()

    def send(self, case: Case[Any], *, session: Any = None, **kwargs: Any) -> Any:
        return super().send(case, session=self.probes if session is None else session, **kwargs)


def _with_pooled_probes(schema: Any) -> None:
    """Make ``schema`` (this module's own, nobody else's) send through :class:`PooledProbes`."""
    transport = PooledProbes()
    base = type(schema)
    schema.__class__ = type(
        f"{base.__name__}WithPooledProbes", (base,), {"transport": property(lambda _: transport)}
    )


@cache
def operation(api: str = "v1") -> APIOperation[Any, Any, Any, Any]:
    """The API's operation in its document, as schemathesis loads it."""
    name, operation_id = SPECS[api]
    with resources.as_file(resources.files("zitadel_contract") / name) as path:
        schema = schemathesis.openapi.from_path(path)
    _with_pooled_probes(schema)
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise RuntimeError(f"{name} cannot be loaded: {result.err()}")
        found = result.ok()
        if operation_id is None or found.definition.raw.get("operationId") == operation_id:
            return found
    raise RuntimeError(f"{name} has no operation {operation_id}")


def coverage_cases(api: str = "v1") -> Iterator[Case[Any]]:
    op = operation(api)
    schema = op.schema
    cases: Iterator[Case[Any]] = schema.iter_coverage_cases(
        op,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=schema.config.generation_for(operation=op),
    )
    return cases


def aim(case: Case[Any], session: Session, *, add_token: bool) -> None:
    """Point ``case`` at the given app, with the run's token and org (see the module doc).

    With ``--no-rotate`` the app id is one no ZITADEL has, so that no case can rotate anything.
    """
    target = session.target
    for name, given in (("projectId", target.project_id), ("appId", session.app_id)):
        value = case.path_parameters.get(name) if case.path_parameters else None
        if isinstance(value, str) and 1 <= len(value) <= MAX_ID_LENGTH:
            case.path_parameters[name] = given
    if isinstance(case.body, dict) and session.settings.api != "v1":
        # protojson reads a JSON null as an unset field (Go's protojson skips it before its
        # oneof check), so {"isOidc": true, "isApi": null} is a valid v2beta request, whatever
        # the document says of null: such members are left out, which means the same.
        for name in [k for k, v in case.body.items() if v is None]:
            del case.body[name]
        ids = {"app": session.app_id, "project": target.project_id}
        for name, which in BODY_IDS.items():
            value = case.body.get(name)
            if isinstance(value, str) and 1 <= len(value) <= MAX_ID_LENGTH:
                case.body[name] = ids[which]
    headers = case.headers if case.headers is not None else CaseInsensitiveDict()
    deadline = headers.get("Connect-Timeout-Ms")
    if deadline == "":
        # connect-go reads an empty Connect-Timeout-Ms as none (it tests for ""), whatever
        # pattern the document gives the header: not a negative case a server must refuse.
        del headers["Connect-Timeout-Ms"]
    elif isinstance(deadline, str) and deadline.isdigit() and len(deadline) <= 10:
        # A short deadline makes the answer a matter of timing (504 deadline_exceeded, as
        # connect-go answers it); the schema cases keep the header but give the call time.
        ms = int(session.settings.timeout * 1000)
        headers["Connect-Timeout-Ms"] = str(max(int(deadline), ms))
    if add_token or "Authorization" in headers:
        headers["Authorization"] = f"Bearer {target.token}"
    if target.org_id and not headers.get("x-zitadel-orgid"):
        headers["x-zitadel-orgid"] = target.org_id
    case.headers = headers


def reproduce(case: Case[Any], session: Session) -> str:
    line = case.as_curl_command(base_url=session.target.url)
    return line.replace("'Authorization: [Filtered]'", f'"Authorization: Bearer ${TOKEN_VARIABLE}"')


def run_case(case: Case[Any], session: Session) -> None:
    """Send one aimed case, check the reply like any other, then run every check on it.

    In a worker of a run with two (:mod:`zitadel_contract.workers`), never while the other has
    the app to itself: a case, or a check's own request (``ignored_auth``), may rotate it.
    """
    with session.may_rotate():
        _run_case(case, session)


def _run_case(case: Case[Any], session: Session) -> None:
    target = session.target
    api = session.settings.api
    probes = getattr(case.operation.schema.transport, "probes", None)
    if isinstance(probes, requests.Session) and probes.trust_env:
        environment_once(probes, target.url)
    response = case.call(base_url=target.url, session=session.schema_http)
    session.recorder.count_case()
    reply = READ(api, response)
    ids = dict(case.path_parameters or {})
    if isinstance(case.body, dict):
        body = case.body
        ids = {
            "projectId": body.get("projectId", body.get("project_id", "")),
            "appId": body.get("applicationId", body.get("application_id", "")),
        }
    headers = case.headers or CaseInsensitiveDict()
    call = Call(
        str(ids.get("projectId", "")),
        str(ids.get("appId", "")),
        org_id=headers.get("x-zitadel-orgid") or None,
    )
    if reply.rotation is not None:
        # Wire-format findings come from the ZITADEL checks below, not twice.
        session.observe(call, replace(reply, problems=()), lambda: reproduce(case, session))
    auth = {"Authorization": headers["Authorization"]} if "Authorization" in headers else None
    builtin_checks = BUILTIN_CHECKS
    # With --no-rotate a valid request on an unknown app is rightly refused; on v2 the schema
    # marks no field required (protojson has no required fields) while validation requires both
    # ids, so a schema-valid {} is rightly refused too.
    if session.settings.no_rotate or api != "v1":
        builtin_checks = tuple(c for c in BUILTIN_CHECKS if c is not POSITIVE_ACCEPTANCE)
    everything = (*builtin_checks, *(ZITADEL_CHECKS if api == "v1" else CONNECT_ZITADEL_CHECKS))
    sent = {"base_url": target.url, "session": session.schema_http}
    if not _failures(case, response, everything, auth, sent):
        return
    answer = f"answered HTTP {response.status_code}: {response.content[:400]!r}"
    for check in everything:  # something broke: run each check alone to name the culprit
        for failure in _failures(case, response, (check,), auth, sent):
            message = failure.message
            if not isinstance(failure, ContractFailure):
                message = f"{failure.title}: {failure.message}".strip().rstrip(":")
            line = reproduce(case, session)
            session.recorder.add(Violation(check.__name__, f"{message}\n{answer}", line))


def _failures(
    case: Case[Any],
    response: Any,
    checks: tuple[Check, ...],
    auth: dict[str, str] | None,
    sent: dict[str, Any],
) -> tuple[Failure, ...]:
    try:
        case.validate_response(response, checks=list(checks), headers=auth, transport_kwargs=sent)
    except FailureGroup as group:
        return tuple(group.exceptions)
    return ()
