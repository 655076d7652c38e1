"""The ``grpc``, ``grpc-web`` and ``grpc-web-text`` transports: the call as ZITADEL's gRPC clients
make it.

``grpc`` speaks native gRPC with grpcio (HTTP/2; cleartext for an ``http://`` target, TLS with the
system's roots for ``https://``); ``grpc-web`` and ``grpc-web-text`` speak gRPC-web with httpx, in
binary or base64 frames. Metadata ``authorization`` and ``x-zitadel-orgid`` carry what the REST
headers carry. Answers are read by :mod:`zitadel_contract.transports.grpc_reply` (and
:mod:`zitadel_contract.transports.grpc_web_reply`). A call only REST can express (a raw
body, another HTTP method, another path) is answered with :class:`NotApplicableError`.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from typing import cast
from urllib.parse import urlsplit

import grpc

from zitadel_contract.model import Call, NotApplicableError, Reply
from zitadel_contract.provision import Target
from zitadel_contract.transports.grpc_reply import status_reply, success_reply
from zitadel_contract.transports.grpc_web_reply import read_grpc_web
from zitadel_contract.transports.http_client import http_client
from zitadel_contract.transports.rest import authorization_of, curl_headers
from zitadel_contract.transports.shell import PRINTABLE as _PRINTABLE
from zitadel_contract.transports.shell import printf_words
from zitadel_contract.transports.versions import api_of
from zitadel_proto.client import metadata
from zitadel_proto.wire import (
    STATUS_DETAILS_HEADER,
    Wire,
    encode_frame,
    encode_web_text,
)

Pairs = list[tuple[str, str]]


def call_metadata(call: Call, target: Target) -> Pairs:
    """``authorization`` and ``x-zitadel-orgid`` as gRPC metadata.

    HTTP/2 refuses a header value with control characters, non-ASCII bytes or whitespace at
    either end, so such a value cannot be sent at all: NotApplicableError.
    """
    authorization = authorization_of(call, target)
    pairs = metadata(None, call.org_id)
    if authorization is not None:
        pairs.insert(0, ("authorization", authorization))
    for name, value in pairs:
        if value != value.strip() or not set(value.encode("utf-8")) <= _PRINTABLE:
            raise NotApplicableError(f"{name} {value[:40]!r} is no valid HTTP/2 header value")
    return pairs


class GrpcTransport:
    """Native gRPC through one grpcio channel per run."""

    name = "grpc"

    def __init__(self, target: Target, timeout: float) -> None:
        self.target = target
        self.api = api_of(target.api)
        self.timeout = timeout
        self.requests = 0
        parts = urlsplit(target.url)
        self.tls = parts.scheme == "https"
        host = parts.hostname or "localhost"
        host = f"[{host}]" if ":" in host else host
        address = f"{host}:{parts.port or (443 if self.tls else 80)}"
        if self.tls:
            self.channel = grpc.secure_channel(address, grpc.ssl_channel_credentials())
        else:
            self.channel = grpc.insecure_channel(address)
        self.stub = self.channel.unary_unary(
            self.api.method_path,
            request_serializer=lambda raw: raw,
            response_deserializer=lambda raw: raw,
        )

    def call(self, call: Call) -> Reply:
        request = self.api.request_message(call)
        pairs = call_metadata(call, self.target)
        self.requests += 1
        try:
            raw, _ = self.stub.with_call(request, metadata=tuple(pairs), timeout=self.timeout)
        except grpc.RpcError as error:
            failed = cast(grpc.Call, error)  # grpcio raises errors that are Calls
            details = None
            for key, value in failed.trailing_metadata() or ():
                if key == STATUS_DETAILS_HEADER and isinstance(value, bytes):
                    details = value
            code = failed.code().value[0]
            received = datetime.now(UTC)
            return status_reply(code, failed.details() or "", details, received, [])
        return success_reply(raw, datetime.now(UTC), [], self.api.name)

    def reproduce(self, call: Call) -> str:
        """printf the request frame into curl over HTTP/2; the status shows in the trailers."""
        headers = [("content-type", Wire.GRPC.value), ("te", "trailers")]
        headers += call_metadata(call, self.target)
        words = printf_words(encode_frame(self.api.request_message(call)))
        words += ["|", "curl", "-sS", "--http2" if self.tls else "--http2-prior-knowledge"]
        words += ["-X", "POST", shlex.quote(self.target.url + self.api.method_path)]
        words += curl_headers(headers, call.credential)
        words += ["--data-binary", "@-", "-D", "-", "-o", "/dev/null"]
        return " ".join(words)

    def close(self) -> None:
        self.channel.close()


class GrpcWebTransport:
    """gRPC-web in binary frames over HTTP/1.1 with httpx, as a browser's client sends it."""

    name = "grpc-web"
    wire = Wire.GRPC_WEB

    def __init__(self, target: Target, timeout: float) -> None:
        self.target = target
        self.api = api_of(target.api)
        self.client = http_client(target.url, timeout, follow_redirects=False)
        self.requests = 0

    def _parts(self, call: Call) -> tuple[Pairs, bytes]:
        body = encode_frame(self.api.request_message(call))
        headers = [("content-type", f"{self.wire.value}+proto"), ("x-grpc-web", "1")]
        if self.wire is Wire.GRPC_WEB_TEXT:
            headers.append(("accept", self.wire.value))
            body = encode_web_text(body)
        return [*headers, *call_metadata(call, self.target)], body

    def call(self, call: Call) -> Reply:
        headers, body = self._parts(call)
        response = self.client.post(self.api.method_path, content=body, headers=headers)
        self.requests += 1
        lowered = {k.lower(): v for k, v in response.headers.items()}
        return read_grpc_web(lowered, response.content, self.wire, datetime.now(UTC), self.api.name)

    def reproduce(self, call: Call) -> str:
        """A curl line; binary frames are written by printf and shown by od."""
        headers, body = self._parts(call)
        url = shlex.quote(self.target.url + self.api.method_path)
        words = ["curl", "-sS", "-i", "-X", "POST", url]
        words += curl_headers(headers, call.credential)
        if self.wire is Wire.GRPC_WEB_TEXT:
            return " ".join([*words, "--data-binary", shlex.quote(body.decode("ascii"))])
        return " ".join([*printf_words(body), "|", *words, "--data-binary", "@-", "|", "od", "-c"])

    def close(self) -> None:
        self.client.close()


class GrpcWebTextTransport(GrpcWebTransport):
    """gRPC-web with base64 (``application/grpc-web-text``) bodies both ways."""

    name = "grpc-web-text"
    wire = Wire.GRPC_WEB_TEXT
