"""gRPC (grpcio) and gRPC-web (httpx) on the v2 and v2beta paths, served as connect-go serves
them, and the control plane for v2: forced rows, delays, faults, namespaces and the journal."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import httpx
import pytest

from tests.conftest import BACKEND, PORTAL, SSO, WEB, LiveServer, start_server
from tests.support.control_helpers import admin, fresh_ns, journal, sequence
from zitadel_proto.status import decode_status
from zitadel_proto.wire import (
    decode_binary_header,
    decode_grpc_message,
    encode_frame,
    parse_trailer_block,
    split_frames,
)
from zitadel_proto.zitadel.app_v2beta_pb2 import (
    RegenerateClientSecretRequest,
    RegenerateClientSecretResponse,
)
from zitadel_proto.zitadel.application_v2_pb2 import (
    GenerateClientSecretRequest,
    GenerateClientSecretResponse,
)
from zitadel_proto.zitadel.message_pb2 import ErrorDetail

V2 = "/zitadel.application.v2.ApplicationService/GenerateClientSecret"
V2BETA = "/zitadel.app.v2beta.AppService/RegenerateClientSecret"
V2_CONNECT = {"Content-Type": "application/json", "Authorization": "Bearer admin-pat"}


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start_server()
    yield server
    server.stop()


@dataclass(frozen=True)
class Answer:
    code: int
    message: str
    detail_ids: tuple[str, ...]
    secret: str | None


def detail_ids(raw: bytes | None) -> tuple[str, ...]:
    if not raw:
        return ()
    return tuple(d.id if isinstance(d, ErrorDetail) else "?" for d in decode_status(raw).details)


def grpc_call(
    live: LiveServer,
    request: GenerateClientSecretRequest | RegenerateClientSecretRequest,
    *metadata: tuple[str, str],
    token: str = "admin-pat",
) -> Answer:
    v2 = isinstance(request, GenerateClientSecretRequest)
    with grpc.insecure_channel(f"127.0.0.1:{live.port}") as channel:
        method = channel.unary_unary(
            V2 if v2 else V2BETA,
            request_serializer=lambda raw: raw,
            response_deserializer=lambda raw: raw,
        )
        try:
            raw = method(
                request.SerializeToString(),
                metadata=(("authorization", f"Bearer {token}"), *metadata),
                timeout=10,
            )
        except grpc.RpcError as error:
            call: grpc.Call = error  # type: ignore[assignment]  # grpcio raises errors that are Calls
            details = None
            for key, value in call.trailing_metadata() or ():
                if key == "grpc-status-details-bin" and isinstance(value, bytes):
                    details = value
            code: grpc.StatusCode = call.code()
            return Answer(code.value[0], call.details() or "", detail_ids(details), None)
    assert isinstance(raw, bytes)
    response = (GenerateClientSecretResponse if v2 else RegenerateClientSecretResponse).FromString(
        raw
    )
    return Answer(0, "", (), response.client_secret)


def grpc_web_call(
    live: LiveServer, request: GenerateClientSecretRequest, **headers: str
) -> tuple[httpx.Response, Answer]:
    sent = {
        "Content-Type": "application/grpc-web+proto",
        "Authorization": "Bearer admin-pat",
        "X-Grpc-Web": "1",
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    response = live.client.post(V2, content=encode_frame(request.SerializeToString()), headers=sent)
    frames, rest = split_frames(response.content)
    assert rest == b""
    trailers = dict(response.headers)
    secret = None
    for frame in frames:
        if frame.is_trailer:
            trailers = parse_trailer_block(frame.payload)
        else:
            secret = GenerateClientSecretResponse.FromString(frame.payload).client_secret
    raw = trailers.get("grpc-status-details-bin")
    ids = detail_ids(decode_binary_header(raw) if raw else None)
    message = decode_grpc_message(trailers.get("grpc-message", ""))
    return response, Answer(int(trailers["grpc-status"]), message, ids, secret)


def v2(app: str = WEB) -> GenerateClientSecretRequest:
    return GenerateClientSecretRequest(application_id=app, project_id=PORTAL)


# -- gRPC (grpcio, HTTP/2) -------------------------------------------------------------------


def test_grpcio_rotates_over_v2(live: LiveServer) -> None:
    answer = grpc_call(live, v2())
    assert answer.code == 0
    assert answer.secret is not None
    assert len(answer.secret) == 64


def test_grpcio_rotates_an_api_app_over_v2beta(live: LiveServer) -> None:
    request = RegenerateClientSecretRequest(project_id=PORTAL, application_id=BACKEND, is_api=True)
    assert grpc_call(live, request).code == 0


def test_grpcio_sees_not_found_with_zitadels_detail(live: LiveServer) -> None:
    answer = grpc_call(live, v2(SSO))
    assert answer == Answer(
        5, "Application doesn't exist (COMMAND-Kd92s)", ("COMMAND-Kd92s",), None
    )


def test_grpcio_sees_rows_without_details_as_plain_statuses(live: LiveServer) -> None:
    answer = grpc_call(live, GenerateClientSecretRequest(project_id=PORTAL))
    assert (answer.code, answer.detail_ids) == (3, ())
    assert answer.message.startswith("invalid GenerateClientSecretRequest.ApplicationId: ")


def test_grpcio_sees_v2beta_rows(live: LiveServer) -> None:
    request = RegenerateClientSecretRequest(project_id=PORTAL, application_id=WEB, is_api=True)
    assert grpc_call(live, request).detail_ids == ("COMMAND-aeH4",)


def test_grpcio_sees_the_permission_rows(live: LiveServer) -> None:
    assert grpc_call(live, v2(), token="intranet-owner-pat").detail_ids == ("AUTH-Swrgg2",)
    assert grpc_call(live, v2(), token="nobody-pat").detail_ids == ("AUTHZ-cdgFk",)


def test_grpcio_sees_the_token_row(live: LiveServer) -> None:
    answer = grpc_call(live, v2(), token="junk")
    assert (answer.code, answer.message) == (16, "Errors.Token.Invalid (AUTH-7fs1e)")


# -- gRPC-web (HTTP/1.1) ---------------------------------------------------------------------


def test_grpc_web_rotates_with_a_trailer_frame(live: LiveServer) -> None:
    response, answer = grpc_web_call(live, v2())
    assert response.headers["content-type"] == "application/grpc-web+proto"
    assert answer.code == 0
    assert answer.secret is not None
    assert len(answer.secret) == 64


def test_grpc_web_errors_are_trailers_only(live: LiveServer) -> None:
    response, answer = grpc_web_call(live, v2("1"))
    assert response.content == b""
    assert response.headers["grpc-status"] == "5"
    assert answer.detail_ids == ("COMMAND-Kd92s",)


def test_grpc_web_text_is_not_served_on_these_paths(live: LiveServer) -> None:
    response = live.client.post(
        V2,
        content=base64.b64encode(encode_frame(v2().SerializeToString())),
        headers={"Content-Type": "application/grpc-web-text", "Authorization": "Bearer admin-pat"},
    )
    assert response.status_code == 415


def test_grpc_web_json_codec_is_served(live: LiveServer) -> None:
    body = json.dumps({"applicationId": WEB, "projectId": PORTAL}).encode()
    response = live.client.post(
        V2,
        content=encode_frame(body),
        headers={"Content-Type": "application/grpc-web+json", "Authorization": "Bearer admin-pat"},
    )
    frames, _ = split_frames(response.content)
    assert set(json.loads(frames[0].payload)) == {"clientSecret", "creationDate"}
    assert parse_trailer_block(frames[1].payload)["grpc-status"] == "0"


def test_grpc_web_unknown_encoding_is_unimplemented(live: LiveServer) -> None:
    _, answer = grpc_web_call(live, v2(), Grpc_Encoding="br")
    assert (answer.code, answer.message) == (
        12,
        'unknown compression "br": supported encodings are gzip',
    )


def raw_grpc_web(live: LiveServer, body: bytes, **headers: str) -> dict[str, str]:
    """The status of a gRPC-web call with ``body`` as it is (trailers-only or trailer frame)."""
    sent = {
        "Content-Type": "application/grpc-web+proto",
        "Authorization": "Bearer admin-pat",
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    response = live.client.post(V2, content=body, headers=sent)
    frames, _ = split_frames(response.content)
    trailers = [parse_trailer_block(f.payload) for f in frames if f.is_trailer]
    found = trailers[0] if trailers else dict(response.headers)
    return {"code": found["grpc-status"], "message": decode_grpc_message(found["grpc-message"])}


GOOD_FRAME = encode_frame(v2().SerializeToString())


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"", "12", "unary request has zero messages"),
        (GOOD_FRAME + GOOD_FRAME, "12", "unary request has multiple messages"),
        (b"\x00\x00", "3", "protocol error: incomplete envelope: unexpected EOF"),
        (
            GOOD_FRAME[:-3],
            "3",
            "protocol error: promised 40 bytes in enveloped message, got 37 bytes",
        ),
        (
            b"\x01" + GOOD_FRAME[1:],
            "13",
            "protocol error: sent compressed message without compression support",
        ),
        (
            b"\x00\x7f\xff\xff\xff",
            "8",
            "message size 2147483647 is larger than configured max 4194304",
        ),
        (b"\x80\x00\x00\x00\x00", "12", "unary request has zero messages"),
    ],
    ids=[
        "empty",
        "two-messages",
        "partial-prefix",
        "short",
        "compressed-flag",
        "huge",
        "trailer-flag",
    ],
)
def test_envelopes_are_read_as_connect_go_reads_them(
    live: LiveServer, body: bytes, code: str, message: str
) -> None:
    assert raw_grpc_web(live, body) == {"code": code, "message": message}


def test_an_empty_envelope_is_the_empty_message(live: LiveServer) -> None:
    answer = raw_grpc_web(live, encode_frame(b""))
    assert answer["code"] == "3"
    assert answer["message"].startswith("invalid GenerateClientSecretRequest.ApplicationId")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5x", "protocol error: timeout has invalid unit 'x'"),
        ("abcS", 'protocol error: invalid timeout "abcS"'),
        ("123456789S", 'protocol error: timeout "123456789S" is too long'),
    ],
)
def test_grpc_timeouts_that_do_not_parse_are_invalid_argument(
    live: LiveServer, value: str, message: str
) -> None:
    assert raw_grpc_web(live, GOOD_FRAME, Grpc_Timeout=value) == {"code": "3", "message": message}


def test_the_success_trailer_frame_is_written_as_go_writes_headers(live: LiveServer) -> None:
    response = live.client.post(
        V2,
        content=GOOD_FRAME,
        headers={"Content-Type": "application/grpc-web", "Authorization": "Bearer admin-pat"},
    )
    frames, _ = split_frames(response.content)
    assert frames[-1].is_trailer
    assert frames[-1].payload == b"grpc-status: 0\r\n"


def test_gzip_requests_get_gzip_answers_over_grpc_web(live: LiveServer) -> None:
    frame = encode_frame(gzip.compress(v2().SerializeToString()), 1)
    response = live.client.post(
        V2,
        content=frame,
        headers={
            "Content-Type": "application/grpc-web",
            "Authorization": "Bearer admin-pat",
            "Grpc-Encoding": "gzip",
        },
    )
    frames, _ = split_frames(response.content)
    assert response.headers["grpc-encoding"] == "gzip"
    assert frames[0].flags == 1
    assert (
        len(
            GenerateClientSecretResponse.FromString(
                gzip.decompress(frames[0].payload)
            ).client_secret
        )
        == 64
    )


# -- the control plane on v2 -----------------------------------------------------------------


def test_a_forced_404_on_v2_is_command_kd92s_over_connect(live: LiveServer) -> None:
    body = {"applicationId": WEB, "projectId": PORTAL}
    response = live.client.post(V2, json=body, headers={**V2_CONNECT, "Prefer": "code=404"})
    assert response.status_code == 404
    assert response.json()["message"] == "Application doesn't exist (COMMAND-Kd92s)"
    assert response.json()["details"][0]["value"] == (
        "Cg1DT01NQU5ELUtkOTJzEhlBcHBsaWNhdGlvbiBkb2Vzbid0IGV4aXN0"
    )


def test_a_forced_403_on_v2_is_v2s_permission_row(live: LiveServer) -> None:
    body = {"applicationId": WEB, "projectId": PORTAL}
    response = live.client.post(V2, json=body, headers={**V2_CONNECT, "Prefer": "code=403"})
    assert response.json()["message"] == "No matching permissions found (AUTH-AWfge)"


def test_a_forced_404_over_grpc_metadata_is_command_kd92s(live: LiveServer) -> None:
    assert grpc_call(live, v2(), ("prefer", "code=404")).detail_ids == ("COMMAND-Kd92s",)


def test_a_forced_outcome_rotates_nothing(live: LiveServer) -> None:
    ns = fresh_ns()
    before = sequence(live, ns)
    grpc_call(live, v2(), ("prefer", "code=404"), ("x-mock-namespace", ns))
    assert sequence(live, ns) == before
    grpc_call(live, v2(), ("x-mock-namespace", ns))
    assert sequence(live, ns) == before + 1


def test_queued_outcomes_answer_v2_calls(live: LiveServer) -> None:
    ns = fresh_ns()
    queued = admin(live, "POST", "/outcomes", ns, json={"app": WEB, "code": 404})
    assert queued.status_code in (200, 201), queued.text
    body = {"applicationId": WEB, "projectId": PORTAL}
    headers = {**V2_CONNECT, "X-Mock-Namespace": ns}
    first = live.client.post(V2, json=body, headers=headers)
    second = live.client.post(V2, json=body, headers=headers)
    assert (first.status_code, second.status_code) == (404, 200)


def test_a_close_fault_drops_the_connect_call(either_server: LiveServer) -> None:
    body = {"applicationId": WEB, "projectId": PORTAL}
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            f"{either_server.url}{V2}", json=body, headers={**V2_CONNECT, "Prefer": "fault=close"}
        )


def test_a_lost_fault_rotates_and_drops_the_answer(either_server: LiveServer) -> None:
    ns = fresh_ns()
    before = sequence(either_server, ns)
    headers = {**V2_CONNECT, "Prefer": "fault=lost", "X-Mock-Namespace": ns}
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            f"{either_server.url}{V2}",
            json={"applicationId": WEB, "projectId": PORTAL},
            headers=headers,
        )
    assert sequence(either_server, ns) == before + 1


def test_an_empty_fault_is_200_with_no_body(either_server: LiveServer) -> None:
    headers = {**V2_CONNECT, "Prefer": "fault=empty"}
    response = either_server.client.post(
        V2, json={"applicationId": WEB, "projectId": PORTAL}, headers=headers
    )
    assert (response.status_code, response.content) == (200, b"")


def test_a_truncate_fault_cuts_the_body(either_server: LiveServer) -> None:
    headers = {**V2_CONNECT, "Prefer": "fault=truncate"}
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            f"{either_server.url}{V2}",
            json={"applicationId": WEB, "projectId": PORTAL},
            headers=headers,
        )


def test_a_forced_405_on_connect_is_connect_gos_405(live: LiveServer) -> None:
    headers = {**V2_CONNECT, "Prefer": "code=405"}
    response = live.client.post(
        V2, json={"applicationId": WEB, "projectId": PORTAL}, headers=headers
    )
    assert (response.status_code, response.headers["allow"], response.content) == (405, "POST", b"")


def test_a_close_fault_resets_the_grpc_stream(either_server: LiveServer) -> None:
    assert (
        grpc_call(either_server, v2(), ("prefer", "fault=close")).code
        == grpc.StatusCode.CANCELLED.value[0]
    )


def test_two_different_namespaces_on_one_v2_call_are_refused(live: LiveServer) -> None:
    headers = [
        ("Content-Type", "application/grpc-web"),
        ("Authorization", "Bearer admin-pat"),
        ("X-Mock-Namespace", fresh_ns()),
        ("X-Mock-Namespace", fresh_ns()),
    ]
    response = live.client.post(V2, content=encode_frame(v2().SerializeToString()), headers=headers)
    assert response.headers["grpc-status"] == "3"
    assert decode_grpc_message(response.headers["grpc-message"]).startswith(
        "invalid X-Mock-Namespace: "
    )


def test_journal_entries_name_the_api_version_and_protocol(live: LiveServer) -> None:
    ns = fresh_ns()
    body = {"applicationId": WEB, "projectId": PORTAL}
    live.client.post(V2, json=body, headers={**V2_CONNECT, "X-Mock-Namespace": ns})
    live.client.post(
        V2,
        content=v2().SerializeToString(),
        headers={**V2_CONNECT, "Content-Type": "application/proto", "X-Mock-Namespace": ns},
    )
    grpc_call(live, v2("1"), ("x-mock-namespace", ns))
    request = RegenerateClientSecretRequest(project_id=PORTAL, application_id=WEB, is_oidc=True)
    grpc_call(live, request, ("x-mock-namespace", ns))
    live.rotate(headers={"X-Mock-Namespace": ns, "x-zitadel-orgid": "319487622871056385"})
    entries = journal(live, ns)
    assert [(e["api"], e["transport"], e["status"], e["grpcCode"]) for e in entries] == [
        ("v2", "connect", 200, None),
        ("v2", "connect-proto", 200, None),
        ("v2", "grpc", 200, 5),
        ("v2beta", "grpc", 200, 0),
        ("v1", "rest", 200, None),
    ]
    assert entries[0]["appId"] == WEB
    assert "admin-pat" not in json.dumps(entries)
