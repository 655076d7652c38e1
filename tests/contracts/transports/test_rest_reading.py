"""How the contract reads an HTTP answer: each promise of the wire format, shown to fail."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from zitadel_contract.checks import status_violations
from zitadel_contract.model import Reply
from zitadel_contract.transports.rest import read_reply

JSON = {"content-type": "application/json"}
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DETAIL = {
    "@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
    "id": "COMMAND-2g66f",
    "message": "Application doesn't exist",
}
NOT_FOUND = {"code": 5, "message": "Application doesn't exist (COMMAND-2g66f)", "details": [DETAIL]}
DETAILS: dict[str, object] = {
    "sequence": "7",
    "changeDate": "2026-01-02T03:04:05.123456Z",
    "resourceOwner": "42",
}
SUCCESS: dict[str, object] = {"clientSecret": "A" * 64, "details": DETAILS}


def checks_of(reply: Reply) -> set[str]:
    return {v.check for v in (*reply.problems, *status_violations(reply))}


def read(status: int, body: object, headers: dict[str, str] | None = None) -> Reply:
    return read_reply(status, headers or JSON, json.dumps(body).encode(), NOW)


def test_zitadels_not_found_keeps_every_promise() -> None:
    reply = read(404, NOT_FOUND)
    assert (reply.code, checks_of(reply)) == (5, set())


def test_a_code_that_does_not_match_the_status_is_found() -> None:
    assert checks_of(read(404, {**NOT_FOUND, "code": 3})) == {"error_code_matches_http_status"}


def test_405_with_unimplemented_is_the_gateways_routing_exception() -> None:
    assert checks_of(read(405, {"code": 12, "message": "Method Not Allowed"})) == set()


def test_problem_json_is_not_a_google_rpc_status() -> None:
    problem = {"type": "about:blank", "title": "Not Found", "status": 404}
    reply = read(404, problem, {"content-type": "application/problem+json"})
    assert checks_of(reply) == {"error_is_google_rpc_status"}


def test_a_401_without_www_authenticate_is_found() -> None:
    reply = read(401, {"code": 16, "message": "auth header missing"})
    assert checks_of(reply) == {"unauthenticated_carries_www_authenticate"}


def test_a_401_with_www_authenticate_keeps_the_promise() -> None:
    headers = {**JSON, "www-authenticate": "auth header missing"}
    assert checks_of(read(401, {"code": 16, "message": "auth header missing"}, headers)) == set()


def test_a_message_that_does_not_end_in_the_detail_id_is_found() -> None:
    reply = read(404, {**NOT_FOUND, "message": "Application doesn't exist"})
    assert checks_of(reply) == {"error_message_reads_text_and_id"}


def test_a_detail_of_another_type_is_found() -> None:
    detail = {**DETAIL, "@type": "type.googleapis.com/google.rpc.ErrorInfo"}
    assert checks_of(read(404, {**NOT_FOUND, "details": [detail]})) == {
        "error_detail_is_zitadel_error_detail"
    }


def test_a_success_is_read_into_a_rotation() -> None:
    rotation = read(200, SUCCESS).rotation
    assert rotation is not None
    assert (rotation.sequence, rotation.change_date.microsecond, rotation.resource_owner) == (
        7,
        123456,
        "42",
    )


def test_a_sequence_as_a_json_number_is_found_but_still_read() -> None:
    reply = read(200, {**SUCCESS, "details": {**DETAILS, "sequence": 7}})
    assert checks_of(reply) == {"success_body_is_protojson"}
    assert reply.rotation is not None


def test_nanosecond_timestamps_are_read() -> None:
    details = {**DETAILS, "changeDate": "2026-01-02T03:04:05.123456789Z"}
    reply = read(200, {**SUCCESS, "details": details})
    assert reply.rotation is not None
    assert checks_of(reply) == set()


def test_a_timestamp_with_an_offset_is_not_protojson() -> None:
    details = {**DETAILS, "changeDate": "2026-01-02T03:04:05+01:00"}
    assert checks_of(read(200, {**SUCCESS, "details": details})) == {"success_body_is_protojson"}
