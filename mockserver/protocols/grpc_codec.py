"""RegenerateOIDCClientSecret over gRPC: method, metadata and request bytes in, a Reply out.

Native gRPC and gRPC-web (:mod:`zitadel_mock.protocols.grpc_app`) share it:
:meth:`GrpcAdapter.parse` reads
the request message, :meth:`GrpcAdapter.run` runs the call; it knows protobuf and the service, not
HTTP. Every failure is a
:class:`~zitadel_mock.domain.errors.MockError` row, rendered by :func:`error_reply` as gRPC carries
it: ``grpc-status``, ``grpc-message`` (percent-encoded) and, for ZITADEL's own errors,
``grpc-status-details-bin`` holding a google.rpc.Status with the zitadel.v1.ErrorDetail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from google.protobuf.timestamp_pb2 import Timestamp

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import Code, MockError
from zitadel_mock.operations.service import Regenerated, SecretService
from zitadel_proto.status import encode_status
from zitadel_proto.wire import (
    METHOD,
    SERVICE,
    STATUS_DETAILS_HEADER,
    encode_binary_header,
    encode_grpc_message,
)
from zitadel_proto.zitadel.management_pb2 import (
    RegenerateOIDCClientSecretRequest,
    RegenerateOIDCClientSecretResponse,
)
from zitadel_proto.zitadel.message_pb2 import ErrorDetail
from zitadel_proto.zitadel.object_pb2 import ObjectDetails

log = logging.getLogger("zitadel_mock.protocols.grpc")

Metadata = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Reply:
    """The outcome of one call: a status, and the serialized response message on success."""

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


def success_message(result: Regenerated) -> bytes:
    """RegenerateOIDCClientSecretResponse; like ZITADEL, without a creation date."""
    change_date = Timestamp()
    change_date.FromDatetime(result.change_date)
    response = RegenerateOIDCClientSecretResponse(
        client_secret=result.client_secret,
        details=ObjectDetails(
            sequence=result.sequence,
            change_date=change_date,
            resource_owner=result.resource_owner,
        ),
    )
    return response.SerializeToString()


def check_method(path: str) -> None:
    """grpc-go's routing: UNIMPLEMENTED for a malformed, unknown or unmocked method."""
    name = path[1:] if path.startswith("/") else path
    service, slash, method = name.rpartition("/")
    if not slash:
        raise MockError(errors.GRPC_MALFORMED_METHOD, path=json.dumps(path))
    if service != SERVICE:
        raise MockError(errors.GRPC_UNKNOWN_SERVICE, service=service)
    if method != METHOD:
        raise MockError(errors.GRPC_UNKNOWN_METHOD, method=method, service=service)


class GrpcAdapter:
    def __init__(self, service: SecretService) -> None:
        self.service = service

    @staticmethod
    def parse(request: bytes) -> RegenerateOIDCClientSecretRequest:
        """The request message; garbage is grpc-go's unmarshalling error (INTERNAL)."""
        try:
            return RegenerateOIDCClientSecretRequest.FromString(request)
        except DecodeError:
            raise MockError(
                errors.GRPC_BAD_MESSAGE, reason="proto: cannot parse invalid wire-format data"
            ) from None

    async def run(
        self, message: RegenerateOIDCClientSecretRequest, metadata: Metadata, ns: str
    ) -> Reply:
        """Run one unary call in namespace ``ns``; never raises for anything a client sends."""
        try:
            result = self.service.regenerate(
                metadata.get("authorization"),
                metadata.get("x-zitadel-orgid"),
                message.project_id,
                message.app_id,
                ns,
            )
        except MockError as error:
            return error_reply(error)
        except Exception as exc:
            log.exception("unexpected failure in a gRPC call")
            return error_reply(MockError(errors.INTERNAL, reason=type(exc).__name__))
        return Reply(Code.OK, payload=success_message(result))
