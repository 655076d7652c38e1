"""google.rpc.Status as gRPC carries it in ``grpc-status-details-bin``, with ZITADEL's detail.

Our ``google/rpc/status.proto`` is loaded into a descriptor pool of its own: other packages
(googleapis-common-protos, grpcio-status) register their own google.rpc.Status in protobuf's
default pool, and two different files defining one name there refuse to load together.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Final

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message, message_factory

from zitadel_proto.zitadel.message_pb2 import ErrorDetail

TYPE_URL_PREFIX: Final = "type.googleapis.com/"
ERROR_DETAIL_TYPE_URL: Final = TYPE_URL_PREFIX + ErrorDetail.DESCRIPTOR.full_name


def _status_class() -> type[message.Message]:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(descriptor_pb2.FileDescriptorProto.FromString(any_pb2.DESCRIPTOR.serialized_pb))
    blob = resources.files(__package__).joinpath("google/rpc/status.binpb").read_bytes()
    for file in descriptor_pb2.FileDescriptorSet.FromString(blob).file:
        pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("google.rpc.Status"))


_STATUS: Final = _status_class()


@dataclass(frozen=True, slots=True)
class AnyDetail:
    """A detail of a type this package does not know, kept as it came."""

    type_url: str
    value: bytes


@dataclass(frozen=True, slots=True)
class RpcStatus:
    """A decoded google.rpc.Status. ``details`` holds ErrorDetails and unknown Anys, in order."""

    code: int
    message: str
    details: tuple[ErrorDetail | AnyDetail, ...] = ()

    @property
    def error_details(self) -> list[ErrorDetail]:
        return [d for d in self.details if isinstance(d, ErrorDetail)]


def encode_status(code: int, text: str, details: tuple[ErrorDetail, ...] = ()) -> bytes:
    """Serialize a google.rpc.Status with each detail packed as an Any."""
    status = _STATUS(code=code, message=text)
    for detail in details:
        packed = status.details.add()  # type: ignore[attr-defined]
        packed.type_url = ERROR_DETAIL_TYPE_URL
        packed.value = detail.SerializeToString()
    return status.SerializeToString()


def decode_status(data: bytes) -> RpcStatus:
    """Parse a serialized google.rpc.Status; raises ``message.DecodeError`` if it is not one."""
    status = _STATUS.FromString(data)
    details: list[ErrorDetail | AnyDetail] = []
    for packed in status.details:  # type: ignore[attr-defined]
        type_url, value = str(packed.type_url), bytes(packed.value)
        if type_url == ERROR_DETAIL_TYPE_URL:
            details.append(ErrorDetail.FromString(value))
        else:
            details.append(AnyDetail(type_url, value))
    return RpcStatus(int(status.code), str(status.message), tuple(details))  # type: ignore[attr-defined]
