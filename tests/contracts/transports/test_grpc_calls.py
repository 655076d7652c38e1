"""The gRPC transports against the mock: what they send, how they connect, what they refuse."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from tests.conftest import ACME, PORTAL, WEB, LiveServer
from zitadel_contract.model import Call, Credential, NotApplicableError
from zitadel_contract.provision import Target
from zitadel_contract.transports.grpc_calls import GrpcTransport, call_metadata
from zitadel_contract.transports.grpc_reply import request_message
from zitadel_contract.transports.registry import open_transport
from zitadel_contract.transports.shell import printf_words
from zitadel_proto.wire import encode_frame


def target(url: str) -> Target:
    return Target(url, PORTAL, WEB, "admin-pat", org_id=ACME, no_permission_token="acme-viewer-pat")


@pytest.mark.parametrize("name", ["grpc", "grpc-web", "grpc-web-text"])
def test_a_rotation_reads_back_as_the_same_reply_over_each_wire(
    server: LiveServer, name: str
) -> None:
    transport = open_transport(name, target(server.url), 10)
    try:
        reply = transport.call(Call(PORTAL, WEB, org_id=ACME))
    finally:
        transport.close()
    assert (reply.code, reply.problems, reply.status) == (0, (), None)
    assert reply.rotation is not None
    assert reply.rotation.resource_owner == ACME


@pytest.mark.parametrize(
    ("credential", "code"), [(Credential.NONE, 16), (Credential.NO_PERMISSION, 7)]
)
def test_metadata_carries_the_credential_the_call_names(
    server: LiveServer, credential: Credential, code: int
) -> None:
    transport = GrpcTransport(target(server.url), 10)
    try:
        reply = transport.call(Call(PORTAL, WEB, credential=credential, org_id=ACME))
    finally:
        transport.close()
    assert (reply.code, reply.problems) == (code, ())


def test_an_https_target_is_called_over_tls(server: LiveServer) -> None:
    """The mock speaks cleartext, so a TLS handshake with it fails: TLS was tried."""
    transport = GrpcTransport(target(f"https://127.0.0.1:{server.port}"), 10)
    try:
        reply = transport.call(Call(PORTAL, WEB, org_id=ACME))
    finally:
        transport.close()
    assert reply.code == 14
    assert "handshake" in reply.message.lower()


@pytest.mark.parametrize("value", [" Bearer x", "Bearer x ", "Bearer caf\u00e9", "Bearer a\nb"])
def test_an_authorization_http2_cannot_carry_is_not_applicable(value: str) -> None:
    call = Call(PORTAL, WEB, credential=Credential.RAW, raw_authorization=value)
    with pytest.raises(NotApplicableError):
        call_metadata(call, target("http://127.0.0.1:1"))


@pytest.mark.parametrize("change", [{"raw_body": b"{}"}, {"method": "GET"}, {"path": "/x"}])
def test_a_rest_only_call_is_not_applicable(change: dict[str, object]) -> None:
    with pytest.raises(NotApplicableError):
        request_message(Call(PORTAL, WEB, **change))  # type: ignore[arg-type]


def test_the_reproduce_lines_printf_writes_exactly_the_request_frame() -> None:
    call = Call(PORTAL, "%'\\ \x7f", extra_fields={"n": 2**40, "s": "caf\u00e9"})
    frame = encode_frame(request_message(call))
    written = subprocess.run(
        ["sh", "-c", " ".join(printf_words(frame))], capture_output=True, check=True
    ).stdout
    assert written == frame


def test_the_reproduce_line_names_the_token_by_its_variable() -> None:
    transport = GrpcTransport(target("http://127.0.0.1:1"), 1)
    line = transport.reproduce(Call(PORTAL, WEB))
    transport.close()
    assert "admin-pat" not in line
    assert '"authorization: Bearer $ZITADEL_CONTRACT_TOKEN"' in shlex.split(line, posix=False)
