"""The neutral gRPC package: our protos carry ZITADEL's names and numbers, and are current."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pool, json_format
from google.protobuf.descriptor import FieldDescriptor, FileDescriptor

from zitadel_proto import generate, methods
from zitadel_proto.status import ERROR_DETAIL_TYPE_URL, AnyDetail, decode_status, encode_status
from zitadel_proto.wire import METHOD_PATH
from zitadel_proto.zitadel import (
    app_v2beta_pb2,
    application_v2_pb2,
    management_pb2,
    message_pb2,
    object_pb2,
)

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_is_what_the_protos_generate(tmp_path: Path) -> None:
    generate.generate(tmp_path)
    stale = [
        name
        for name in generate.generated_files()
        if (tmp_path / name).read_bytes() != (ROOT / name).read_bytes()
    ]
    assert stale == [], "run `python -m zitadel_proto.generate` and commit the result"


@pytest.mark.parametrize(
    ("stem", "old", "new"),
    [
        ("message", "message = 2;", "message = 3;"),
        ("application_v2", "application_id = 1;", "application_id = 5;"),
        ("app_v2beta", "bool is_api = 4;", "bool is_api = 5;"),
    ],
)
def test_the_currency_check_would_notice_an_edited_proto(
    tmp_path: Path, stem: str, old: str, new: str
) -> None:
    for proto in (*generate.MESSAGE_PROTOS, generate.STATUS_PROTO):
        copy = tmp_path / "src" / proto
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text((ROOT / proto).read_text())
    edited = tmp_path / "src" / f"{generate.PACKAGE}/zitadel/{stem}.proto"
    text = edited.read_text()
    assert old in text
    edited.write_text(text.replace(old, new))
    generate.generate(tmp_path / "out", root=tmp_path / "src")
    name = f"zitadel_proto/zitadel/{stem}_pb2.py"
    assert (tmp_path / "out" / name).read_bytes() != (ROOT / name).read_bytes()


def fields(message: type) -> dict[str, tuple[int, int]]:
    return {f.name: (f.number, f.type) for f in message.DESCRIPTOR.fields}  # type: ignore[attr-defined]


def test_messages_carry_zitadels_names_and_field_numbers() -> None:
    t = FieldDescriptor
    assert management_pb2.RegenerateOIDCClientSecretRequest.DESCRIPTOR.full_name == (
        "zitadel.management.v1.RegenerateOIDCClientSecretRequest"
    )
    assert fields(management_pb2.RegenerateOIDCClientSecretRequest) == {
        "project_id": (1, t.TYPE_STRING),
        "app_id": (2, t.TYPE_STRING),
    }
    assert fields(management_pb2.RegenerateOIDCClientSecretResponse) == {
        "client_secret": (1, t.TYPE_STRING),
        "details": (2, t.TYPE_MESSAGE),
    }
    assert object_pb2.ObjectDetails.DESCRIPTOR.full_name == "zitadel.v1.ObjectDetails"
    assert fields(object_pb2.ObjectDetails) == {
        "sequence": (1, t.TYPE_UINT64),
        "creation_date": (2, t.TYPE_MESSAGE),
        "change_date": (3, t.TYPE_MESSAGE),
        "resource_owner": (4, t.TYPE_STRING),
    }
    assert message_pb2.ErrorDetail.DESCRIPTOR.full_name == "zitadel.v1.ErrorDetail"
    assert fields(message_pb2.ErrorDetail) == {
        "id": (1, t.TYPE_STRING),
        "message": (2, t.TYPE_STRING),
    }


def test_the_service_names_zitadels_method_path() -> None:
    service = management_pb2.DESCRIPTOR.services_by_name["ManagementService"]
    method = service.methods_by_name["RegenerateOIDCClientSecret"]
    assert f"/{service.full_name}/{method.name}" == METHOD_PATH
    assert method.input_type.full_name.endswith("RegenerateOIDCClientSecretRequest")


def test_v2_generate_client_secret_carries_zitadels_names_and_field_numbers() -> None:
    t = FieldDescriptor
    assert application_v2_pb2.DESCRIPTOR.package == "zitadel.application.v2"
    request = application_v2_pb2.GenerateClientSecretRequest
    response = application_v2_pb2.GenerateClientSecretResponse
    assert request.DESCRIPTOR.full_name == "zitadel.application.v2.GenerateClientSecretRequest"
    assert response.DESCRIPTOR.full_name == "zitadel.application.v2.GenerateClientSecretResponse"
    assert fields(request) == {
        "application_id": (1, t.TYPE_STRING),
        "project_id": (2, t.TYPE_STRING),
    }
    assert fields(response) == {
        "client_secret": (1, t.TYPE_STRING),
        "creation_date": (2, t.TYPE_MESSAGE),
    }
    timestamp = response.DESCRIPTOR.fields_by_name["creation_date"].message_type
    assert timestamp is not None
    assert timestamp.full_name == "google.protobuf.Timestamp"
    assert request.DESCRIPTOR.oneofs == []


def test_v2beta_regenerate_client_secret_carries_zitadels_names_and_field_numbers() -> None:
    t = FieldDescriptor
    assert app_v2beta_pb2.DESCRIPTOR.package == "zitadel.app.v2beta"
    request = app_v2beta_pb2.RegenerateClientSecretRequest
    response = app_v2beta_pb2.RegenerateClientSecretResponse
    assert request.DESCRIPTOR.full_name == "zitadel.app.v2beta.RegenerateClientSecretRequest"
    assert response.DESCRIPTOR.full_name == "zitadel.app.v2beta.RegenerateClientSecretResponse"
    assert fields(request) == {
        "project_id": (1, t.TYPE_STRING),
        "application_id": (2, t.TYPE_STRING),
        "is_oidc": (3, t.TYPE_BOOL),
        "is_api": (4, t.TYPE_BOOL),
    }
    assert fields(response) == {
        "client_secret": (1, t.TYPE_STRING),
        "creation_date": (2, t.TYPE_MESSAGE),
    }
    timestamp = response.DESCRIPTOR.fields_by_name["creation_date"].message_type
    assert timestamp is not None
    assert timestamp.full_name == "google.protobuf.Timestamp"


def test_v2beta_app_type_is_a_oneof_of_is_oidc_and_is_api() -> None:
    oneofs = app_v2beta_pb2.RegenerateClientSecretRequest.DESCRIPTOR.oneofs
    assert [(o.name, [f.name for f in o.fields]) for o in oneofs] == [
        ("app_type", ["is_oidc", "is_api"])
    ]


def test_v2beta_oneof_member_set_to_false_is_still_present() -> None:
    request = app_v2beta_pb2.RegenerateClientSecretRequest(is_oidc=False)
    assert request.WhichOneof("app_type") == "is_oidc"
    assert request.SerializeToString() == b"\x18\x00"
    parsed = json_format.Parse('{"isOidc": false}', app_v2beta_pb2.RegenerateClientSecretRequest())
    assert parsed.WhichOneof("app_type") == "is_oidc"


def test_v2_and_v2beta_requests_put_the_ids_in_opposite_field_numbers() -> None:
    v2 = application_v2_pb2.GenerateClientSecretRequest(application_id="a", project_id="p")
    beta = app_v2beta_pb2.RegenerateClientSecretRequest(application_id="a", project_id="p")
    assert v2.SerializeToString() == b"\x0a\x01a\x12\x01p"
    assert beta.SerializeToString() == b"\x0a\x01p\x12\x01a"


def test_v2_json_names_are_zitadels_camel_case() -> None:
    response = application_v2_pb2.GenerateClientSecretResponse(client_secret="s")
    response.creation_date.FromJsonString("2025-11-27T10:15:30.123456Z")
    assert json_format.MessageToDict(response) == {
        "clientSecret": "s",
        "creationDate": "2025-11-27T10:15:30.123456Z",
    }
    beta = app_v2beta_pb2.RegenerateClientSecretRequest.DESCRIPTOR
    assert [f.json_name for f in beta.fields] == ["projectId", "applicationId", "isOidc", "isApi"]


@pytest.mark.parametrize(
    ("module", "service_name", "method_name", "path"),
    [
        (
            application_v2_pb2.DESCRIPTOR,
            "ApplicationService",
            "GenerateClientSecret",
            "/zitadel.application.v2.ApplicationService/GenerateClientSecret",
        ),
        (
            app_v2beta_pb2.DESCRIPTOR,
            "AppService",
            "RegenerateClientSecret",
            "/zitadel.app.v2beta.AppService/RegenerateClientSecret",
        ),
    ],
)
def test_v2_services_name_zitadels_method_paths(
    module: FileDescriptor, service_name: str, method_name: str, path: str
) -> None:
    service = module.services_by_name[service_name]
    assert list(service.methods_by_name) == [method_name]
    method = service.methods_by_name[method_name]
    assert f"/{service.full_name}/{method.name}" == path
    assert method.input_type.name == method_name + "Request"
    assert method.output_type.name == method_name + "Response"
    assert not method.client_streaming
    assert not method.server_streaming


def test_method_path_constants_are_zitadels() -> None:
    assert methods.V2_GENERATE_CLIENT_SECRET == (
        "/zitadel.application.v2.ApplicationService/GenerateClientSecret"
    )
    assert methods.V2BETA_REGENERATE_CLIENT_SECRET == (
        "/zitadel.app.v2beta.AppService/RegenerateClientSecret"
    )
    assert methods.V2_PREFIX == "/zitadel.application.v2.ApplicationService/"
    assert methods.V2BETA_PREFIX == "/zitadel.app.v2beta.AppService/"
    assert methods.V1_REGENERATE_OIDC_CLIENT_SECRET == METHOD_PATH


def test_the_generator_covers_the_v2_protos() -> None:
    names = generate.generated_files()
    for stem in ("application_v2", "app_v2beta"):
        assert f"{generate.PACKAGE}/zitadel/{stem}.proto" in generate.MESSAGE_PROTOS
        assert f"zitadel_proto/zitadel/{stem}_pb2.py" in names
        assert f"zitadel_proto/zitadel/{stem}_pb2.pyi" in names


def test_status_round_trips_with_the_error_detail_packed_as_any() -> None:
    detail = message_pb2.ErrorDetail(id="AUTH-7fs1e", message="Errors.Token.Invalid")
    status = decode_status(encode_status(16, "Errors.Token.Invalid (AUTH-7fs1e)", (detail,)))
    assert (status.code, status.message, status.error_details) == (
        16,
        "Errors.Token.Invalid (AUTH-7fs1e)",
        [detail],
    )
    assert ERROR_DETAIL_TYPE_URL == "type.googleapis.com/zitadel.v1.ErrorDetail"


def test_status_keeps_details_of_unknown_types() -> None:
    # google.rpc.Status{code: 5, details: [Any{type_url: "type.googleapis.com/x.Y", value: "\x01"}]}
    raw = bytes.fromhex("0805") + b"\x1a\x1c\n\x17type.googleapis.com/x.Y\x12\x01\x01"
    assert decode_status(raw).details == (AnyDetail("type.googleapis.com/x.Y", b"\x01"),)


def test_status_stays_out_of_protobufs_default_pool() -> None:
    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("google.rpc.Status")
