"""openapi-connect.yaml: a valid OpenAPI 3.0.3 document of the v2/v2beta Connect JSON surface
that pins connect-go's code per status and accepts ZITADEL's bodies."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator, FormatChecker
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from referencing import Registry
from referencing.jsonschema import DRAFT4

from zitadel_proto.methods import V2_GENERATE_CLIENT_SECRET, V2BETA_REGENERATE_CLIENT_SECRET
from zitadel_proto.zitadel.message_pb2 import ErrorDetail

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi-connect.yaml"
PATHS = (V2_GENERATE_CLIENT_SECRET, V2BETA_REGENERATE_CLIENT_SECRET)

# connect-go's connectCodeToHTTP (ZITADEL-v2.md §5), restated here as the expectation.
CONNECT_HTTP: dict[str, int] = {
    "canceled": 499,
    "unknown": 500,
    "invalid_argument": 400,
    "deadline_exceeded": 504,
    "not_found": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "resource_exhausted": 429,
    "failed_precondition": 400,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "data_loss": 500,
    "unauthenticated": 401,
}
ERROR_STATUSES = (400, 401, 403, 404, 429, 500, 501, 503, 504)
ACCEPT_POST = (
    "application/grpc, application/grpc+json, application/grpc+json; charset=utf-8, "
    "application/grpc+proto, application/grpc-web, application/grpc-web+json, "
    "application/grpc-web+json; charset=utf-8, application/grpc-web+proto, "
    "application/json, application/json; charset=utf-8, application/proto"
)

# Sample bodies from ZITADEL-v2.md §3, §5 and §9 (values invented there, shapes from code).
SUCCESS: dict[str, Any] = {
    "clientSecret": "x5FvoahLlVlCnsccodJqiWdqUR5jokWuSCmZfLL0nXFNkZRjNwtJnEdD1TWfKnPu",
    "creationDate": "2025-11-27T10:15:30.123456Z",
}
NOT_FOUND: dict[str, Any] = {
    "code": "not_found",
    "message": "Application doesn't exist (COMMAND-Kd92s)",
    "details": [
        {
            "type": "zitadel.v1.ErrorDetail",
            "value": "Cg1DT01NQU5ELUtkOTJzEhlBcHBsaWNhdGlvbiBkb2Vzbid0IGV4aXN0",
            "debug": {"id": "COMMAND-Kd92s", "message": "Application doesn't exist"},
        }
    ],
}
AUTH_MISSING: dict[str, Any] = {"code": "unauthenticated", "message": "auth header missing"}
TOKEN_INVALID: dict[str, Any] = {
    "code": "unauthenticated",
    "message": "Errors.Token.Invalid (AUTH-7fs1e)",
    "details": [
        {
            "type": "zitadel.v1.ErrorDetail",
            "value": "CgpBVVRILTdmczFlEhRFcnJvcnMuVG9rZW4uSW52YWxpZA",
            "debug": {"id": "AUTH-7fs1e", "message": "Errors.Token.Invalid"},
        }
    ],
}
VALIDATION: dict[str, Any] = {
    "code": "invalid_argument",
    "message": "invalid GenerateClientSecretRequest.ApplicationId: value length must be between"
    " 1 and 200 runes, inclusive",
}
EMPTY_BODY: dict[str, Any] = {
    "code": "invalid_argument",
    "message": "unmarshal message: zero-length payload is not a valid JSON object",
}
SAMPLES: list[tuple[int, dict[str, Any]]] = [
    (200, SUCCESS),
    (404, NOT_FOUND),
    (401, AUTH_MISSING),
    (401, TOKEN_INVALID),
    (400, VALIDATION),
    (400, EMPTY_BODY),
    (400, {"code": "invalid_argument", "message": "Application is not type OIDC (COMMAND-Ghrh3)"}),
    (
        400,
        {"code": "invalid_argument", "message": 'Connect-Protocol-Version must be "1": got "2"'},
    ),
    (
        501,
        {
            "code": "unimplemented",
            "message": 'unknown compression "br": supported encodings are gzip',
        },
    ),
    (403, {"code": "permission_denied", "message": "No matching permissions found (AUTH-AWfge)"}),
    (429, {"code": "resource_exhausted", "message": "Quota.Access.Exhausted (QUOTA-vjAy8)"}),
    (500, {"code": "internal", "message": "connection refused ()"}),
]


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return loaded


def operation_pointer(path: str, *rest: str) -> str:
    escaped = path.replace("~", "~0").replace("/", "~1")
    return "/".join(["", "paths", escaped, "post", *rest])


def validator(json_pointer: str) -> Draft4Validator:
    """A validator of the schema at ``json_pointer``, its references resolved in the document."""
    registry: Registry[Any] = Registry().with_resource("urn:doc", DRAFT4.create_resource(spec()))
    return Draft4Validator(
        {"$ref": f"urn:doc#{json_pointer}"}, registry=registry, format_checker=FormatChecker()
    )


def response_name(path: str, status: int | str) -> str:
    """The name under components/responses of the operation's response for ``status``."""
    responses = spec()["paths"][path]["post"]["responses"]
    key = str(status) if str(status) in responses else "default"
    ref: str = responses[key]["$ref"]
    return ref.removeprefix("#/components/responses/")


def response(path: str, status: int | str) -> dict[str, Any]:
    named: dict[str, Any] = spec()["components"]["responses"][response_name(path, status)]
    return named


def response_validator(path: str, status: int | str) -> Draft4Validator:
    name = response_name(path, status)
    return validator(f"/components/responses/{name}/content/application~1json/schema")


def request_validator(path: str) -> Draft4Validator:
    return validator(
        operation_pointer(path, "requestBody", "content", "application~1json", "schema")
    )


def test_spec_validates_with_openapi_spec_validator() -> None:
    document, _ = read_from_filename(str(SPEC_PATH))
    validate(document)


def test_spec_is_openapi_3_0_3_with_both_connect_paths_and_only_them() -> None:
    assert spec()["openapi"] == "3.0.3"
    assert sorted(spec()["paths"]) == sorted(PATHS)
    assert spec()["security"] == [{"bearerAuth": []}]
    assert spec()["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize(
    ("path", "operation_id"),
    [
        (V2_GENERATE_CLIENT_SECRET, "ApplicationService_GenerateClientSecret"),
        (V2BETA_REGENERATE_CLIENT_SECRET, "AppService_RegenerateClientSecret"),
    ],
)
def test_each_path_is_a_post_with_its_operation_id(path: str, operation_id: str) -> None:
    assert list(spec()["paths"][path]) == ["post"]
    assert spec()["paths"][path]["post"]["operationId"] == operation_id


def test_only_v2beta_is_marked_deprecated() -> None:
    assert spec()["paths"][V2BETA_REGENERATE_CLIENT_SECRET]["post"]["deprecated"] is True
    assert "deprecated" not in spec()["paths"][V2_GENERATE_CLIENT_SECRET]["post"]


@pytest.mark.parametrize("path", PATHS)
def test_the_optional_headers_are_declared(path: str) -> None:
    refs = [p["$ref"] for p in spec()["paths"][path]["post"]["parameters"]]
    params = [spec()["components"]["parameters"][r.rsplit("/", 1)[1]] for r in refs]
    by_name = {p["name"]: p for p in params}
    assert set(by_name) == {"Connect-Protocol-Version", "Connect-Timeout-Ms", "x-zitadel-orgid"}
    assert all(p["in"] == "header" and p["required"] is False for p in params)
    assert by_name["Connect-Protocol-Version"]["schema"]["enum"] == ["1"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("status", ERROR_STATUSES)
def test_each_error_status_pins_the_connect_codes_that_map_to_it(path: str, status: int) -> None:
    schema = response(path, status)["content"]["application/json"]["schema"]
    pinned = set(schema["allOf"][1]["properties"]["code"]["enum"])
    assert pinned == {code for code, http in CONNECT_HTTP.items() if http == status}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "not_found"),
        (404, "unauthenticated"),
        (401, "permission_denied"),
        (403, "not_found"),
        (501, "invalid_argument"),
        (500, "unavailable"),
    ],
)
def test_a_wrong_code_for_the_status_is_refused(path: str, status: int, code: str) -> None:
    assert not response_validator(path, status).is_valid({"code": code, "message": "x"})


@pytest.mark.parametrize("path", PATHS)
def test_a_numeric_grpc_code_is_refused(path: str) -> None:
    assert not response_validator(path, 404).is_valid({"code": 5, "message": "x"})


@pytest.mark.parametrize("path", PATHS)
def test_405_and_415_have_empty_bodies_and_their_headers(path: str) -> None:
    not_allowed, unsupported = response(path, 405), response(path, 415)
    assert "content" not in not_allowed
    assert "content" not in unsupported
    assert not_allowed["headers"]["Allow"]["required"] is True
    assert not_allowed["headers"]["Allow"]["schema"]["enum"] == ["POST"]
    assert unsupported["headers"]["Accept-Post"]["required"] is True
    assert unsupported["headers"]["Accept-Post"]["schema"]["enum"] == [ACCEPT_POST]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("status", "body"), SAMPLES)
def test_the_reference_samples_validate(path: str, status: int, body: dict[str, Any]) -> None:
    response_validator(path, status).validate(body)


@pytest.mark.parametrize(
    "stamp",
    [
        "2025-11-27T10:15:30.123Z",
        "2025-11-27T10:15:30Z",
        "2025-11-27T10:15:30.123456Z",
        "2025-11-27T10:15:30.123456789Z",
    ],
)
def test_a_protojson_timestamp_validates(stamp: str) -> None:
    body = {**SUCCESS, "creationDate": stamp}
    response_validator(V2_GENERATE_CLIENT_SECRET, 200).validate(body)


@pytest.mark.parametrize(
    "stamp",
    [
        "2025-11-27T10:15:30.123+01:00",
        "2025-11-27T10:15:30+00:00",
        "2025-11-27T10:15:30.1234Z",
        "2025-11-27T10:15:30.1Z",
        "2025-11-27 10:15:30Z",
        "2025-11-27T10:15:30.123z",
    ],
)
def test_a_timestamp_protojson_would_not_write_is_refused(stamp: str) -> None:
    body = {**SUCCESS, "creationDate": stamp}
    assert not response_validator(V2_GENERATE_CLIENT_SECRET, 200).is_valid(body)


@pytest.mark.parametrize(
    "body",
    [
        {"clientSecret": SUCCESS["clientSecret"]},
        {"creationDate": SUCCESS["creationDate"]},
        {**SUCCESS, "clientSecret": ""},
        {"client_secret": SUCCESS["clientSecret"], "creation_date": SUCCESS["creationDate"]},
    ],
)
def test_a_success_without_both_camel_case_keys_is_refused(body: dict[str, Any]) -> None:
    assert not response_validator(V2BETA_REGENERATE_CLIENT_SECRET, 200).is_valid(body)


def test_the_detail_value_is_unpadded_standard_base64_of_the_error_detail() -> None:
    detail = ErrorDetail(id="AUTH-7fs1e", message="Errors.Token.Invalid")
    padded = base64.b64encode(detail.SerializeToString()).decode()
    assert padded.endswith("==")  # this one needs padding, so the checks below mean something
    unpadded = padded.rstrip("=")
    sample = TOKEN_INVALID["details"][0]
    assert unpadded == sample["value"]
    check = response_validator(V2_GENERATE_CLIENT_SECRET, 401)
    for value, ok in [(unpadded, True), (padded, False)]:
        body = {**TOKEN_INVALID, "details": [{**sample, "value": value}]}
        assert check.is_valid(body) is ok


@pytest.mark.parametrize(
    "detail",
    [
        {"type": "type.googleapis.com/zitadel.v1.ErrorDetail", "value": "Cg", "debug": {}},
        {"type": "zitadel.v1.ErrorDetail", "value": "Cg1-_w", "debug": {"id": "x", "message": ""}},
        {"type": "zitadel.v1.ErrorDetail", "value": "Cg"},
        {"type": "zitadel.v1.ErrorDetail", "value": "C", "debug": {"id": "x", "message": ""}},
        {"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": "x", "message": "y"},
    ],
)
def test_a_detail_not_in_connect_go_form_is_refused(detail: dict[str, Any]) -> None:
    body = {**NOT_FOUND, "details": [detail]}
    assert not response_validator(V2_GENERATE_CLIENT_SECRET, 404).is_valid(body)


def test_an_empty_details_list_is_refused_since_connect_go_leaves_it_out() -> None:
    body = {**AUTH_MISSING, "details": []}
    assert not response_validator(V2_GENERATE_CLIENT_SECRET, 401).is_valid(body)


@pytest.mark.parametrize(
    "body",
    [
        {"applicationId": "348472171560972346", "projectId": "348472171560972345"},
        {"application_id": "1", "project_id": "2"},
        {"applicationId": "1", "project_id": "2", "unknown": {"ignored": True}},
        {"projectId": "348472171560972345"},
        {},
    ],
)
def test_v2_request_bodies_connect_go_decodes_validate(body: dict[str, Any]) -> None:
    request_validator(V2_GENERATE_CLIENT_SECRET).validate(body)


@pytest.mark.parametrize(
    "body",
    [
        {"applicationId": "1", "application_id": "1"},
        {"projectId": 5},
    ],
)
def test_v2_request_bodies_connect_go_refuses_are_refused(body: dict[str, Any]) -> None:
    assert not request_validator(V2_GENERATE_CLIENT_SECRET).is_valid(body)


@pytest.mark.parametrize(
    "body",
    [
        {"projectId": "1", "applicationId": "2", "isOidc": True},
        {"projectId": "1", "applicationId": "2", "isOidc": False},
        {"project_id": "1", "application_id": "2", "is_api": True},
        {"projectId": "1", "applicationId": "2"},
    ],
)
def test_v2beta_request_bodies_connect_go_decodes_validate(body: dict[str, Any]) -> None:
    request_validator(V2BETA_REGENERATE_CLIENT_SECRET).validate(body)


@pytest.mark.parametrize(
    "body",
    [
        {"isOidc": True, "isApi": False},
        {"is_oidc": True, "isApi": True},
        {"isOidc": True, "is_api": True},
        {"is_oidc": False, "is_api": False},
        {"isOidc": True, "is_oidc": True},
        {"isApi": "true"},
    ],
)
def test_v2beta_request_bodies_connect_go_refuses_are_refused(body: dict[str, Any]) -> None:
    assert not request_validator(V2BETA_REGENERATE_CLIENT_SECRET).is_valid(body)
