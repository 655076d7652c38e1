"""The Connect codec's pieces: Go's JSON encoding of errors, protojson timestamps, connect-go's
Content-Type canonicalisation, its negotiation order, and Connect over HTTP/2 on a socket."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import PORTAL, WEB, LiveServer
from tests.support.h2client import H2Client
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.operations.service import Regenerated
from zitadel_mock.protocols.connect_codec import error_json, go_json, success_json
from zitadel_mock.protocols.connect_wire import canonical_type, negotiate


def test_go_json_escapes_html_characters_and_line_separators() -> None:
    assert (
        go_json({"m": "<a> & \u2028\u2029 é"}) == '{"m":"\\u003ca\\u003e \\u0026 \\u2028\\u2029 é"}'
    )


def test_go_json_keeps_apostrophes_and_writes_compactly() -> None:
    assert go_json({"a": "doesn't", "b": [1, 2]}) == '{"a":"doesn\'t","b":[1,2]}'


def test_a_row_without_id_has_no_details_key() -> None:
    body = error_json(MockError(errors.AUTH_HEADER_MISSING))
    assert body == b'{"code":"unauthenticated","message":"auth header missing"}'


def test_an_error_detail_is_unpadded_base64_with_its_debug_form() -> None:
    body = json.loads(error_json(MockError(errors.MEMBERSHIP_NOT_FOUND)))
    assert body["details"] == [
        {
            "type": "zitadel.v1.ErrorDetail",
            "value": "CgtBVVRIWi1jZGdGaxIUbWVtYmVyc2hpcCBub3QgZm91bmQ",
            "debug": {"id": "AUTHZ-cdgFk", "message": "membership not found"},
        }
    ]


def test_reference_detail_value_for_auth_awfge() -> None:
    body = json.loads(error_json(MockError(errors.V2_NO_PERMISSION)))
    assert (
        body["details"][0]["value"] == "CgpBVVRILUFXZmdlEh1ObyBtYXRjaGluZyBwZXJtaXNzaW9ucyBmb3VuZA"
    )


@pytest.mark.parametrize(
    ("micros", "expected"),
    [
        (0, "2026-01-02T03:04:05Z"),
        (120_000, "2026-01-02T03:04:05.120Z"),
        (123_456, "2026-01-02T03:04:05.123456Z"),
    ],
)
def test_creation_dates_use_protojsons_fraction_digits(micros: int, expected: str) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, micros, tzinfo=UTC)
    body = json.loads(success_json(Regenerated("s" * 64, 1, moment, "o")))
    assert body == {"clientSecret": "s" * 64, "creationDate": expected}


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Application/JSON", "application/json"),
        ("application/json;charset=utf-8", "application/json; charset=utf-8"),
        ("application/json; Charset=utf-8", "application/json; charset=utf-8"),
    ],
)
def test_content_types_are_canonicalised_as_connect_go_does(raw: str, canonical: str) -> None:
    assert canonical_type(raw) == canonical


def test_gzip_in_accept_encoding_needs_its_own_token() -> None:
    assert negotiate({"accept-encoding": "deflate, gzip"}).response_gzip
    assert not negotiate({"accept-encoding": "gzip;q=0"}).response_gzip


def test_the_compression_is_checked_before_the_version() -> None:
    with pytest.raises(MockError) as caught:
        negotiate({"content-encoding": "br", "connect-protocol-version": "2"})
    assert caught.value.row is errors.CONNECT_UNKNOWN_COMPRESSION


def test_connect_json_over_prior_knowledge_http2(server: LiveServer) -> None:
    client = H2Client(server.port)
    body = json.dumps({"applicationId": WEB, "projectId": PORTAL}).encode()
    try:
        answer = client.request(
            "/zitadel.application.v2.ApplicationService/GenerateClientSecret",
            {"content-type": "application/json", "authorization": "Bearer admin-pat"},
            body,
        )
    finally:
        client.close()
    assert answer.status == 200
    assert set(json.loads(bytes(answer.data))) == {"clientSecret", "creationDate"}
