"""Connect on the v2 paths as connect-go serves it: application/proto, gzip both ways, the
protocol headers, connect-go's check order and the bad input of issue 11 (ZITADEL-v2.md 2.3)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import PORTAL, WEB, LiveServer, start_server
from tests.support.control_helpers import fresh_ns, sequence
from zitadel_proto.zitadel.app_v2beta_pb2 import RegenerateClientSecretRequest
from zitadel_proto.zitadel.application_v2_pb2 import (
    GenerateClientSecretRequest,
    GenerateClientSecretResponse,
)

V2 = "/zitadel.application.v2.ApplicationService/GenerateClientSecret"
V2BETA = "/zitadel.app.v2beta.AppService/RegenerateClientSecret"
AUTH = {"Authorization": "Bearer admin-pat"}
JSON = {"Content-Type": "application/json", **AUTH}
GOOD = json.dumps({"applicationId": WEB, "projectId": PORTAL}).encode()
DECODE_PREFIX = (
    "unmarshal message: unmarshal into *application.GenerateClientSecretRequest: proto: "
)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = start_server()
    yield server
    server.stop()


def post(live: LiveServer, body: bytes, path: str = V2, **headers: str) -> httpx.Response:
    sent = {**JSON, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return live.client.post(path, content=body, headers=sent)


def connect_error(response: httpx.Response) -> tuple[int, str, str]:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    return response.status_code, body["code"], body["message"]


# -- application/proto -----------------------------------------------------------------------


def test_proto_request_gets_a_proto_response(live: LiveServer) -> None:
    request = GenerateClientSecretRequest(application_id=WEB, project_id=PORTAL)
    body = request.SerializeToString()
    assert len(body) == 40
    assert body[:2] == b"\x0a\x12"
    response = post(live, body, Content_Type="application/proto")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/proto"
    assert response.content[:2] == b"\x0a\x40"  # field 1, 64 bytes: the secret
    message = GenerateClientSecretResponse.FromString(response.content)
    assert len(message.client_secret) == 64
    assert message.creation_date.seconds > 0


def test_v2beta_proto_numbers_project_id_first(live: LiveServer) -> None:
    request = RegenerateClientSecretRequest(project_id=PORTAL, application_id=WEB, is_oidc=True)
    assert request.SerializeToString().endswith(b"\x18\x01")
    response = post(live, request.SerializeToString(), V2BETA, Content_Type="application/proto")
    assert response.status_code == 200


def test_an_empty_proto_body_is_an_empty_message_that_fails_validation(live: LiveServer) -> None:
    response = post(live, b"", Content_Type="application/proto")
    status, code, message = connect_error(response)
    assert (status, code) == (400, "invalid_argument")
    assert message.startswith("invalid GenerateClientSecretRequest.ApplicationId: ")


def test_a_proto_body_that_does_not_decode_is_invalid_argument(live: LiveServer) -> None:
    response = post(live, b"\x0a\xff\xff", Content_Type="application/proto")
    assert connect_error(response) == (
        400,
        "invalid_argument",
        DECODE_PREFIX + "cannot parse invalid wire-format data",
    )


def test_errors_to_proto_requests_are_json(live: LiveServer) -> None:
    request = GenerateClientSecretRequest(application_id="1", project_id=PORTAL)
    response = post(live, request.SerializeToString(), Content_Type="application/proto")
    assert connect_error(response)[:2] == (404, "not_found")


def test_the_json_content_type_with_charset_is_echoed(live: LiveServer) -> None:
    response = post(live, GOOD, Content_Type="application/json; charset=utf-8")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"


# -- compression -----------------------------------------------------------------------------


def test_accept_encoding_gzip_compresses_the_success(live: LiveServer) -> None:
    response = post(live, GOOD, Accept_Encoding="gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert set(response.json()) == {"clientSecret", "creationDate"}  # httpx inflated it


def test_identity_accept_encoding_leaves_it_plain(live: LiveServer) -> None:
    response = post(live, GOOD, Accept_Encoding="identity")
    assert "content-encoding" not in response.headers


def test_a_gzipped_request_is_read_and_answered_gzipped(live: LiveServer) -> None:
    response = post(live, gzip.compress(GOOD), Content_Encoding="gzip", Accept_Encoding="identity")
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"


def test_error_bodies_are_never_compressed(live: LiveServer) -> None:
    body = json.dumps({"applicationId": "1", "projectId": PORTAL}).encode()
    response = post(live, body, Accept_Encoding="gzip")
    assert response.status_code == 404
    assert "content-encoding" not in response.headers
    assert response.headers["accept-encoding"] == "gzip"


def test_t4_an_unknown_content_encoding_is_unimplemented(live: LiveServer) -> None:
    response = post(live, GOOD, Content_Encoding="br")
    assert connect_error(response) == (
        501,
        "unimplemented",
        'unknown compression "br": supported encodings are gzip',
    )


def test_a_body_that_is_not_gzip_is_invalid_argument(live: LiveServer) -> None:
    status, code, _ = connect_error(post(live, GOOD, Content_Encoding="gzip"))
    assert (status, code) == (400, "invalid_argument")


def test_a_gzip_bomb_is_refused_with_bounded_memory(live: LiveServer) -> None:
    bomb = gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100_000
    assert connect_error(post(live, bomb, Content_Encoding="gzip")) == (
        429,
        "resource_exhausted",
        "message size 67108864 is larger than configured max 4194304",
    )


def test_a_body_over_the_bound_names_its_size(live: LiveServer) -> None:
    assert connect_error(post(live, b" " * (4 * 1024 * 1024 + 1))) == (
        429,
        "resource_exhausted",
        "message size 4194305 is larger than configured max 4194304",
    )


# -- protocol headers ------------------------------------------------------------------------


def test_protocol_version_1_is_accepted(live: LiveServer) -> None:
    assert post(live, GOOD, Connect_Protocol_Version="1").status_code == 200


def test_t5_protocol_version_2_is_refused(live: LiveServer) -> None:
    assert connect_error(post(live, GOOD, Connect_Protocol_Version="2")) == (
        400,
        "invalid_argument",
        'Connect-Protocol-Version must be "1": got "2"',
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", 'parse timeout: strconv.ParseInt: parsing "abc": invalid syntax'),
        ("12345678901", 'parse timeout: "12345678901" has >10 digits'),
    ],
    ids=["not-a-number", "eleven-digits"],
)
def test_t6_a_timeout_that_does_not_parse_is_refused(
    live: LiveServer, value: str, message: str
) -> None:
    response = post(live, GOOD, Connect_Timeout_Ms=value)
    assert connect_error(response) == (400, "invalid_argument", message)


def test_a_generous_timeout_lets_the_call_through(live: LiveServer) -> None:
    assert post(live, GOOD, Connect_Timeout_Ms="10000").status_code == 200


def test_a_delay_past_the_timeout_is_deadline_exceeded(live: LiveServer) -> None:
    response = post(live, GOOD, Connect_Timeout_Ms="50", Prefer="delay=2000")
    assert connect_error(response) == (504, "deadline_exceeded", "context deadline exceeded")


def test_an_expired_deadline_still_gets_the_interceptors_answers(live: LiveServer) -> None:
    response = live.client.post(
        V2, content=GOOD, headers={"Content-Type": "application/json", "Connect-Timeout-Ms": "0"}
    )
    assert connect_error(response)[:2] == (401, "unauthenticated")


def test_an_expired_deadline_stops_the_call_before_the_command(live: LiveServer) -> None:
    ns = fresh_ns()
    before = sequence(live, ns)
    response = post(live, GOOD, Connect_Timeout_Ms="0", X_Mock_Namespace=ns)
    assert connect_error(response) == (504, "deadline_exceeded", "context deadline exceeded")
    assert sequence(live, ns) == before


# -- connect-go's order: 405, 415, 501, version, timeout, body -------------------------------


def test_405_comes_before_415(live: LiveServer) -> None:
    response = live.client.put(V2, content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 405


def test_415_comes_before_the_compression(live: LiveServer) -> None:
    response = post(live, GOOD, Content_Type="text/plain", Content_Encoding="br")
    assert response.status_code == 415


def test_the_compression_comes_before_the_protocol_version(live: LiveServer) -> None:
    response = post(live, GOOD, Content_Encoding="br", Connect_Protocol_Version="2")
    assert response.status_code == 501


def test_the_protocol_version_comes_before_the_timeout(live: LiveServer) -> None:
    response = post(live, GOOD, Connect_Protocol_Version="2", Connect_Timeout_Ms="x")
    assert connect_error(response)[2].startswith("Connect-Protocol-Version")


def test_the_timeout_comes_before_the_body(live: LiveServer) -> None:
    response = post(live, b"", Connect_Timeout_Ms="x")
    assert connect_error(response)[2].startswith("parse timeout: ")


# -- bad JSON: 400, never 500 ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b"null",
        b'{"applicationId": 5, "projectId": "1"}',
        b'{"applicationId": ["a"], "projectId": "1"}',
        b'{"applicationId": "a", "application_id": "b"}',
        b'{"applicationId": "\xff"}',
        b'{"x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"applicationId": NaN}',
    ],
    ids=[
        "truncated",
        "array",
        "null",
        "number-for-string",
        "array-for-string",
        "field-twice",
        "not-utf8",
        "deep-nesting",
        "nan",
    ],
)
def test_t7_bodies_that_do_not_decode_are_invalid_argument(live: LiveServer, body: bytes) -> None:
    status, code, message = connect_error(post(live, body))
    assert (status, code) == (400, "invalid_argument")
    assert message.startswith(DECODE_PREFIX)


def test_a_wrong_type_names_the_field_as_go_protojson_does(live: LiveServer) -> None:
    message = connect_error(post(live, b'{"applicationId": 5}'))[2]
    assert message.endswith("invalid value for string field applicationId: 5")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "unexpected EOF"),
        (b"[]", "syntax error (line 1:1): unexpected token ["),
        (
            b'{"applicationId": "a", "application_id": "b"}',
            '(line 1:24): duplicate field "application_id"',
        ),
        (
            b'{"applicationId": {"x": 1}}',
            "(line 1:19): invalid value for string field applicationId: {",
        ),
        (b'{\n "applicationId": "\xff"}', "syntax error (line 2:20): invalid UTF-8 in string"),
    ],
    ids=["eof", "array", "duplicate", "object-for-string", "not-utf8-line-2"],
)
def test_decode_errors_read_as_go_protojson_words_them(
    live: LiveServer, body: bytes, reason: str
) -> None:
    assert connect_error(post(live, body))[2] == DECODE_PREFIX + reason


def test_decoding_comes_before_authentication(live: LiveServer) -> None:
    response = live.client.post(V2, content=b"{", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


# -- CORS (rs/cors, every origin, credentials) -----------------------------------------------


def test_a_preflight_is_answered_204_before_connect(live: LiveServer) -> None:
    response = live.client.options(
        V2,
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,connect-protocol-version",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "connect-protocol-version" in response.headers["access-control-allow-headers"]


def test_answers_to_an_origin_expose_zitadels_headers(live: LiveServer) -> None:
    response = post(live, GOOD, Origin="https://app.example")
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["access-control-expose-headers"] == (
        "Location, Content-Length, Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin"
    )
    assert response.headers["vary"] == "Origin"


def test_vary_origin_is_sent_without_an_origin_too(live: LiveServer) -> None:
    response = live.client.get(V2)
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in response.headers
