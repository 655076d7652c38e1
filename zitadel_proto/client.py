"""Calling RegenerateOIDCClientSecret over native gRPC (grpcio) or gRPC-web (httpx).

Both return the same :class:`Outcome`, so that a check can run over either transport and
compare: the gRPC status, its message, the ErrorDetails from ``grpc-status-details-bin``, and
the response on success. The client secret inside ``response`` is kept out of the repr.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc
import httpx

from zitadel_proto.status import RpcStatus, decode_status
from zitadel_proto.wire import (
    METHOD_PATH,
    STATUS_DETAILS_HEADER,
    Wire,
    decode_binary_header,
    decode_grpc_message,
    decode_web_text,
    encode_frame,
    encode_web_text,
    parse_trailer_block,
    split_frames,
)
from zitadel_proto.zitadel.management_pb2 import (
    RegenerateOIDCClientSecretRequest,
    RegenerateOIDCClientSecretResponse,
)
from zitadel_proto.zitadel.message_pb2 import ErrorDetail

Pairs = Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a call came back with. ``code`` 0 means success and ``response`` is set."""

    code: int
    message: str
    details: tuple[ErrorDetail, ...] = ()
    response: RegenerateOIDCClientSecretResponse | None = field(default=None, repr=False)

    @classmethod
    def of_status(cls, code: int, message: str, details_bin: bytes | None) -> Outcome:
        status = decode_status(details_bin) if details_bin else RpcStatus(code, message)
        return cls(code, message, tuple(status.error_details))


def metadata(
    token: str | None, org_id: str | None = None, *extra: tuple[str, str]
) -> list[tuple[str, str]]:
    """``authorization: Bearer <token>`` and ``x-zitadel-orgid`` as ZITADEL reads them."""
    pairs = [] if token is None else [("authorization", f"Bearer {token}")]
    if org_id is not None:
        pairs.append(("x-zitadel-orgid", org_id))
    return [*pairs, *extra]


def request_bytes(project_id: str, app_id: str) -> bytes:
    return RegenerateOIDCClientSecretRequest(
        project_id=project_id, app_id=app_id
    ).SerializeToString()


def call_grpc(
    channel: grpc.Channel,
    project_id: str,
    app_id: str,
    *,
    pairs: Pairs = (),
    timeout: float = 10.0,
    method: str = METHOD_PATH,
) -> Outcome:
    """One call over native gRPC on ``channel`` (e.g. ``grpc.insecure_channel("host:port")``)."""
    stub = channel.unary_unary(
        method,
        request_serializer=lambda raw: raw,
        response_deserializer=lambda raw: raw,
    )
    try:
        raw = stub(request_bytes(project_id, app_id), metadata=tuple(pairs), timeout=timeout)
    except grpc.RpcError as error:
        call: grpc.Call = error  # type: ignore[assignment]  # grpcio raises errors that are Calls
        details_bin = None
        for key, value in call.trailing_metadata() or ():
            if key == STATUS_DETAILS_HEADER and isinstance(value, bytes):
                details_bin = value
        code: grpc.StatusCode = call.code()
        return Outcome.of_status(code.value[0], call.details() or "", details_bin)
    return Outcome(0, "", response=RegenerateOIDCClientSecretResponse.FromString(raw))


def call_grpc_web(
    client: httpx.Client,
    project_id: str,
    app_id: str,
    *,
    pairs: Pairs = (),
    text: bool = False,
    method: str = METHOD_PATH,
) -> Outcome:
    """One call over gRPC-web (binary, or base64 ``-text``) with ``client``'s base URL."""
    wire = Wire.GRPC_WEB_TEXT if text else Wire.GRPC_WEB
    body = encode_frame(request_bytes(project_id, app_id))
    headers = [("content-type", f"{wire.value}+proto"), ("x-grpc-web", "1"), *pairs]
    response = client.post(method, content=encode_web_text(body) if text else body, headers=headers)
    return parse_grpc_web(response)


def parse_grpc_web(response: httpx.Response) -> Outcome:
    """A gRPC-web answer: trailers from the trailer frame, or from the headers if trailers-only."""
    body = response.content
    if response.headers.get("content-type", "").startswith(Wire.GRPC_WEB_TEXT.value):
        body = decode_web_text(body)
    frames, rest = split_frames(body)
    if rest:
        raise ValueError(f"gRPC-web body ends inside a frame ({len(rest)} bytes left over)")
    trailers = {k.lower(): v for k, v in response.headers.items()}
    messages = [f.payload for f in frames if not f.is_trailer]
    for frame in frames:
        if frame.is_trailer:
            trailers.update(parse_trailer_block(frame.payload))
    if "grpc-status" not in trailers:
        raise ValueError(f"no grpc-status in the answer (HTTP {response.status_code})")
    code = int(trailers["grpc-status"])
    if code != 0:
        details = trailers.get(STATUS_DETAILS_HEADER)
        return Outcome.of_status(
            code,
            decode_grpc_message(trailers.get("grpc-message", "")),
            decode_binary_header(details) if details else None,
        )
    if len(messages) != 1:
        raise ValueError(f"a unary success must carry one message, not {len(messages)}")
    return Outcome(0, "", response=RegenerateOIDCClientSecretResponse.FromString(messages[0]))
