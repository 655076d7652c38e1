"""The gRPC codec serves whatever operations it is given, found by method path: a new operation
needs no change to it."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf.message import Message

from zitadel_mock.domain import errors
from zitadel_mock.domain.client_secrets import SecretGenerator, seeded_random_bytes
from zitadel_mock.domain.clock import SteppingClock
from zitadel_mock.domain.errors import Code, MockError
from zitadel_mock.fixtures.loader import demo_fixtures
from zitadel_mock.operations.operation import Field, Operation, Progress, validate
from zitadel_mock.operations.service import SecretService
from zitadel_mock.protocols.grpc_codec import GrpcAdapter, check_method
from zitadel_mock.state.store import Store
from zitadel_proto.methods import V1_REGENERATE_OIDC_CLIENT_SECRET, V2_GENERATE_CLIENT_SECRET
from zitadel_proto.zitadel.application_v2_pb2 import (
    GenerateClientSecretRequest,
    GenerateClientSecretResponse,
)


def echo_ids(progress: Progress) -> Message:
    """A stand-in success: the ids it was called with (no secret involved)."""
    ids = f"{progress.call.get('application_id')}/{progress.call.get('project_id')}"
    return GenerateClientSecretResponse(client_secret=ids)


TOY: Operation = Operation(
    method=V2_GENERATE_CLIENT_SECRET,
    request=GenerateClientSecretRequest,
    response=GenerateClientSecretResponse,
    fields=(
        Field("application_id", "applicationId", 1, 3),
        Field("project_id", "projectId", 1, 3),
    ),
    steps=(validate,),
    success=echo_ids,
)


def adapter() -> GrpcAdapter:
    store = Store()
    store.load(demo_fixtures())
    service = SecretService(store, SecretGenerator(seeded_random_bytes(0)), SteppingClock())
    return GrpcAdapter(service, {TOY.method: TOY})


def test_an_operation_at_another_path_is_decoded_run_and_encoded() -> None:
    grpc = adapter()
    request = GenerateClientSecretRequest(application_id="a", project_id="p").SerializeToString()
    message = grpc.parse(TOY.method, request)
    reply = asyncio.run(grpc.run(TOY.method, message, {}, ""))
    assert reply.code is Code.OK
    assert reply.payload is not None
    assert GenerateClientSecretResponse.FromString(reply.payload).client_secret == "a/p"


def test_its_own_check_order_and_message_name_apply() -> None:
    grpc = adapter()
    message = grpc.parse(
        TOY.method, GenerateClientSecretRequest(project_id="p").SerializeToString()
    )
    reply = asyncio.run(grpc.run(TOY.method, message, {}, ""))
    assert reply.code is Code.INVALID_ARGUMENT
    assert reply.message == (
        "invalid GenerateClientSecretRequest.ApplicationId:"
        " value length must be between 1 and 3 runes, inclusive"
    )


def test_a_path_of_no_given_operation_is_unimplemented() -> None:
    with pytest.raises(MockError) as caught:
        check_method(V1_REGENERATE_OIDC_CLIENT_SECRET, {TOY.method: TOY})
    assert caught.value.row is errors.GRPC_UNKNOWN_SERVICE
    with pytest.raises(MockError) as caught:
        check_method("/zitadel.application.v2.ApplicationService/Other", {TOY.method: TOY})
    assert caught.value.row is errors.GRPC_UNKNOWN_METHOD
