"""The neutral gRPC package: our protos carry ZITADEL's names and numbers, and are current."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor

from zitadel_proto import generate
from zitadel_proto.status import ERROR_DETAIL_TYPE_URL, AnyDetail, decode_status, encode_status
from zitadel_proto.wire import METHOD_PATH
from zitadel_proto.zitadel import management_pb2, message_pb2, object_pb2

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_is_what_the_protos_generate(tmp_path: Path) -> None:
    generate.generate(tmp_path)
    stale = [
        name
        for name in generate.generated_files()
        if (tmp_path / name).read_bytes() != (ROOT / name).read_bytes()
    ]
    assert stale == [], "run `python -m zitadel_proto.generate` and commit the result"


def test_the_currency_check_would_notice_an_edited_proto(tmp_path: Path) -> None:
    for proto in (*generate.MESSAGE_PROTOS, generate.STATUS_PROTO):
        copy = tmp_path / "src" / proto
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text((ROOT / proto).read_text())
    edited = tmp_path / "src" / generate.MESSAGE_PROTOS[1]
    edited.write_text(edited.read_text().replace("message = 2;", "message = 3;"))
    generate.generate(tmp_path / "out", root=tmp_path / "src")
    name = "zitadel_proto/zitadel/message_pb2.py"
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
