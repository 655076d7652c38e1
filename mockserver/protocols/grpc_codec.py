"""The gRPC codec, for native gRPC and gRPC-web alike: method, metadata and message bytes in, a
:class:`Reply` out.

It knows protobuf, not HTTP (:mod:`zitadel_mock.protocols.grpc_app` does the framing) and not a
check: :func:`check_method` finds the operation of a method path as grpc-go routes,
:meth:`GrpcAdapter.parse` reads its request message, :meth:`GrpcAdapter.run` turns the message
and metadata into a :class:`~zitadel_mock.operations.operation.Call`, runs the operation and
encodes what it gives. Every failure is a :class:`~zitadel_mock.domain.errors.MockError` row,
rendered by :func:`error_reply` as gRPC carries it: ``grpc-status``, ``grpc-message``
(percent-encoded) and, for ZITADEL's own errors, ``grpc-status-details-bin`` holding a
google.rpc.Status with the zitadel.v1.ErrorDetail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import NamedTuple

from google.protobuf.message import DecodeError, Message

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import Code, MockError
from zitadel_mock.domain.headers import ORG_HEADER
from zitadel_mock.operations.operation import Call, Operation
from zitadel_mock.operations.registry import BY_METHOD
from zitadel_mock.operations.service import SecretService
from zitadel_proto.status import encode_status
from zitadel_proto.wire import STATUS_DETAILS_HEADER, encode_binary_header, encode_grpc_message
from zitadel_proto.zitadel.message_pb2 import ErrorDetail

log = logging.getLogger("zitadel_mock.protocols.grpc")

Metadata = Mapping[str, str]


class Reply(NamedTuple):
    """The outcome of one call: a status, and the serialized response message on success (a
    tuple, not a frozen dataclass: made for every call, it is cheaper)."""

    code: Code
    message: str = ""
    details: bytes | None = None  # a serialized google.rpc.Status
    payload: bytes | None = None
    http_status: int = 200

    def trailers(self) -> list[tuple[str, str]]:
        """``grpc-status``, then ``grpc-message`` and the details when there are any."""
        out = [("grpc-status", str(int(self.code)))]
        if self.message:
            out.append(("grpc-message", encode_grpc_message(self.message)))
        if self.details is not None:
            out.append((STATUS_DETAILS_HEADER, encode_binary_header(self.details)))
        return out


def error_reply(error: MockError) -> Reply:
    detail = error.detail
    details = None
    if detail is not None:
        packed = ErrorDetail(id=detail[0], message=detail[1])
        details = encode_status(int(error.code), error.message, (packed,))
    # Only the answers grpc-go gives before any gRPC response have an HTTP status of their own.
    return Reply(error.code, error.message, details, http_status=error.row.http_status or 200)


def check_method(path: str, operations: Mapping[str, Operation] = BY_METHOD) -> Operation:
    """grpc-go's routing: the operation of ``path``; UNIMPLEMENTED for a malformed or unknown
    method, or one the mock does not serve."""
    operation = operations.get(path)  # the usual case: a served method's own path
    if operation is not None:
        return operation
    name = path[1:] if path.startswith("/") else path
    service, slash, method = name.rpartition("/")
    if not slash:
        raise MockError(errors.GRPC_MALFORMED_METHOD, path=json.dumps(path))
    operation = operations.get(f"/{name}")
    if operation is not None:
        return operation
    if all(op.service_name != service for op in operations.values()):
        raise MockError(errors.GRPC_UNKNOWN_SERVICE, service=service)
    raise MockError(errors.GRPC_UNKNOWN_METHOD, method=method, service=service)


class GrpcAdapter:
    def __init__(
        self, service: SecretService, operations: Mapping[str, Operation] = BY_METHOD
    ) -> None:
        self.service = service
        self.operations = operations

    def parse(self, path: str, request: bytes) -> Message:
        """The request message of the method at ``path``; garbage is grpc-go's unmarshalling
        error (INTERNAL)."""
        operation = check_method(path, self.operations)
        try:
            return operation.request.FromString(request)
        except DecodeError:
            raise MockError(
                errors.GRPC_BAD_MESSAGE, reason="proto: cannot parse invalid wire-format data"
            ) from None

    async def run(self, path: str, message: Message, metadata: Metadata, ns: str) -> Reply:
        """Run one unary call in namespace ``ns``; never raises for anything a client sends."""
        try:
            operation = check_method(path, self.operations)
            call = Call(message, metadata.get("authorization"), metadata.get(ORG_HEADER), ns)
            success = operation.run(self.service, call)
        except MockError as error:
            return error_reply(error)
        except Exception as exc:
            log.exception("unexpected failure in a gRPC call")
            return error_reply(MockError(errors.INTERNAL, reason=type(exc).__name__))
        return Reply(Code.OK, payload=success.message.SerializeToString())
