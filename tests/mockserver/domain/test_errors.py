"""The error catalogue: one table of codes to statuses, ZITADEL's message and detail shapes."""

from __future__ import annotations

import pytest

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import CATALOGUE, Code, MockError, status_body


def test_grpc_codes_map_to_http_statuses_as_grpc_gateway_does() -> None:
    assert errors.HTTP_STATUS[Code.FAILED_PRECONDITION] == 400  # not 412
    assert errors.HTTP_STATUS[Code.UNIMPLEMENTED] == 501
    assert errors.HTTP_STATUS[Code.CANCELLED] == 499
    assert set(errors.HTTP_STATUS) == set(Code)


def test_method_not_allowed_is_the_one_row_that_overrides_the_table() -> None:
    overriding = [row.name for row in CATALOGUE if row.status != errors.HTTP_STATUS[row.code]]
    assert overriding == ["method_not_allowed"]
    assert errors.METHOD_NOT_ALLOWED.status == 405


def test_zitadel_errors_read_text_then_id_in_parentheses() -> None:
    error = MockError(errors.APP_NOT_FOUND)
    assert error.message == "Application doesn't exist (COMMAND-2g66f)"
    assert error.detail == ("COMMAND-2g66f", "Application doesn't exist")


def test_plain_grpc_statuses_have_no_detail() -> None:
    assert MockError(errors.AUTH_HEADER_MISSING).detail is None
    assert status_body(MockError(errors.ROUTE_NOT_FOUND)) == {"code": 5, "message": "Not Found"}


def test_status_body_carries_one_error_detail_packed_as_any() -> None:
    body = status_body(MockError(errors.NO_PERMISSION))
    assert body == {
        "code": 7,
        "message": "No matching permissions found (AUTH-5mWD2)",
        "details": [
            {
                "@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
                "id": "AUTH-5mWD2",
                "message": "No matching permissions found",
            }
        ],
    }


def test_templated_rows_fill_in_their_fields() -> None:
    error = MockError(
        errors.INVALID_ID_LENGTH,
        message="RegenerateOIDCClientSecretRequest",
        field="AppId",
        min="1",
        max="200",
    )
    assert error.message == (
        "invalid RegenerateOIDCClientSecretRequest.AppId: "
        "value length must be between 1 and 200 runes, inclusive"
    )


@pytest.mark.parametrize("row", CATALOGUE, ids=lambda row: row.name)
def test_every_row_has_a_unique_name_and_an_error_code(row: errors.Row) -> None:
    assert errors.BY_NAME[row.name] is row
    assert row.code is not Code.OK


def test_repr_names_the_row() -> None:
    assert (
        repr(MockError(errors.TOKEN_INVALID))
        == "MockError(token_invalid: 'Errors.Token.Invalid (AUTH-7fs1e)')"
    )
