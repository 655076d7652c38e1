"""The JSON codecs write messages exactly as protobuf's own protojson writer does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import fuzz_examples
from zitadel_mock.protocols.protojson import document
from zitadel_proto.zitadel.app_v2beta_pb2 import RegenerateClientSecretResponse
from zitadel_proto.zitadel.application_v2_pb2 import GenerateClientSecretResponse
from zitadel_proto.zitadel.management_pb2 import RegenerateOIDCClientSecretResponse
from zitadel_proto.zitadel.message_pb2 import ErrorDetail
from zitadel_proto.zitadel.object_pb2 import ObjectDetails

instants = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)
).map(lambda moment: moment.replace(tzinfo=UTC))
maybe_instants = st.one_of(st.none(), instants, instants.map(lambda m: m.replace(microsecond=0)))


def stamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    out = Timestamp()
    out.FromDatetime(moment)
    return out


@st.composite
def messages(draw: st.DrawFn) -> Message:
    text = st.text(max_size=12)
    kind = draw(st.sampled_from(("v1", "v2", "v2beta", "detail")))
    if kind == "v1":
        return RegenerateOIDCClientSecretResponse(
            client_secret=draw(text),
            details=ObjectDetails(
                sequence=draw(st.integers(0, 2**64 - 1)),
                creation_date=stamp(draw(maybe_instants)),
                change_date=stamp(draw(maybe_instants)),
                resource_owner=draw(text),
            )
            if draw(st.booleans())
            else None,
        )
    if kind == "detail":
        return ErrorDetail(id=draw(text), message=draw(text))
    response = GenerateClientSecretResponse if kind == "v2" else RegenerateClientSecretResponse
    return response(client_secret=draw(text), creation_date=stamp(draw(maybe_instants)))


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(200))
@given(message=messages())
def test_a_message_is_written_as_json_format_writes_it(message: Message) -> None:
    assert document(message) == json_format.MessageToDict(message)


def test_zero_values_are_left_out_and_uint64_is_a_string() -> None:
    message = RegenerateOIDCClientSecretResponse(details=ObjectDetails(sequence=2**64 - 1))
    assert document(message) == {"details": {"sequence": "18446744073709551615"}}


def test_a_timestamp_finer_than_a_microsecond_is_refused() -> None:
    message = GenerateClientSecretResponse(creation_date=Timestamp(seconds=1, nanos=1))
    with pytest.raises(NotImplementedError):
        document(message)
