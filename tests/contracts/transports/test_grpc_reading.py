"""How the contract reads a gRPC and a gRPC-web answer: each promise of the wire, shown to fail."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from google.protobuf.unknown_fields import UnknownFieldSet

from zitadel_contract.checks import status_violations
from zitadel_contract.model import Call, Reply
from zitadel_contract.transports.grpc_reply import request_message, status_reply, success_reply
from zitadel_contract.transports.grpc_web_reply import read_grpc_web
from zitadel_proto.status import encode_status
from zitadel_proto.wire import (
    Wire,
    encode_binary_header,
    encode_frame,
    encode_grpc_message,
    encode_trailer_block,
)
from zitadel_proto.zitadel.management_pb2 import (
    RegenerateOIDCClientSecretRequest,
    RegenerateOIDCClientSecretResponse,
)
from zitadel_proto.zitadel.message_pb2 import ErrorDetail
from zitadel_proto.zitadel.object_pb2 import ObjectDetails

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CHANGED = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
TEXT = "Application doesn't exist"
MESSAGE = f"{TEXT} (COMMAND-2g66f)"
DETAILS = encode_status(5, MESSAGE, (ErrorDetail(id="COMMAND-2g66f", message=TEXT),))
WEB = {"content-type": "application/grpc-web+proto"}


def checks_of(reply: Reply) -> set[str]:
    return {v.check for v in (*reply.problems, *status_violations(reply))}


def response(secret: str = "A" * 64) -> RegenerateOIDCClientSecretResponse:
    change_date = Timestamp()
    change_date.FromDatetime(CHANGED)
    return RegenerateOIDCClientSecretResponse(
        client_secret=secret,
        details=ObjectDetails(sequence=2**63 + 5, change_date=change_date, resource_owner="42"),
    )


def error(code: int = 5, message: str = MESSAGE, details: bytes | None = DETAILS) -> Reply:
    return status_reply(code, message, details, NOW, [])


def web_trailers(code: int = 5, message: str = MESSAGE, details: bytes | None = DETAILS) -> bytes:
    pairs = [("grpc-status", str(code)), ("grpc-message", encode_grpc_message(message))]
    if details is not None:
        pairs.append(("grpc-status-details-bin", encode_binary_header(details)))
    return encode_trailer_block(pairs)


def web_success(body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
    if body is None:
        body = encode_frame(response().SerializeToString()) + web_trailers(0, "", None)
    return read_grpc_web(headers or WEB, body, Wire.GRPC_WEB, NOW)


# -- errors -----------------------------------------------------------------------------------


def test_zitadels_not_found_keeps_every_promise() -> None:
    reply = error()
    assert (reply.code, reply.first_detail_id, checks_of(reply)) == (5, "COMMAND-2g66f", set())


def test_an_error_without_an_id_needs_no_details() -> None:
    assert checks_of(error(16, "auth header missing", None)) == set()


def test_a_zitadel_error_without_its_details_is_found() -> None:
    assert checks_of(error(details=None)) == {"zitadel_error_carries_status_details"}


def test_details_that_are_no_google_rpc_status_are_found() -> None:
    reply = error(details=b"\x12\x40cut short")
    assert checks_of(reply) == {"status_details_are_google_rpc_status"}


def test_details_naming_another_code_are_found() -> None:
    assert checks_of(error(code=7)) == {"status_details_are_google_rpc_status"}


def test_a_code_outside_the_table_is_found() -> None:
    assert "grpc_status_is_known_code" in checks_of(error(code=17, details=None))


def test_a_message_without_the_id_is_found_against_the_error_detail() -> None:
    details = encode_status(5, TEXT, (ErrorDetail(id="COMMAND-2g66f", message=TEXT),))
    assert checks_of(error(message=TEXT, details=details)) == {"error_message_reads_text_and_id"}


# -- successes --------------------------------------------------------------------------------


def test_a_success_becomes_a_rotation_with_a_uint64_sequence_and_utc_dates() -> None:
    reply = success_reply(response().SerializeToString(), NOW, [])
    rotation = reply.rotation
    assert rotation is not None
    assert checks_of(reply) == set()
    assert (rotation.sequence, rotation.change_date, rotation.creation_date) == (
        2**63 + 5,
        CHANGED,
        None,
    )
    assert rotation.resource_owner == "42"


def test_a_creation_date_is_read_when_present() -> None:
    message = response()
    message.details.creation_date.FromDatetime(datetime(2025, 5, 6, tzinfo=UTC))
    rotation = success_reply(message.SerializeToString(), NOW, []).rotation
    assert rotation is not None
    assert rotation.creation_date == datetime(2025, 5, 6, tzinfo=UTC)


def test_a_success_without_a_secret_is_found() -> None:
    reply = success_reply(response(secret="").SerializeToString(), NOW, [])
    assert (reply.rotation, checks_of(reply)) == (None, {"success_is_response_message"})


def test_a_success_without_a_change_date_is_found() -> None:
    message = response()
    message.details.ClearField("change_date")
    reply = success_reply(message.SerializeToString(), NOW, [])
    assert (reply.rotation, checks_of(reply)) == (None, {"success_is_response_message"})


def test_a_message_cut_short_is_found_without_quoting_it() -> None:
    payload = response().SerializeToString()[:-3]
    reply = success_reply(payload, NOW, [])
    assert checks_of(reply) == {"success_is_response_message"}
    assert "AAAA" not in reply.problems[0].message


# -- gRPC-web ---------------------------------------------------------------------------------


def test_a_grpc_web_success_with_its_trailer_frame_keeps_every_promise() -> None:
    reply = web_success()
    assert (reply.ok, reply.rotation is not None, checks_of(reply)) == (True, True, set())


def test_a_grpc_web_success_with_the_status_in_the_headers_is_found() -> None:
    body = encode_frame(response().SerializeToString())
    reply = web_success(body, {**WEB, "grpc-status": "0"})
    assert checks_of(reply) == {"grpc_web_trailers_in_final_frame"}


def test_a_grpc_web_trailer_frame_that_is_not_last_is_found() -> None:
    body = web_trailers(0, "", None) + encode_frame(response().SerializeToString())
    assert "grpc_web_trailers_in_final_frame" in checks_of(web_success(body))


def test_a_grpc_web_body_ending_inside_a_frame_is_found() -> None:
    body = encode_frame(response().SerializeToString()) + web_trailers(0, "", None)
    assert "grpc_web_body_is_framed" in checks_of(web_success(body[:-2]))


def test_a_grpc_web_answer_in_another_content_type_is_found() -> None:
    reply = web_success(headers={"content-type": "application/grpc"})
    assert checks_of(reply) == {"grpc_web_body_is_framed"}


def test_grpc_web_text_is_read_from_base64() -> None:
    body = base64.b64encode(encode_frame(b"") + web_trailers())
    reply = read_grpc_web(
        {"content-type": "application/grpc-web-text+proto"}, body, Wire.GRPC_WEB_TEXT, NOW
    )
    assert (reply.code, checks_of(reply)) == (5, set())


def test_a_grpc_web_error_in_the_headers_alone_is_allowed() -> None:
    headers = {**WEB, "grpc-status": "16", "grpc-message": "auth header missing"}
    reply = read_grpc_web(headers, b"", Wire.GRPC_WEB, NOW)
    assert (reply.code, checks_of(reply)) == (16, set())


def test_a_grpc_web_answer_with_no_status_at_all_is_found() -> None:
    reply = read_grpc_web(WEB, encode_frame(b""), Wire.GRPC_WEB, NOW)
    assert (reply.code, checks_of(reply)) == (-1, {"grpc_web_trailers_in_final_frame"})


def test_a_grpc_status_that_is_no_number_is_found() -> None:
    headers = {**WEB, "grpc-status": "NOT_FOUND"}
    reply = read_grpc_web(headers, b"", Wire.GRPC_WEB, NOW)
    assert checks_of(reply) == {"grpc_status_is_known_code"}


def test_grpc_message_in_gos_percent_encoding_is_decoded() -> None:
    said = "100% s\u00fbr: l\u2019app n\u2019existe pas"  # '%' and non-ASCII travel as %XX
    text = f"{said} (COMMAND-2g66f)"
    details = encode_status(5, text, (ErrorDetail(id="COMMAND-2g66f", message=said),))
    reply = read_grpc_web(WEB, web_trailers(5, text, details), Wire.GRPC_WEB, NOW)
    assert (reply.message, checks_of(reply)) == (text, set())


def test_a_grpc_message_with_a_bare_percent_is_found() -> None:
    block = encode_trailer_block([("grpc-status", "3"), ("grpc-message", "100% wrong")])
    reply = read_grpc_web(WEB, block, Wire.GRPC_WEB, NOW)
    assert checks_of(reply) == {"grpc_message_is_percent_encoded"}


def test_a_grpc_message_that_decodes_to_no_utf8_is_found() -> None:
    block = encode_trailer_block([("grpc-status", "3"), ("grpc-message", "bad %FF byte")])
    reply = read_grpc_web(WEB, block, Wire.GRPC_WEB, NOW)
    assert checks_of(reply) == {"grpc_message_is_percent_encoded"}


def test_details_that_are_no_base64_are_found() -> None:
    block = encode_trailer_block(
        [("grpc-status", "5"), ("grpc-message", MESSAGE), ("grpc-status-details-bin", "!!")]
    )
    reply = read_grpc_web(WEB, block, Wire.GRPC_WEB, NOW)
    assert checks_of(reply) == {"status_details_are_google_rpc_status"}


# -- the request ------------------------------------------------------------------------------


def test_extra_fields_travel_as_unknown_fields_and_leave_the_ids_alone() -> None:
    call = Call("p1", "a1", extra_fields={"projectId": "other", "n": 7, "x": [1, None]})
    request = RegenerateOIDCClientSecretRequest.FromString(request_message(call))
    assert (request.project_id, request.app_id) == ("p1", "a1")
    assert len(UnknownFieldSet(request)) == 3
