"""openapi.yaml: a valid OpenAPI 3.0.3 document that pins ZITADEL's codes and accepts its bodies."""

from __future__ import annotations

import string
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from tests.support.specs import OPERATION, SPEC_PATH, response_validator, spec, upstream_validator
from zitadel_mock.domain import errors
from zitadel_mock.domain.clock import SteppingClock
from zitadel_mock.domain.errors import CATALOGUE, HTTP_STATUS, MockError, status_body
from zitadel_mock.operations.management_v1 import response_of
from zitadel_mock.operations.operation import Success
from zitadel_mock.operations.service import Regenerated
from zitadel_mock.protocols.gateway import render_success

FIELDS = {
    "message": "RegenerateOIDCClientSecretRequest",
    "field": "ProjectId",
    "min": "1",
    "max": "200",
    "reason": "request body is not valid JSON",
    "limit": "1048576",
}


def rendered(row: errors.Row) -> dict[str, Any]:
    """The row's body with every blank of its text filled (a sample value where FIELDS has
    none, so that a new row's blank never breaks this test)."""
    blanks = {name for _, name, _, _ in string.Formatter().parse(row.text) if name}
    return status_body(MockError(row, **{name: FIELDS.get(name, "10") for name in blanks}))


def test_spec_validates_with_openapi_spec_validator() -> None:
    document, _ = read_from_filename(str(SPEC_PATH))
    validate(document)


def test_spec_is_openapi_3_0_3_with_the_operation_id() -> None:
    assert spec()["openapi"] == "3.0.3"
    assert (
        spec()["paths"][OPERATION]["post"]["operationId"]
        == "ManagementService_RegenerateOIDCClientSecret"
    )


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 503])
def test_each_error_status_pins_the_grpc_codes_that_map_to_it(status: int) -> None:
    schema = spec()["paths"][OPERATION]["post"]["responses"][str(status)]["content"][
        "application/json"
    ]["schema"]
    pinned = set(schema["allOf"][1]["properties"]["code"]["enum"])
    expected = {int(code) for code, http in HTTP_STATUS.items() if http == status}
    if status == 405:
        expected = {int(errors.Code.UNIMPLEMENTED)}  # the gateway's routing exception
    assert pinned == expected


@pytest.mark.parametrize("status", [400, 403, 404, 405])
def test_a_wrong_code_for_the_status_is_refused_by_the_spec(status: int) -> None:
    assert not response_validator(status).is_valid({"code": 16, "message": "x"})


def test_401_requires_www_authenticate() -> None:
    header = spec()["paths"][OPERATION]["post"]["responses"]["401"]["headers"]["WWW-Authenticate"]
    assert header["required"] is True


@pytest.mark.parametrize("row", CATALOGUE, ids=lambda row: row.name)
def test_every_error_row_validates_against_both_specs(row: errors.Row) -> None:
    body = rendered(row)
    response_validator(row.status).validate(body)
    upstream_validator("rpcStatus").validate(body)


def test_success_body_validates_against_both_specs() -> None:
    result = Regenerated("a" * 64, 18446744073709551615, SteppingClock()(), "319487622871056385")
    body = render_success(Success(response_of(result))).document
    response_validator(200).validate(body)
    upstream_validator("v1RegenerateOIDCClientSecretResponse").validate(body)


@pytest.mark.parametrize(
    ("definition", "body"),
    [
        ("rpcStatus", {"code": "5", "message": "Not Found"}),
        ("rpcStatus", {"code": 5, "details": [{"@type": 1}]}),
        ("v1RegenerateOIDCClientSecretResponse", {"details": {"sequence": 5}}),
    ],
)
def test_the_upstream_schemas_refuse_what_zitadel_would_not_send(
    definition: str, body: dict[str, Any]
) -> None:
    assert not upstream_validator(definition).is_valid(body)


def test_spec_accepts_a_creation_date_and_the_other_fraction_lengths() -> None:
    body = {
        "clientSecret": "s",
        "details": {
            "sequence": "5",
            "creationDate": "2025-11-27T10:15:30Z",
            "changeDate": "2025-11-27T10:15:30.123456789Z",
            "resourceOwner": "1",
        },
    }
    response_validator(200).validate(body)


@pytest.mark.parametrize(
    "details",
    [
        {"sequence": 5, "changeDate": "2025-11-27T10:15:30Z", "resourceOwner": "1"},
        {"sequence": "05", "changeDate": "2025-11-27T10:15:30Z", "resourceOwner": "1"},
        {"sequence": "5", "changeDate": "2025-11-27T10:15:30+01:00", "resourceOwner": "1"},
        {"sequence": "5", "changeDate": "2025-11-27T10:15:30Z"},
    ],
)
def test_spec_refuses_bodies_zitadel_would_not_send(details: dict[str, Any]) -> None:
    assert not response_validator(200).is_valid({"clientSecret": "s", "details": details})
